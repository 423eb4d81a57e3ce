"""The compiled engine: the SimPy engine's model, run by a numba kernel.

``simulate(compiled, seed, replication)`` returns the same :class:`Result` as
:func:`sim.engines.simpy_engine.simulate`: the random numbers are the SimPy
engine's (the per-household rows of :class:`~sim.model.streams.Streams`, the
arrival stream popped batch by batch as the SimPy engine pops it, the
counter-based overflow generator) and the kernel (:mod:`fast_kernel`) repeats
the SimPy engine's arithmetic and event order, so the tables agree replication
by replication (``tests/test_engines.py``).

Money: the Python ledger (:mod:`sim.budget.ledger`) books everything. The
kernel records each hook call, and this driver replays them into the ledger
in order; the kernel stops after every budget year so the ledger's year-end
settlement reaches it before the next event. The kernel mirrors only what
decides a start (purse balances, the deficit flag) and every decision it took is
checked against the ledger's own answer during the replay.

The kernel runs the mechanisms named in :data:`SUPPORTED`; a model using
anything else (``Compiled.features``) goes to the SimPy engine
(:mod:`sim.engines.select`).
"""

from __future__ import annotations

import math
import time

import numpy as np

from sim.budget.ledger import Ledger
from sim.engines import fast_kernel as fk
from sim.engines import fast_layout as fl
from sim.engines.fast_model import MAX_RULES, kernel_model, kernel_state, ledger_purses, scratch, to_kernel
from sim.engines.result import Result
from sim.engines.simpy_engine import ARRIVAL_BATCH
from sim.model.compiled import Compiled
from sim.model.streams import BLOCK, N_SOJOURNS, Stream, Streams, overflow_base, profiles

# The mechanisms of Compiled.features the kernel runs. A new mechanism adds a name to
# Compiled.features; add it here once the kernel runs it, and `auto` picks this engine again.
SUPPORTED = frozenset({
    "teams", "places", "duration_bands", "calendar_segments", "attributes", "search_period",
    "budget", "budget.lks", "budget.participatiebudget", "budget.revolving_fund", "budget.programmes",
})  # fmt: skip
OPS_BATCH = 4096  # ledger hook calls recorded before the driver replays them
# Check every affordability decision of the kernel against the ledger's own answer (tests turn this on;
# otherwise the replay checks every refusal and the balance after every payment, which is cheaper).
CHECK_DECISIONS = False


class LedgerMismatch(RuntimeError):
    """The kernel decided a start differently from the ledger (a bug: please report it)."""


def unsupported(compiled: Compiled) -> list[str]:
    """Why the compiled engine cannot run ``compiled`` (empty when it can)."""
    reasons = sorted(compiled.features - SUPPORTED)
    states = compiled.states
    # Two configurations no bundled scenario has, which the kernel does not run yet (the SimPy engine does,
    # tests/test_places.py): an intake assignment into a state with places (the drawn destination waits with
    # the place request), and a household waiting for one place that asks for another (it gives up the first).
    if compiled.intake.rate > 0 and any(compiled.places[b[2]] is not None for b in compiled.intake.bins):
        reasons.append("intake assigning into a state with places")
    for s, st in enumerate(states):
        into = {tr.to for tr in st.transitions if tr.to >= 0 and compiled.places[tr.to] is not None}
        if len(into - {s}) > 1:
            reasons.append(f"state {st.name} leads into two states with places")
    pools = [t.priority.rules for t in compiled.teams] + [st.priority.rules for st in states]
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
    n_initial = sum(st.initial for st in compiled.states)
    arrivals = _arrival_times(compiled, streams)
    draws, clocks, profile = _rows(compiled, streams, n_initial, len(arrivals))
    ops = OPS_BATCH + (n_initial if ledger is not None else 0)
    key = overflow_base(seed, replication)
    arrays = kernel_state(compiled, draws, clocks, profile, arrivals, key, len(purses), ops)
    st = to_kernel(arrays)
    _sync(arrays, ledger, purses)
    fk.start(model, st)
    while True:
        status = fk.run(model, st)
        if ledger is not None:
            _replay(arrays, ledger, purses)
            _sync(arrays, ledger, purses)
        if status == fk.DONE:
            break
    st = arrays
    return Result(
        replication=replication,
        stock=st.stock_history,
        flows=st.flows,
        person_months=st.person_months,
        events_processed=int(st.ints[fl.I_SCHEDULED]),
        clients=int(st.ints[fl.I_CLIENTS]),
        wall_seconds=time.perf_counter() - started,
        budget=ledger.table if ledger is not None else None,
    )


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
    profile = np.zeros(n, dtype=np.int64)
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


def _sync(st, ledger: Ledger | None, purses: list) -> None:
    """Give the kernel what decides a start: the purses' balances and the I-deel deficit flag."""
    if ledger is None:
        return
    for i, purse in enumerate(purses):
        st.balance[i] = purse.balance
    st.ints[fl.I_DEFICIT] = int(ledger.in_deficit)


def _replay(st, ledger: Ledger, purses: list) -> None:
    """Call the ledger's hooks as the SimPy engine would have, in the kernel's order, checking that the
    ledger pays and refuses as the kernel did."""
    n = int(st.ints[fl.I_OPS])
    kinds, times, clients = st.op_kind[:n].tolist(), st.op_t[:n].tolist(), st.op_client[:n].tolist()
    profiles_, ss, ks, tos, xs = (a[:n].tolist() for a in (st.op_profile, st.op_s, st.op_k, st.op_to, st.op_x))
    on_transition, on_move = ledger.on_transition, ledger.on_move
    for i in range(n):
        kind = kinds[i]
        if kind == fl.OP_TRANSITION:
            on_transition(times[i], clients[i], profiles_[i], ss[i], ks[i], tos[i])
        elif kind == fl.OP_MOVE:
            on_move(times[i], clients[i], xs[i], None if ss[i] < 0 else ss[i], tos[i])
        elif kind == fl.OP_PAID:
            if purses[ss[i]].balance != xs[i]:
                raise LedgerMismatch(f"at t={times[i]}: {purses[ss[i]].name} holds {purses[ss[i]].balance} cents "
                                     f"in the ledger, {xs[i]:.0f} in the kernel")  # fmt: skip
        elif kind == fl.OP_AFFORDABLE:
            if CHECK_DECISIONS and ledger.affordable(ss[i], ks[i]) != bool(tos[i]):
                raise LedgerMismatch(f"at t={times[i]}: the kernel and the ledger disagree whether {ss[i]}.{ks[i]} "
                                     "can be paid")  # fmt: skip
        elif kind == fl.OP_REFUSED:
            if ledger.affordable(ss[i], ks[i]):
                raise LedgerMismatch(f"at t={times[i]}: the kernel refused {ss[i]}.{ks[i]}, the ledger would pay")
            ledger.refused(times[i], ss[i], ks[i])
        else:
            ledger.close_month(ss[i], times[i], st.person_months[ss[i]][None])  # one municipality
    st.ints[fl.I_OPS] = 0
