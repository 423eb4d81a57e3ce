"""The compiled engine: the SimPy engine's model, run by a numba kernel.

``simulate(compiled, seed, replication)`` returns the same :class:`Result` as
:func:`sim.engines.simpy_engine.simulate`: the random numbers are the SimPy
engine's (the per-household rows of :class:`~sim.model.streams.Streams`, the
arrival stream popped batch by batch as the SimPy engine pops it, the
counter-based overflow generator) and the kernel (:mod:`fast_kernel`) repeats
the SimPy engine's arithmetic and event order, so the tables agree replication
by replication (``tests/test_engines.py``).

Money: the kernel does the ledger's per-household part (:mod:`fast_ledger`:
the purses that pay or refuse a start, the fund's financed households and
their savings, LKS, costs per month in a state) with the ledger's arithmetic in
the ledger's order, and lists the months it closed. This driver books those
months in the Python ledger (:mod:`sim.budget.ledger`): benefits, LKS costs,
the month's accrued costs, staff, and at a year end the settlement, whose
results (purse balances, the deficit flag) go back to the kernel before its
next event. ``tests/test_engines.py`` checks the budget tables equal the SimPy
engine's, which drives the ledger's own hooks.

The kernel runs the mechanisms named in :data:`SUPPORTED`; a model using
anything else (``Compiled.features``) goes to the SimPy engine
(:mod:`sim.engines.select`).
"""

from __future__ import annotations

import math
import time

import numpy as np

from sim.budget.ledger import Ledger
from sim.budget.lks import LksAccount
from sim.engines import fast_kernel as fk
from sim.engines import fast_layout as fl
from sim.engines import fast_ledger
from sim.engines.fast_model import (
    MAX_RULES,
    cost_lines,
    initial_groups,
    kernel_model,
    kernel_state,
    ledger_purses,
    scratch,
    to_kernel,
)  # fmt: skip
from sim.engines.result import Result
from sim.engines.simpy_engine import ARRIVAL_BATCH
from sim.model.compiled import Compiled
from sim.model.streams import BLOCK, N_SOJOURNS, Stream, Streams, overflow_base, profiles

# The mechanisms of Compiled.features the kernel runs. A new mechanism adds a name to
# Compiled.features; add it here once the kernel runs it, and `auto` picks this engine again.
SUPPORTED = frozenset({
    "teams", "places", "duration_bands", "calendar_segments", "attributes", "search_period", "max_stay",
    "initial_population", "groups", "municipalities", "budget", "budget.lks", "budget.participatiebudget",
    "budget.revolving_fund", "budget.programmes", "budget.state_costs", "budget.staff_costs", "priority.always",
    "priority.tie_break", "teams.stops_serving",
})  # fmt: skip


def unsupported(compiled: Compiled) -> list[str]:
    """Why the compiled engine cannot run ``compiled`` (empty when it can)."""
    reasons = sorted(compiled.features - SUPPORTED)
    pools = [t.priority.rules for t in compiled.teams] + [st.priority.rules for st in compiled.states]
    if any(len(rules) > MAX_RULES for rules in pools):
        reasons.append(f"more than {MAX_RULES} priority rules on one waiting list")
    return reasons


def simulate(compiled: Compiled, seed: int, replication: int = 0) -> Result:
    """Run one replication with the compiled engine (the caller checks :func:`unsupported` first)."""
    started = time.perf_counter()
    streams = Streams(seed, replication, compiled.layout)
    ledger = Ledger(compiled.budget, seed, replication) if compiled.budget is not None else None
    purses = ledger_purses(ledger) if ledger is not None else []
    model = kernel_model(compiled, ledger)
    groups = initial_groups(compiled)
    n_initial = sum(count for _, count, *_ in groups)
    arrivals = _arrival_times(compiled, streams)
    draws, clocks, profile = _rows(compiled, streams, n_initial, len(arrivals))
    _fix_levels(compiled, groups, profile)
    key = overflow_base(seed, replication)
    arrays = kernel_state(compiled, draws, clocks, profile, arrivals, key, len(purses))
    st = to_kernel(arrays)
    if ledger is not None:
        ledger.engine_keeps_households([KernelLks(account, arrays, u) for u, account in enumerate(ledger.lks_accounts)])
        lines = cost_lines(compiled.budget)
        _push(arrays, ledger, purses)
    fk.start(model, st)
    while True:
        status = fk.run(model, st)
        if ledger is not None:
            _book(arrays, ledger, purses, lines)
        if status == fk.DONE:
            break
    st = arrays
    region = len(compiled.municipalities) > 1
    grouped = bool(compiled.attributes.names)
    return Result(
        replication=replication,
        stock=st.stock_history.sum(axis=1) if region else st.stock_history[:, 0],
        flows=st.flows.sum(axis=1) if region else st.flows[:, 0],
        person_months=st.person_months.sum(axis=1) if region else st.person_months[:, 0],
        stock_by_municipality=st.stock_history if region else None,
        flows_by_municipality=st.flows if region else None,
        person_months_by_municipality=st.person_months if region else None,
        events_processed=int(st.ints[fl.I_SCHEDULED]),
        clients=int(st.ints[fl.I_CLIENTS]),
        wall_seconds=time.perf_counter() - started,
        budget=ledger.table if ledger is not None else None,
        budget_by_municipality=ledger.municipal if ledger is not None and region else None,
        group_flows=st.gflows if grouped else None,
        group_stock=st.gstock_history if grouped else None,
        group_person_months=st.gperson_months if grouped else None,
        durations=st.durations,
    )


def _fix_levels(compiled: Compiled, groups: tuple, profile: np.ndarray) -> None:
    """The initial households' profiles with the levels their group fixes (``Model._new_client``): the drawn
    level where the group has -1, in place."""
    attributes = compiled.attributes
    if not any(level >= 0 for *_, levels in groups for level in levels):
        return
    fixed = np.array([levels for _, count, _, _, levels in groups for _ in range(count)], dtype=np.int64)
    n = len(fixed)
    drawn = np.asarray(attributes.profiles, dtype=np.int64)[profile[:n]]
    levels = np.where(fixed >= 0, fixed, drawn)
    index = np.zeros(n, dtype=np.int64)
    for a, names in enumerate(attributes.levels):  # Attributes.profile_of, for every household at once
        index = index * len(names) + levels[:, a]
    profile[:n] = index


def _arrival_times(compiled: Compiled, streams: Streams) -> np.ndarray:
    """Arrival times from the inflow stream, drawn in batches and popped from each batch's end."""
    starts = np.array([start for start, _ in compiled.inflow])
    rates = np.array([rate for _, rate in compiled.inflow])
    ends = np.append(starts[1:], compiled.horizon)
    expected = float(np.sum(rates * np.maximum(ends - starts, 0.0)))
    batches = max(1, math.ceil((expected + 8 * math.sqrt(expected) + 64) / ARRIVAL_BATCH))
    gen = streams.inflow()
    exps = [gen.standard_exponential(ARRIVAL_BATCH)[::-1] for _ in range(batches)]
    while True:
        times, complete = fk.arrival_times(np.concatenate(exps), starts, rates, float(compiled.horizon))
        if complete:
            return times
        exps.append(gen.standard_exponential(ARRIVAL_BATCH)[::-1])


def _rows(compiled: Compiled, streams: Streams, n_initial: int, n_arrivals: int):
    """Every household's row (initial households, then arrivals), split by purpose for the kernel.

    Returns ``(draws, clocks, profile)``: the intake, initial-duration and withdrawal uniforms
    ``[purpose, household]``, the clocks ``[sojourn, household, transition]`` and the attribute
    profiles. Each block goes through ``Streams.clocked`` exactly as the SimPy engine's does.
    """
    layout = compiled.layout
    n = n_initial + n_arrivals
    draws = scratch("draws", (layout.clock0 - layout.intake0, n), np.float64)
    clocks = scratch("clocks", (N_SOJOURNS, n, layout.k_max), np.float64)
    profile = scratch("profile", (n,), np.int64)
    profile.fill(0)
    cdfs = compiled.attributes.cdfs
    first = 0
    for population, count in ((Stream.INITIAL, n_initial), (Stream.ARRIVALS, n_arrivals)):
        for b in range(-(-count // BLOCK)):
            block = streams.clocked(streams.block(population, b))[: count - b * BLOCK]
            rows = slice(first, first + len(block))
            draws[:, rows] = block[:, layout.intake0 : layout.clock0].T
            clocks[:, rows] = block[:, layout.clock0 :].reshape(len(block), N_SOJOURNS, layout.k_max).transpose(1, 0, 2)
            if cdfs:
                profile[rows] = profiles(block, cdfs)
            first += len(block)
    return draws, clocks, profile


class KernelLks(LksAccount):
    """One municipality's LKS account whose clients the kernel keeps (``fast_ledger``): the kernel integrates
    and reassesses them, the account books the months and the year as an :class:`LksAccount` does."""

    def __init__(self, account: LksAccount, st, u: int):
        super().__init__(account.plan, account.rng)
        self.st, self.u = st, u

    @property
    def n_clients(self) -> int:
        return int(self.st.lks_count[self.u])

    def close_month(self, month: int, at: float) -> None:
        self.book_month(month, float(self.st.lks_area_month[month, self.u]))

    def reassess(self) -> None:
        st = self.st
        draws = self.rng.random(self.n_clients)
        fast_ledger.lks_reassess(st.lks_head, st.lks_next, st.lks_loonwaarde, st.lks_weight, self.u, draws,
                                 self.plan.rise_max, self.plan.cap)  # fmt: skip


def _push(st, ledger: Ledger, purses: list) -> None:
    """Give the kernel what decides and records a start: the purses and the I-deel deficit flag."""
    for i, purse in enumerate(purses):
        st.balance[i], st.spent[i], st.starts[i] = purse.balance, purse.spent, purse.starts
    st.ints[fl.I_DEFICIT] = int(ledger.in_deficit)


def _book(st, ledger: Ledger, purses: list, lines: list[str]) -> None:
    """Book the months the kernel closed in the ledger, with what the kernel paid and measured so far."""
    for i, purse in enumerate(purses):
        purse.balance, purse.spent, purse.starts = int(st.balance[i]), int(st.spent[i]), int(st.starts[i])
    if ledger.fund is not None:
        ledger.fund.savings += int(st.fund_savings[0])
        st.fund_savings[0] = 0
    for i in range(int(st.ints[fl.I_CLOSED])):
        month = int(st.closed[i])
        accrued = dict(zip(lines, st.accrued_month[month].tolist()))
        ledger.close_month(month, float(st.closed_at[i]), st.person_months[month], accrued)
    st.ints[fl.I_CLOSED] = 0
    _push(st, ledger, purses)
