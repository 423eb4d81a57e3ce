"""A randomised trial inside one DES replication: the engine's ``hazard_table`` hook per arm.

How volunteers get their arm's hazards without touching the engine:

* the compiled scenario gets two extra calendar breaks, at the trial's start and
  end (:func:`with_breaks`), so a hazard table can differ inside the window;
* when a client is created it draws, from the trial's own random stream, whether
  it is a *candidate* and for which arm. A candidate's hazard table in an
  eligible state carries its arm's hazards inside the window, so an event time
  drawn before the start already accounts for the treatment that begins at the
  start (exact, because the engine integrates the piecewise hazards);
* at the start, ``randomised`` candidates who are in an eligible state become
  the volunteers; candidates not chosen, and anyone entering an eligible state
  after the start, get the regular tables from their next event on.

The trial's stream is separate from the clients' streams, so the caseload a
trial runs in is the same (common random numbers) whatever the arms do.
"""

from __future__ import annotations

import dataclasses
from fnmatch import fnmatchcase

import numpy as np

from sim.analysis.experiment.design import CONTROL, Design
from sim.engines.simpy_engine import Model
from sim.model.compiled import Compiled

TRIAL_STREAM = 9_001  # spawn-key branch of the trial's own generator


def with_breaks(c: Compiled, times: list[float]) -> Compiled:
    """``c`` with extra calendar-segment breaks (capacities and levers carried over)."""
    edges = sorted(set(c.calendar_edges) | {t for t in times if 0 < t < c.horizon})
    old = [c.segment(t) for t in edges]
    return dataclasses.replace(
        c,
        calendar_edges=edges,
        team_slots=[[slots[j] for j in old] for slots in c.team_slots],
        team_contacts=[[contacts[j] for j in old] for contacts in c.team_contacts],
        places={s: [caps[j] for j in old] for s, caps in c.places.items()},
        _lever_cache={},
    )


class TrialModel(Model):
    """One replication of the caseload with the trial embedded."""

    def __init__(self, compiled: Compiled, design: Design, candidate_share: float, seed: int, replication: int):
        self.design = design
        self.t0 = compiled.scenario.months(design.start)
        self.t1 = self.t0 + design.months
        super().__init__(with_breaks(compiled, [self.t0, self.t1]), seed, replication)
        self.trial_rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(replication, TRIAL_STREAM)))
        )
        self.candidate_share = candidate_share
        self.eligible = {self.c.index(n) for n in design.eligible}
        self.arm_names = [a.name for a in design.arms]
        self.arm_of: dict[int, int] = {}  # client id -> arm index (candidates only)
        self.candidates: dict[int, object] = {}  # client id -> Client
        self.volunteers: dict[int, int] = {}  # client id -> arm index, chosen at the start
        self.analysed: list[int] = []
        self.events_seen: dict[str, set[int]] = {o.name: set() for o in design.outcomes if o.event}
        self.end_state: dict[int, str] = {}
        self._arm_tables: dict[tuple, list] = {}
        self._window = [self.t0 <= e < self.t1 for e in self.cal_edges]

    # -- who is in the trial ---------------------------------------------------------
    def _new_client(self, population: int, number: int):
        cl = super()._new_client(population, number)
        u, v = self.trial_rng.random(2)
        if u < self.candidate_share:
            self.arm_of[cl.id] = int(v * len(self.arm_names))
            self.candidates[cl.id] = cl
        return cl

    def run(self):
        self.env.process(self._trial())
        return super().run()

    def _trial(self):
        yield self.env.timeout(self.t0)
        eligible = sorted(cid for cid, cl in self.candidates.items() if getattr(cl, "state", None) in self.eligible)
        n = min(self.design.randomised, len(eligible))
        chosen = self.trial_rng.choice(eligible, size=n, replace=False) if n else []
        self.volunteers = {int(cid): self.arm_of[int(cid)] for cid in chosen}
        keep = min(self.design.analysed, n)
        self.analysed = sorted(int(c) for c in self.trial_rng.choice(sorted(self.volunteers), size=keep, replace=False))
        yield self.env.timeout(self.t1 - self.env.now)
        for cid in self.analysed:
            state = getattr(self.candidates[cid], "state", None)
            self.end_state[cid] = "out" if state is None else self.states[state].name

    # -- the hook ----------------------------------------------------------------------
    def hazard_table(self, cl, s: int, guided):
        arm = self.arm_of.get(cl.id)
        if arm is None or s not in self.eligible or self.arm_names[arm] == CONTROL:
            return super().hazard_table(cl, s, guided)
        if self.env.now >= self.t0 and cl.id not in self.volunteers:
            return super().hazard_table(cl, s, guided)
        key = (arm, s, guided, cl.profile)
        table = self._arm_tables.get(key)
        if table is None:
            table = self._arm_tables[key] = self._arm_table(arm, s, guided, cl.profile)
        return table

    def _arm_table(self, arm_index: int, s: int, guided, profile: int) -> list:
        arm = self.design.arms[arm_index]
        st = self.states[s]
        table = []
        for j in range(len(self.cal_edges)):
            if not self._window[j]:
                rows = self.c.segment_rates(s, guided, j, profile)
            elif arm.contacts is not None and st.team is not None:
                # the arm's own contact intensity replaces the team's (dedicated case managers or exemption)
                team = self.c.scenario.werkmatchers[self.c.teams[st.team].name]
                ref = team.reference_contacts_per_client_month.value
                base = self.c.segment_rates(s, None, j, profile)
                rows = [[h * (arm.contacts / ref) ** tr.elasticity for h, tr in zip(r, st.transitions)] for r in base]
            else:
                rows = self.c.segment_rates(s, guided, j, profile)
            if self._window[j] and arm.multipliers:
                factors = [_multiplier(arm.multipliers, f"{st.name}.{tr.name}") for tr in st.transitions]
                rows = [[h * f for h, f in zip(r, factors)] for r in rows]
            table.append((rows, [sum(r) for r in rows]))
        return table

    # -- outcomes ------------------------------------------------------------------------
    def _complete(self, cl, s: int, k: int, to: int) -> None:
        if cl.id in self.volunteers and self.t0 <= self.env.now < self.t1:
            kind = self.states[s].transitions[k].kind
            for name, seen in self.events_seen.items():
                if self._outcome(name).event == kind:
                    seen.add(cl.id)
        super()._complete(cl, s, k, to)

    def _outcome(self, name: str):
        return next(o for o in self.design.outcomes if o.name == name)

    def outcomes(self) -> dict[str, np.ndarray]:
        """Arm index and one 0/1 column per outcome, for the analysed volunteers."""
        ids = self.analysed
        out = {"arm": np.array([self.volunteers[c] for c in ids], dtype=int)}
        for o in self.design.outcomes:
            if o.event:
                out[o.name] = np.array([c in self.events_seen[o.name] for c in ids], dtype=float)
            else:
                out[o.name] = np.array([self.end_state.get(c) in o.states_at_end for c in ids], dtype=float)
        return out


def _multiplier(multipliers: dict[str, float], key: str) -> float:
    factor = 1.0
    for pattern, value in multipliers.items():
        if fnmatchcase(key, pattern):
            factor *= value
    return factor
