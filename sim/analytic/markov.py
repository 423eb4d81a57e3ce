"""Expected stocks and flows of a scenario as a continuous-time Markov chain.

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
slots and places are assumed unlimited (every client guided).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import expm

from sim.model.compiled import ASSIGN, INTAKE, OUT, Compiled
from sim.model.records import FLOW_INDEX, FLOWS, KIND_FLOW


@dataclass
class Expectation:
    """Expected values, shaped like one DES replication's arrays."""

    stock: np.ndarray  # [month, state], end of month
    flows: np.ndarray  # [month, state, flow]
    person_months: np.ndarray  # [month, state]


class _Chain:
    """The expanded chain of one attribute profile: (state, spell band, Erlang stage)."""

    def __init__(self, c: Compiled, profile: int, stages: int):
        self.c, self.profile = c, profile
        self.on_edges = sorted({e for st in c.states if st.on_caseload for e in st.duration_edges})
        self.off_edges = sorted({e for st in c.states if not st.on_caseload for e in st.duration_edges})
        self.index: dict[tuple[int, int, int], int] = {}
        self.stages = stages
        for s, st in enumerate(c.states):
            edges = self._edges(s)
            for b in range(len(edges) + 1):
                for j in range(stages if b < len(edges) else 1):
                    self.index[(s, b, j)] = len(self.index)
        self.n = len(self.index)
        self.state_of = np.zeros(self.n, dtype=int)
        for (s, _, _), i in self.index.items():
            self.state_of[i] = s

    def _edges(self, s: int) -> list[float]:
        return self.on_edges if self.c.states[s].on_caseload else self.off_edges

    def generator(self, seg: int):
        """Q for calendar segment ``seg`` and a list of (expanded index, state, flow weights, rate)."""
        c = self.c
        n = self.n
        q = np.zeros((n, n))
        terms = []  # (i, s, destination state, transition, rate) for flow counting
        for (s, b, j), i in self.index.items():
            st = c.states[s]
            edges = self._edges(s)
            lower = 0.0 if b == 0 else edges[b - 1]
            guided = True if st.team is not None else None
            rows = c.segment_rates(s, guided, seg, self.profile)
            row = rows[bisect.bisect_right(st.duration_edges, lower)]
            for k, tr in enumerate(st.transitions):
                h = row[k]
                if h == 0.0:
                    continue
                terms.append((i, s, tr, h))
                for dest, share in self._destinations(tr.to):
                    if dest == OUT:
                        q[i, i] -= h * share
                        continue
                    same_spell = c.states[dest].on_caseload == st.on_caseload and tr.kind != "reinflow"
                    target = self.index[(dest, b, j)] if same_spell else self.index[(dest, 0, 0)]
                    if target != i:
                        q[i, target] += h * share
                        q[i, i] -= h * share
            if b < len(edges):  # ageing through the Erlang stages of this band
                width = edges[b] - lower
                rate = self.stages / width
                nxt = self.index[(s, b, j + 1)] if j + 1 < self.stages else self.index[(s, b + 1, 0)]
                q[i, nxt] += rate
                q[i, i] -= rate
        return q, terms

    def _destinations(self, to: int):
        if to == ASSIGN:
            return self.c.intake_shares
        return [(to, 1.0)]

    def initial(self) -> np.ndarray:
        x = np.zeros(self.n)
        share = self.c.profile_shares[self.profile]
        for s, st in enumerate(self.c.states):
            if st.initial == 0:
                continue
            edges = self._edges(s)
            bounds = [0.0, *edges, math.inf]
            for b in range(len(edges) + 1):  # spell durations ~ Exp(mean), split over bands
                mass = math.exp(-bounds[b] / st.initial_duration) - math.exp(-bounds[b + 1] / st.initial_duration)
                stages = self.stages if b < len(edges) else 1
                for j in range(stages):
                    x[self.index[(s, b, j)]] += st.initial * share * mass / stages
        return x

    def inflow_vector(self, rate: float, arriving_intake: bool) -> np.ndarray:
        """Arrivals per month entering intake (or straight into the assigned states)."""
        b = np.zeros(self.n)
        if rate == 0:
            return b
        if arriving_intake:
            b[self.index[(INTAKE, 0, 0)]] = rate
        else:
            for s, share in self.c.intake_shares:
                b[self.index[(s, 0, 0)]] += rate * share
        return b


def expected(c: Compiled, stages: int = 3) -> Expectation:
    """Expected monthly stocks and flows of scenario ``c`` (see module docstring).

    The augmented propagator of each (calendar segment, step length) is computed
    once and reused: the inflow enters through the constant last component of
    the augmented state, so a month with a different inflow rate costs only a
    vector-matrix product, not a new matrix exponential.
    """
    n_months = int(math.ceil(c.horizon))
    n_states = len(c.states)
    n_flows = len(FLOWS)
    stock = np.zeros((n_months, n_states))
    flows = np.zeros((n_months, n_states, n_flows))
    person_months = np.zeros((n_months, n_states))
    intake_immediate = c.states[INTAKE].transitions[0].rate == 0.0
    for profile in range(len(c.profiles)):
        chain = _Chain(c, profile, stages)
        share = c.profile_shares[profile]
        arrive, withdraw = _arrival_rate(c, profile)
        grid = sorted({float(m) for m in range(n_months + 1)} | set(c.calendar_edges) | set(arrive.breaks))
        grid = [t for t in grid if t <= c.horizon]
        x = chain.initial()
        unit_inflow = chain.inflow_vector(1.0, not intake_immediate)
        one_hot = np.zeros((chain.n, n_states))
        one_hot[np.arange(chain.n), chain.state_of] = 1.0
        generators: dict[int, tuple] = {}
        propagators: dict[tuple[int, float], np.ndarray] = {}
        for t0, t1 in zip(grid, grid[1:]):
            seg = c.segment(t0)
            if seg not in generators:
                q, terms = chain.generator(seg)
                generators[seg] = (q, _flow_matrix(c, chain.n, terms))
            q, weights = generators[seg]
            dt_ = round(t1 - t0, 12)
            key = (seg, dt_)
            if key not in propagators:
                propagators[key] = _propagator(q, unit_inflow, dt_)
            rate = arrive.at(t0) * share
            x, z = _step(propagators[key], x, rate)
            month = int(t0)
            person_months[month] += z @ one_hot
            flows[month] += (z @ weights).reshape(n_states, n_flows)
            arrivals = rate * (t1 - t0)
            flows[month, INTAKE, FLOW_INDEX["inflow"]] += arrivals
            flows[month, INTAKE, FLOW_INDEX["withdrawn"]] += withdraw.at(t0) * share * (t1 - t0)
            if intake_immediate:
                for s, sh in c.intake_shares:
                    flows[month, s, FLOW_INDEX["entries"]] += arrivals * sh
            else:
                flows[month, INTAKE, FLOW_INDEX["entries"]] += arrivals
            if abs(t1 - round(t1)) < 1e-12 and 1 <= round(t1) <= n_months:
                stock[int(round(t1)) - 1] += x @ one_hot
    return Expectation(stock=stock, flows=flows, person_months=person_months)


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


def _flow_matrix(c: Compiled, n: int, terms) -> np.ndarray:
    """W with ``z @ W`` = the interval's expected transition counts, flattened [state, flow]."""
    n_flows = len(FLOWS)
    w = np.zeros((n, len(c.states) * n_flows))

    def add(i: int, s: int, flow: str, amount: float) -> None:
        w[i, s * n_flows + FLOW_INDEX[flow]] += amount

    for i, s, tr, h in terms:
        kind_flow = KIND_FLOW.get(tr.kind)
        if kind_flow is not None:
            add(i, s, kind_flow, h)
        if tr.movement is not None:
            add(i, s, "movements", h)
            add(i, s, tr.movement, h)
        destinations = c.intake_shares if tr.to == ASSIGN else [(tr.to, 1.0)]
        for dest, share in destinations:
            if tr.kind == "transfer" and dest not in (s, OUT) and s != INTAKE:
                add(i, s, "transfers_out", h * share)
            if dest == INTAKE:  # re-inflow through intake starts a new spell
                add(i, INTAKE, "inflow", h * share)
            if dest not in (s, OUT):
                add(i, dest, "entries", h * share)
    return w


class _Piecewise:
    def __init__(self, breaks: list[float], values: list[float]):
        self.breaks, self.values = breaks, values

    def at(self, t: float) -> float:
        i = bisect.bisect_right(self.breaks, t) - 1
        return self.values[i] if i >= 0 else 0.0


def _arrival_rate(c: Compiled, profile: int) -> tuple[_Piecewise, _Piecewise]:
    """Rate of spells starting (per unit profile share), and of withdrawals, by time.

    Applicants in a search period start their spell ``months`` later, so their
    rate is the inflow shifted by the search period and thinned by withdrawals.
    """
    starts = [s for s, _ in c.inflow_segments]
    rates = [r for _, r in c.inflow_segments]
    sp = c.search_period
    if sp is None or c.profiles[profile][sp[0]] != sp[1]:
        return _Piecewise(starts, rates), _Piecewise([0.0], [0.0])
    delay, withdraw = sp[2], sp[3]
    shifted = [0.0] + [s + delay for s in starts]
    return (
        _Piecewise(shifted, [0.0] + [r * (1 - withdraw) for r in rates]),
        _Piecewise(starts, [r * withdraw for r in rates]),
    )
