"""Expected stocks and flows of a scenario as a continuous-time Markov chain, built from the scenario itself.

This module is the independent check of the engines: it reads the validated
:class:`~sim.model.schema.Scenario`, not the compiled model, and resolves
every factor of a hazard (base rate, duration band, attribute multipliers,
levers, contact intensity) with code of its own. A mistake in
``sim/model/compiled.py`` therefore shows up as a disagreement between the
simulation and this model (``tests/test_markov_validation.py`` plants such
mistakes and checks that they are caught).

Without capacity limits every household moves independently, so the expected
number in each state solves the linear ODE ``dx/dt = x Q(t) + b(t)`` with
piecewise-constant generator ``Q`` (calendar levers) and inflow ``b``. Over an
interval where both are constant the solution is exact via one matrix
exponential of the augmented system (Van Loan)::

    d/dt [x, z, 1] = [x, z, 1] @ [[Q, I, 0], [0, 0, 0], [b, 0, 0]]

where ``z`` is the integral of ``x``, so expected transition counts are
``z @ rates``. Attribute profiles are independent chains weighted by their
shares. Spell-duration bands are not Markov; they are approximated by Erlang
stages (``stages`` per band), exact when a scenario has no bands. Werkmatcher
slots and places are assumed unlimited: every client of a team is guided.

States are numbered as in the engines: 0 is the intake, then the scenario's
states in file order.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
from dataclasses import dataclass
from fnmatch import fnmatchcase

import numpy as np
from scipy.linalg import expm

from sim.model.calendar import Calendar
from sim.model.records import FLOW_INDEX, FLOWS, KIND_FLOW
from sim.model.schema import Scenario
from sim.model.values import DatedValues

OUT, ASSIGN = -1, -2


@dataclass
class Expectation:
    """Expected values, shaped like one replication's arrays."""

    stock: np.ndarray  # [month, state], end of month
    flows: np.ndarray  # [month, state, flow]
    person_months: np.ndarray  # [month, state]


@dataclass
class _Tr:
    name: str
    to: int
    kind: str
    movement: str | None
    rate: float
    edges: tuple[float, ...]
    multipliers: tuple[float, ...]
    attributes: dict[str, float]
    elasticity: float
    covariates: dict


@dataclass
class _St:
    name: str
    on_caseload: bool
    initial: float
    initial_duration: float
    team: str | None
    transitions: list[_Tr]


class _Resolved:
    """The scenario resolved for the chain: states, profiles and every factor as a function of time."""

    def __init__(self, scenario: Scenario):
        self.sc = scenario
        self.horizon = 12.0 * scenario.years
        self.calendar = Calendar(scenario.start, int(math.ceil(self.horizon)))
        names = ["intake", *scenario.states]
        idx = {n: i for i, n in enumerate(names)}
        team_of = {s: name for name, team in scenario.werkmatchers.items() for s in team.states}
        intake_mean = scenario.intake.mean_months.value
        self.intake_rate = 0.0 if intake_mean == 0 else 1.0 / intake_mean
        self.states = [_St("intake", True, 0.0, 1.0, None, [_Tr("assign", ASSIGN, "transfer", None, self.intake_rate, (), (1.0,), {}, 0.0, {})])]
        for name, st in scenario.states.items():
            trs = []
            for tname, tr in st.transitions.items():
                bands = tr.duration_bands
                trs.append(_Tr(
                    tname, OUT if tr.to == "out" else idx[tr.to], tr.kind, tr.movement, tr.rate.value,
                    tuple(bands.edges) if bands else (), tuple(bands.multipliers) if bands else (1.0,),
                    dict(tr.attribute_multipliers.values) if tr.attribute_multipliers else {},
                    tr.intensity_elasticity.value if tr.intensity_elasticity else 0.0,
                    dict(tr.covariates),
                ))  # fmt: skip
            duration = st.initial_duration_months.value if st.initial_duration_months else 1.0
            self.states.append(_St(name, st.on_caseload, float(st.initial.value), duration, team_of.get(name), trs))
        self.shares = [(idx[n], share) for n, share in scenario.intake.shares.values.items()]
        attrs = scenario.attributes
        self.profiles = [
            ({f"{a}.{lvl}" for a, lvl in zip(attrs, combo)}, math.prod(attrs[a].levels.values[lvl] for a, lvl in zip(attrs, combo)))
            for combo in itertools.product(*[list(attr.levels.values) for attr in attrs.values()])
        ]  # fmt: skip
        self.lever_windows = [
            (lv, self.calendar.months(lv.start), self.calendar.months(lv.end) if lv.end else math.inf)
            for lv in scenario.levers.values()
        ]
        self.covariate_dates = {
            name: sorted((self.calendar.months(d), v) for d, v in cov.values.items())
            for name, cov in scenario.covariates.items()
        }
        changes = {t for dates in self.covariate_dates.values() for t, _ in dates if 0 < t < self.horizon}
        self.breaks = sorted(
            {0.0} | {t for _, a, b in self.lever_windows for t in (a, b) if 0 < t < self.horizon} | changes
        )

    def follows(self, effects: dict, t: float) -> float:
        """The product of (x(t) / reference) ** elasticity over the covariates a rate follows."""
        factor = 1.0
        for name, effect in effects.items():
            before = [v for start, v in self.covariate_dates[name] if start <= t]
            x = before[-1] if before else self.covariate_dates[name][0][1]
            factor *= (x / effect.reference.value) ** effect.elasticity.value
        return factor

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (one resolver per expected() call)
    def levered(self, target: str, value: float, t: float) -> float:
        """``value`` under the levers on ``target`` active at ``t``: the sum of the adds, then the product of the multipliers."""
        adds = [lv.add for lv, a, b in self.lever_windows if a <= t < b and _hits(lv.target, target)]
        mults = [lv.multiply for lv, a, b in self.lever_windows if a <= t < b and _hits(lv.target, target)]
        return max(0.0, (value + sum(adds)) * math.prod(mults))

    def hazard(self, st: _St, tr: _Tr, duration: float, t: float, levels: set[str]) -> float:
        """The hazard of ``tr`` for a guided household with attribute ``levels`` at ``t`` and spell ``duration``."""
        band = tr.multipliers[bisect.bisect_right(tr.edges, duration)]
        attr = math.prod(tr.attributes.get(level, 1.0) for level in sorted(levels))
        lever = self.levered(f"hazard.{st.name}.{tr.name}", 1.0, t)
        service = 1.0
        if st.team is not None and tr.elasticity != 0.0:
            team = self.sc.werkmatchers[st.team]
            prod = self.levered(f"werkmatchers.{st.team}.productivity", team.productivity.value if team.productivity else 1.0, t)
            norm = self.levered(f"werkmatchers.{st.team}.caseload_norm", team.caseload_norm.value, t)
            contacts = team.contacts_per_fte_month.value * prod / norm
            service = (contacts / team.reference_contacts_per_client_month.value) ** tr.elasticity
        return tr.rate * band * attr * lever * service * self.follows(tr.covariates, t)

    def inflow(self, t: float) -> float:
        """Applications per month at month-time ``t``."""
        when = self.calendar.date(int(t))
        rate = self.sc.inflow.rate
        level = rate.at(when) if isinstance(rate, DatedValues) else rate.value
        if self.sc.inflow.seasonality is not None:
            level *= self.sc.inflow.seasonality.factors[when.month - 1]
        return self.levered("inflow", level * self.follows(self.sc.inflow.covariates, t), t)

    def inflow_breaks(self) -> list[float]:
        months = [float(m) for m in range(int(math.ceil(self.horizon)))]
        levers = [t for lv, a, b in self.lever_windows if lv.target == "inflow" for t in (a, b) if 0 < t < self.horizon]
        dates = [t for name in self.sc.inflow.covariates for t, _ in self.covariate_dates[name] if 0 < t < self.horizon]
        return sorted(set(months) | set(levers) | set(dates))


def _hits(pattern: str, target: str) -> bool:
    return pattern == target or (pattern.startswith("hazard.") and fnmatchcase(target, pattern))


class _Chain:
    """The expanded chain of one attribute profile: (state, spell band, Erlang stage)."""

    def __init__(self, r: _Resolved, levels: set[str], share: float, stages: int):
        self.r, self.levels, self.share, self.stages = r, levels, share, stages
        self.on_edges = sorted({e for st in r.states if st.on_caseload for tr in st.transitions for e in tr.edges})
        self.off_edges = sorted({e for st in r.states if not st.on_caseload for tr in st.transitions for e in tr.edges})
        self.index: dict[tuple[int, int, int], int] = {}
        for s in range(len(r.states)):
            edges = self._edges(s)
            for b in range(len(edges) + 1):
                for j in range(stages if b < len(edges) else 1):
                    self.index[(s, b, j)] = len(self.index)
        self.n = len(self.index)
        self.state_of = np.array([s for (s, _, _) in self.index])

    def _edges(self, s: int) -> list[float]:
        return self.on_edges if self.r.states[s].on_caseload else self.off_edges

    def generator(self, t: float):
        """Q at month-time ``t`` and the terms (expanded index, state, transition, hazard) for flow counting."""
        r = self.r
        q = np.zeros((self.n, self.n))
        terms = []
        for s, st in enumerate(r.states):
            edges = self._edges(s)
            for b in range(len(edges) + 1):
                lower = 0.0 if b == 0 else edges[b - 1]
                hazards = [r.hazard(st, tr, lower, t, self.levels) for tr in st.transitions]
                for j in range(self.stages if b < len(edges) else 1):
                    i = self.index[(s, b, j)]
                    for tr, h in zip(st.transitions, hazards):
                        if h == 0.0:
                            continue
                        terms.append((i, s, tr, h))
                        for dest, share in (r.shares if tr.to == ASSIGN else [(tr.to, 1.0)]):
                            if dest == OUT:
                                q[i, i] -= h * share
                                continue
                            same_spell = r.states[dest].on_caseload == st.on_caseload and tr.kind != "reinflow"
                            target = self.index[(dest, b, j)] if same_spell else self.index[(dest, 0, 0)]
                            if target != i:
                                q[i, target] += h * share
                                q[i, i] -= h * share
                    if b < len(edges):  # ageing through the Erlang stages of this band
                        rate = self.stages / (edges[b] - lower)
                        nxt = self.index[(s, b, j + 1)] if j + 1 < self.stages else self.index[(s, b + 1, 0)]
                        q[i, nxt] += rate
                        q[i, i] -= rate
        return q, terms

    def initial(self) -> np.ndarray:
        """Expected initial households of this profile, spread over spell bands and their stages."""
        x = np.zeros(self.n)
        names = [st.name for st in self.r.states]
        pop = self.r.sc.initial_population
        if pop is None:
            groups = [(s, st.initial * self.share, 0.0, math.inf, st.initial_duration)
                      for s, st in enumerate(self.r.states) if st.initial]  # fmt: skip
        else:
            groups = []
            for g in pop.groups:
                s = names.index(g.state)
                weight = self._level_weight(g.levels)
                high = math.inf if g.months_to is None else g.months_to
                if weight:
                    groups.append((s, g.count * weight, g.months_from, high, self.r.states[s].initial_duration))
        for s, count, low, high, mean in groups:
            edges = self._edges(s)
            bounds = [0.0, *edges, math.inf]
            for b in range(len(edges) + 1):
                mass = _share_between(low, high, mean, bounds[b], bounds[b + 1])
                stages = self.stages if b < len(edges) else 1
                for j in range(stages):
                    x[self.index[(s, b, j)]] += count * mass / stages
        return x

    def _level_weight(self, fixed: dict[str, str]) -> float:
        """The share of a group's households in this profile: fixed levels must match, the others are drawn."""
        weight = 1.0
        for name, attr in self.r.sc.attributes.items():
            mine = next(lvl for lvl in attr.levels.values if f"{name}.{lvl}" in self.levels)
            if name in fixed:
                weight *= float(fixed[name] == mine)
            else:
                weight *= attr.levels.values[mine]
        return weight

    def unit_inflow(self) -> np.ndarray:
        """Where one arrival a month enters: the intake, or straight into the assigned states."""
        v = np.zeros(self.n)
        if self.r.intake_rate > 0:
            v[self.index[(0, 0, 0)]] = 1.0
        else:
            for s, share in self.r.shares:
                v[self.index[(s, 0, 0)]] += share
        return v

    def arrivals(self, t: float) -> tuple[float, float]:
        """(spells starting per month, withdrawals per month) of this profile at ``t``.

        Applicants in a search period start their spell ``months`` later, thinned by withdrawals."""
        sp = self.r.sc.intake.search_period
        if sp is None or f"{sp.attribute}.{sp.level}" not in self.levels:
            return self.r.inflow(t) * self.share, 0.0
        delay, withdraw = sp.months.value, sp.withdraw_share.value
        starts = self.r.inflow(t - delay) * self.share * (1 - withdraw) if t - delay >= 0 else 0.0
        return starts, self.r.inflow(t) * self.share * withdraw


def expected(scenario: Scenario, stages: int = 3) -> Expectation:
    """Expected monthly stocks and flows of ``scenario`` (see the module docstring).

    The augmented propagator of each (generator, step length) is computed once
    and reused: the inflow enters through the constant last component of the
    augmented state, so a month with another inflow rate costs only a
    vector-matrix product, not a new matrix exponential.
    """
    r = _Resolved(scenario)
    n_months = r.calendar.n_months
    n_states, n_flows = len(r.states), len(FLOWS)
    stock = np.zeros((n_months, n_states))
    flows = np.zeros((n_months, n_states, n_flows))
    person_months = np.zeros((n_months, n_states))
    sp = scenario.intake.search_period
    shifted = [t + sp.months.value for t in r.inflow_breaks()] if sp else []
    grid = sorted({float(m) for m in range(n_months + 1)} | set(r.breaks) | set(r.inflow_breaks()) | set(shifted))
    grid = [t for t in grid if t <= r.horizon]
    for levels, share in r.profiles:
        chain = _Chain(r, levels, share, stages)
        x = chain.initial()
        unit = chain.unit_inflow()
        one_hot = np.zeros((chain.n, n_states))
        one_hot[np.arange(chain.n), chain.state_of] = 1.0
        generators: dict[int, tuple] = {}
        propagators: dict[tuple[int, float], np.ndarray] = {}
        for t0, t1 in zip(grid, grid[1:]):
            seg = bisect.bisect_right(r.breaks, t0) - 1
            if seg not in generators:
                q, terms = chain.generator(t0)
                generators[seg] = (q, _flow_matrix(r, chain.n, terms))
            q, weights = generators[seg]
            step = round(t1 - t0, 12)
            if (seg, step) not in propagators:
                propagators[(seg, step)] = _propagator(q, unit, step)
            starts, withdrawn = chain.arrivals(t0)
            x, z = _step(propagators[(seg, step)], x, starts)
            month = int(t0)
            person_months[month] += z @ one_hot
            flows[month] += (z @ weights).reshape(n_states, n_flows)
            arrivals = starts * (t1 - t0)
            flows[month, 0, FLOW_INDEX["inflow"]] += arrivals
            flows[month, 0, FLOW_INDEX["withdrawn"]] += withdrawn * (t1 - t0)
            if r.intake_rate == 0:
                for s, sh in r.shares:
                    flows[month, s, FLOW_INDEX["entries"]] += arrivals * sh
            else:
                flows[month, 0, FLOW_INDEX["entries"]] += arrivals
            if abs(t1 - round(t1)) < 1e-12 and 1 <= round(t1) <= n_months:
                stock[int(round(t1)) - 1] += x @ one_hot
    return Expectation(stock=stock, flows=flows, person_months=person_months)


def _share_between(low: float, high: float, mean: float, a: float, b: float) -> float:
    """Probability that an initial spell duration lies in [a, b).

    Exact at ``low`` when ``high == low``; uniform on [low, high) when ``high`` is finite; ``low`` plus an
    exponential excess with mean ``mean`` when ``high`` is infinite (low = 0: the states' initial stocks).
    """
    if high == low:
        return float(a <= low < b)
    if math.isinf(high):
        lo, hi = max(a, low), max(b, low)
        return math.exp(-(lo - low) / mean) - (math.exp(-(hi - low) / mean) if not math.isinf(hi) else 0.0)
    return max(0.0, min(b, high) - max(a, low)) / (high - low)


def _propagator(q: np.ndarray, b: np.ndarray, dt: float) -> np.ndarray:
    """exp of the augmented generator [[Q, I, 0], [0, 0, 0], [b, 0, 0]] over ``dt``."""
    n = len(b)
    m = np.zeros((2 * n + 1, 2 * n + 1))
    m[:n, :n] = q
    m[:n, n : 2 * n] = np.eye(n)
    m[2 * n, :n] = b
    return expm(m * dt)


def _step(e: np.ndarray, x: np.ndarray, rate: float):
    """Advance occupancy ``x`` one step with inflow ``rate`` times the unit inflow vector."""
    n = len(x)
    y = x @ e[:n] + rate * e[2 * n]
    return y[:n], y[n : 2 * n]


def _flow_matrix(r: _Resolved, n: int, terms) -> np.ndarray:
    """W with ``z @ W`` = the interval's expected transition counts, flattened [state, flow]."""
    n_flows = len(FLOWS)
    w = np.zeros((n, len(r.states) * n_flows))

    def add(i: int, s: int, flow: str, amount: float) -> None:
        w[i, s * n_flows + FLOW_INDEX[flow]] += amount

    for i, s, tr, h in terms:
        if tr.kind in KIND_FLOW:
            add(i, s, KIND_FLOW[tr.kind], h)
        if tr.movement is not None:
            add(i, s, "movements", h)
            add(i, s, tr.movement, h)
        for dest, share in (r.shares if tr.to == ASSIGN else [(tr.to, 1.0)]):
            if tr.kind == "transfer" and dest not in (s, OUT) and s != 0:
                add(i, s, "transfers_out", h * share)
            if dest == 0:  # re-inflow through intake starts a new spell
                add(i, 0, "inflow", h * share)
            if dest not in (s, OUT):
                add(i, dest, "entries", h * share)
    return w
