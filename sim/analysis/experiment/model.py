"""A randomised trial inside one DES replication: the engine's hazard tables, per arm.

How volunteers get their arm's hazards without touching the engine:

* the scenario is compiled with two extra calendar breaks, at the trial's start
  and end (:func:`compile_for_trial`), so a hazard table can differ inside the window;
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

from fnmatch import fnmatchcase

import numpy as np

from sim.analysis.experiment.design import CONTROL, Design
from sim.engines.simpy_engine import HazardTables, Model
from sim.model.compiled import Compiled, compile_scenario
from sim.model.schema import Scenario
from sim.model.streams import Stream, generator


def trial_window(scenario: Scenario, design: Design) -> tuple[float, float]:
    """Start and end of the trial in months since the scenario start."""
    t0 = compile_scenario(scenario).calendar.months(design.start)
    return t0, t0 + design.months


def compile_for_trial(scenario: Scenario, design: Design) -> Compiled:
    """The scenario compiled with calendar breaks at the trial's start and end, so a hazard
    table can differ inside the window."""
    return compile_scenario(scenario, breaks=trial_window(scenario, design))


class ArmTables(HazardTables):
    """Regular tables, except for a candidate in an eligible state: its arm's hazards inside the window."""

    def __init__(self, compiled: Compiled, trial: TrialModel):
        super().__init__(compiled)
        self.trial = trial
        self._arms: dict[tuple, list] = {}

    def get(self, cl, s: int, mode: int) -> list:
        trial = self.trial
        arm = trial.arm_of.get(cl.id)
        if arm is None or s not in trial.eligible or trial.arm_names[arm] == CONTROL:
            return super().get(cl, s, mode)
        if trial.env.now >= trial.t0 and cl.id not in trial.volunteers:
            return super().get(cl, s, mode)
        key = (arm, s, mode, cl.profile)
        table = self._arms.get(key)
        if table is None:
            table = self._arms[key] = self._arm_table(arm, s, mode, cl.profile)
        return table

    def _arm_table(self, arm_index: int, s: int, mode: int, profile: int) -> list:
        arm = self.trial.design.arms[arm_index]
        c = self.c
        st = c.states[s]
        regular = c.hazard_table(s, mode, profile)
        # the arm's own contact intensity replaces the team's (dedicated case managers or exemption)
        armed = c.hazard_table_at(s, profile, arm.contacts) if arm.contacts is not None and st.team >= 0 else regular
        if arm.multipliers:
            armed = armed * np.array([_multiplier(arm.multipliers, f"{st.name}.{tr.name}") for tr in st.transitions])
        window = np.array([self.trial.t0 <= e < self.trial.t1 for e in c.segments])
        return np.where(window[:, None, None], armed, regular).tolist()


class TrialModel(Model):
    """One replication of the caseload with the trial embedded.

    Args:
        compiled: the caseload scenario compiled by :func:`compile_for_trial`.
    """

    def __init__(self, compiled: Compiled, design: Design, candidate_share: float, seed: int, replication: int):
        self.design = design
        self.t0 = compiled.calendar.months(design.start)
        self.t1 = self.t0 + design.months
        if not {t for t in (self.t0, self.t1) if 0 < t < compiled.horizon} <= set(compiled.segments):
            raise ValueError("compile the scenario with compile_for_trial(): the trial window needs its own segments")
        super().__init__(compiled, seed, replication, tables=ArmTables(compiled, self))
        self.trial_rng = generator(seed, replication, Stream.TRIAL)
        self.candidate_share = candidate_share
        self.eligible = {self.c.index(n) for n in design.eligible}
        self.arm_names = [a.name for a in design.arms]
        self.arm_of: dict[int, int] = {}  # client id -> arm index (candidates only)
        self.candidates: dict[int, object] = {}  # client id -> Client
        self.volunteers: dict[int, int] = {}  # client id -> arm index, chosen at the start
        self.analysed: list[int] = []
        self.events_seen: dict[str, set[int]] = {o.name: set() for o in design.outcomes if o.event}
        self.end_state: dict[int, str] = {}

    # -- who is in the trial ---------------------------------------------------------
    def _new_client(self, population: int, number: int, fixed: tuple[int, ...] = ()):
        cl = super()._new_client(population, number, fixed)
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
        eligible = sorted(cid for cid, cl in self.candidates.items() if cl.state in self.eligible)
        n = min(self.design.randomised, len(eligible))
        chosen = self.trial_rng.choice(eligible, size=n, replace=False) if n else []
        self.volunteers = {int(cid): self.arm_of[int(cid)] for cid in chosen}
        keep = min(self.design.analysed, n)
        self.analysed = sorted(int(c) for c in self.trial_rng.choice(sorted(self.volunteers), size=keep, replace=False))
        yield self.env.timeout(self.t1 - self.env.now)
        for cid in self.analysed:
            state = self.candidates[cid].state
            self.end_state[cid] = "out" if state is None else self.states[state].name

    # -- outcomes ------------------------------------------------------------------------
    def _complete(self, cl, s: int, k: int, to: int, now: float) -> None:
        if cl.id in self.volunteers and self.t0 <= now < self.t1:
            kind = self.states[s].transitions[k].kind
            for name, seen in self.events_seen.items():
                if self._outcome(name).event == kind:
                    seen.add(cl.id)
        super()._complete(cl, s, k, to, now)

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
