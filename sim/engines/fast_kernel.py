"""The compiled engine's event loop: the SimPy engine's semantics in numba.

Every function here mirrors a method of :class:`sim.engines.simpy_engine.Model`
(named in its docstring) and does the same arithmetic in the same order, so the
two engines give the same results for the same seed. ``m`` is the model's
arrays (:class:`sim.engines.fast_model.KernelModel`), ``st`` one replication's
state (:class:`sim.engines.fast_model.KernelState`); a household is an index
into the record arrays (:mod:`sim.engines.fast_layout`). Waiting lists and
money are in :mod:`sim.engines.fast_pools`.

What SimPy does implicitly is explicit here:

* A household's process is a small state machine: it is resumed by the entry
  it has in the event queue (``ci[c, C_KIND]``: a plain timeout, a timer while it
  waits, a wake-up, the end of its search period) and runs :func:`live` until
  it waits again.
* A process started at an instant runs before the other events of that
  instant (SimPy's ``Initialize`` is urgent), so an arrival's life starts
  right after the arrival is processed, as here.
* Money: the kernel does the ledger's per-household part itself
  (:mod:`sim.engines.fast_ledger`: purses that pay or refuse a start, the
  fund's financed households, LKS, costs per month in a state) and lists the
  months it closed; the driver books those in the Python ledger, and the kernel
  returns after every budget year so the ledger's settlement (fund top-up,
  deficit flag, next year's pots) reaches it before the next event.
* The SimPy engine's behaviour at coinciding instants is copied, not tidied:
  a household whose timer rang at the instant its ticket was granted fires
  its transition and counts no guidance start; one leaving a state (or asking
  for another place) while holding a place granted but not yet taken gives it
  back, which serves and wakes the next in line.
* Outputs beyond the stocks and flows follow the SimPy engine's counters:
  per municipality (``[municipality, state]`` arrays, one municipality outside
  a region), per attribute level (``gflows``, ``gstock``: :func:`cross` when a
  household comes onto or leaves the caseload), and the spell durations of the
  households on the caseload at every budget year end (a scan of the records).

Adding a mechanism: give it its arrays in ``fast_model.py``, its branch in the
function of the SimPy method it changes (here, or in ``fast_pools.py``), and
its name in ``fast.SUPPORTED``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.engines import fast_ledger as ledger
from sim.engines import fast_queue as fq
from sim.engines.fast_layout import (
    C_CLOCKS,
    C_ENTERED,
    C_HAS_CLOCKS,
    C_HELD,
    C_INTAKES,
    C_KIND,
    C_LOOK_EXCL,
    C_LOOK_MODE,
    C_LOOK_STATE,
    C_LOOK_TIME,
    C_LOONWAARDE,
    C_MUNI,
    C_OVERFLOW,
    C_PENDING,
    C_PLACE,
    C_PLACE_GRANTED,
    C_PLACE_K,
    C_PROFILE,
    C_SLOT_GRANTED,
    C_SLOT_TEAM,
    C_SOJOURNS,
    C_SPELL,
    C_STATE,
    C_WAKE_VALUE,
    C_WOKEN,
    D_INITIAL,
    D_INTAKE,
    D_WITHDRAW,
    DONE,
    E_ARRIVAL,
    E_CAPACITY,
    E_MONTH,
    E_PLAIN,
    E_SEARCH,
    E_TIMER,
    E_WAKE,
    I_ARRIVAL,
    I_CLIENTS,
    I_CLOSED,
    I_FINISHED,
    I_MONTH,
    I_SCHEDULED,
    I_SEGMENT,
    MONTH_END,
    NONE,
    WOKEN_BY_TIMER,
    YEAR_END,
    add_stock,
    close_month,
    count,
    count_group,
    cross,
    note_spell,
    overflow_key,
    schedule,
)  # fmt: skip
from sim.engines.fast_pools import (
    barred,
    grant,
    must_wait,
    rank,
    release,
    request,
    request_slot,
)  # fmt: skip
from sim.engines.fast_random import exponential, uniform
from sim.engines.fast_sampling import ring, ring_constant, wind_down
from sim.engines.fast_struct import prefetch, raw
from sim.model.compiled import ASSIGN, GUIDED, INTAKE, NO_TEAM, OUT, UNGUIDED
from sim.model.records import F_ENTRIES, F_GSTART, F_INFLOW, F_PWAIT, F_REFUSED, F_WITHDRAWN, G_INFLOW
from sim.model.streams import N_INTAKE, N_SOJOURNS


# -- a household's life ----------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _assign(m, st, c):
    """``Model._assign``: one uniform picks the arrangement and the loonwaarde within its band."""
    n = st.ci[c, C_INTAKES]
    if n < N_INTAKE:
        u = st.draws[D_INTAKE + n, c]
    else:
        st.ci[c, C_OVERFLOW] += 1
        u = uniform(overflow_key(m, st, c), st.ci[c, C_OVERFLOW])
    st.ci[c, C_INTAKES] = n + 1
    i = 0
    for i in range(m.bin_upper.shape[0]):
        if u < m.bin_upper[i]:
            break
    lower, upper = m.bin_lower[i], m.bin_upper[i]
    width = upper - lower
    share = (u - lower) / (1e-300 if 1e-300 > width else width)  # noqa: FURB136 (as Python's max picks)
    st.cf[c, C_LOONWAARDE] = m.bin_lo[i] + (m.bin_hi[i] - m.bin_lo[i]) * (share if share < 1.0 else 1.0)  # noqa: FURB136
    return m.bin_state[i]


@njit(cache=True, error_model="numpy")
def _enter_intake(m, st, now, c):
    """``Model._enter_intake``."""
    count(m, st, now, c, INTAKE, F_INFLOW)
    count_group(m, st, now, c, G_INFLOW)
    st.cf[c, C_ENTERED] = now
    if m.immediate:
        to = _assign(m, st, c)
        st.ci[c, C_STATE] = to
        add_stock(st, now, c, to, 1)
        count(m, st, now, c, to, F_ENTRIES)
        note_spell(m, st, c)
        if m.budget_state[to]:
            ledger.on_move(m, st, now, c, -1, to, math.nan)
        return
    st.ci[c, C_STATE] = INTAKE
    note_spell(m, st, c)
    add_stock(st, now, c, INTAKE, 1)
    count(m, st, now, c, INTAKE, F_ENTRIES)


@njit(cache=True, error_model="numpy", inline="always")
def _refuse(m, st, now, c, s, k):
    """``Model._refuse``."""
    count(m, st, now, c, s, F_REFUSED)  # the ledger's refused() only writes its log, which this engine keeps none of


@njit(cache=True, error_model="numpy")
def _leave_place_queue(m, st, now, c):
    """``Model._leave_place_queue``: give up the place ``c`` waits for (or was granted this instant)."""
    release(m, st, now, m.place_pool[st.ci[c, C_PLACE]], c, st.ci[c, C_PLACE_GRANTED], True)
    st.ci[c, C_PLACE] = NONE
    st.ci[c, C_PLACE_K] = -1


@njit(cache=True, error_model="numpy")
def _complete(m, st, now, c, s, k, to):
    """``Model._complete``: transition ``k`` out of ``s`` happens now."""
    month = int(now)
    counted = month < m.n_months
    u = st.ci[c, C_MUNI]
    if counted:
        for i in range(m.flow0[s, k], m.flow0[s, k] + m.flow_n[s, k]):
            st.flows[month, u, s, m.flow_list[i]] += 1
        n_groups = m.gflow_n[s, k]
        if n_groups:
            p = st.ci[c, C_PROFILE]
            for i in range(m.gflow0[s, k], m.gflow0[s, k] + n_groups):
                for a in range(m.n_group_attributes):
                    st.gflows[month, m.group_of[p, a], m.gflow_list[i]] += 1
    if m.budgeted[s, k]:
        ledger.on_transition(m, st, now, c, s, k, to)
    if to == s:
        return
    if st.ci[c, C_HELD]:  # leave s: give back what the household held there
        release(m, st, now, m.place_pool[s], c, True, True)
        st.ci[c, C_HELD] = 0
    if st.ci[c, C_PLACE] != NONE:  # leaving while waiting for a place elsewhere
        _leave_place_queue(m, st, now, c)
    team = st.ci[c, C_SLOT_TEAM]
    if team >= 0 and (to < 0 or m.team[to] != team):
        release(m, st, now, team, c, st.ci[c, C_SLOT_GRANTED], True)
        st.ci[c, C_SLOT_TEAM] = -1
    st.area[u, s] += st.stock[u, s] * (now - st.since[u, s])
    st.since[u, s] = now
    st.stock[u, s] -= 1
    if m.budget_state[s] or (to >= 0 and m.budget_state[to]):
        ledger.on_move(m, st, now, c, s, to, math.nan)
    if to == OUT:
        if m.on_caseload[s]:
            cross(m, st, now, c, -1)
        st.ci[c, C_STATE] = NONE
        note_spell(m, st, c)
        return
    spell_changed = False  # a new spell, or the other side of the caseload
    if m.on_caseload[to] != m.on_caseload[s]:
        cross(m, st, now, c, 1 if m.on_caseload[to] else -1)
        st.cf[c, C_SPELL] = now
        spell_changed = True
    elif m.new_spell[s, k]:
        st.cf[c, C_SPELL] = now
        spell_changed = True
    if to == INTAKE:
        _enter_intake(m, st, now, c)
        return
    st.ci[c, C_STATE] = to
    if spell_changed:
        note_spell(m, st, c)
    st.cf[c, C_ENTERED] = now
    st.area[u, to] += st.stock[u, to] * (now - st.since[u, to])
    st.since[u, to] = now
    st.stock[u, to] += 1
    if counted:
        st.flows[month, u, to, F_ENTRIES] += 1


@njit(cache=True, error_model="numpy")
def _take_place(m, st, now, c):
    """``Model._take_place``: the place is free, the transition that asked for it happens now."""
    k, to = st.ci[c, C_PLACE_K], st.ci[c, C_PLACE]  # the destination as drawn when it asked
    st.ci[c, C_PLACE] = NONE
    st.ci[c, C_PLACE_K] = -1
    st.ci[c, C_HAS_CLOCKS] = 0
    s = st.ci[c, C_STATE]
    if m.costed[s, k] and not ledger.affordable(m, st, s, k):  # the money ran out while it waited
        release(m, st, now, m.place_pool[to], c, True, True)
        _refuse(m, st, now, c, s, k)
        return
    _complete(m, st, now, c, s, k, to)
    st.ci[c, C_HELD] = 1


@njit(cache=True, error_model="numpy")
def _fire(m, st, now, c, s, k):
    """``Model._fire``."""
    st.ci[c, C_HAS_CLOCKS] = 0  # an event happened: the next sojourn draws fresh clocks
    to = m.to[s, k]
    if to == ASSIGN:
        to = _assign(m, st, c)
    if m.costed[s, k] and not ledger.affordable(m, st, s, k):
        _refuse(m, st, now, c, s, k)
        return
    if to >= 0 and to != s and m.place_pool[to] >= 0:
        if st.ci[c, C_PLACE] != NONE:  # already waiting for another place: that ticket is given up first
            _leave_place_queue(m, st, now, c)
        pool = m.place_pool[to]
        priority = rank(m, st, now, c, pool) if must_wait(st, pool) else 0
        granted = request(m, st, now, pool, c, priority)
        st.ci[c, C_PLACE], st.ci[c, C_PLACE_K], st.ci[c, C_PLACE_GRANTED] = to, k, 1 if granted else 0
        if not granted:  # stay put, on the waiting list
            count(m, st, now, c, s, F_PWAIT)
            return
        _take_place(m, st, now, c)
        return
    _complete(m, st, now, c, s, k, to)


@njit(cache=True, error_model="numpy")
def _next_event(m, st, now, c, s, mode, waiting):
    """``Model._next_event``: (time, transition) of the household's next event, transition -1 for none."""
    off = m.table_offset[s, mode, st.ci[c, C_PROFILE]]
    excl = st.ci[c, C_PLACE_K] if st.ci[c, C_PLACE] != NONE else -1
    n = m.n_transitions[s]
    clocks = st.cf[c, C_CLOCKS:]
    nb, e0, nd = m.n_bands[s], m.edge0[s], m.n_edges[s]
    if not st.ci[c, C_HAS_CLOCKS] or st.ci[c, C_LOOK_STATE] != s:
        i = st.ci[c, C_SOJOURNS]
        st.ci[c, C_SOJOURNS] = i + 1
        if i < N_SOJOURNS and n <= m.k_max:
            row = st.clocks[i, c]
            for q in range(n):
                clocks[q] = row[q]
        else:
            key = overflow_key(m, st, c)
            for q in range(n):
                st.ci[c, C_OVERFLOW] += 1
                clocks[q] = exponential(key, st.ci[c, C_OVERFLOW])
    else:
        look = m.table_offset[s, st.ci[c, C_LOOK_MODE], st.ci[c, C_PROFILE]]
        wind_down(m.table, look, nb, n, st.ci[c, C_LOOK_EXCL], clocks, st.cf[c, C_LOOK_TIME], now, st.cf[c, C_SPELL],
                  m.cal, m.edges, e0, nd)  # fmt: skip
    if waiting:
        st.ci[c, C_HAS_CLOCKS] = 1
        st.ci[c, C_LOOK_STATE], st.ci[c, C_LOOK_MODE], st.ci[c, C_LOOK_EXCL], st.cf[c, C_LOOK_TIME] = s, mode, excl, now
    if m.constant[s]:
        return ring_constant(m.table, off, n, excl, clocks, now, m.horizon)
    scratch = st.scratch
    for q in range(n):
        scratch[q] = clocks[q]
    return ring(m.table, off, nb, n, excl, scratch, now, st.cf[c, C_SPELL], m.cal, m.edges, e0, nd, m.horizon)


@njit(cache=True, error_model="numpy")
def live(m, st, now, c):
    """The loop of ``Model._life``: run the household until it waits for something."""
    while st.ci[c, C_STATE] != NONE:
        s = st.ci[c, C_STATE]
        team = m.team[s]
        mode = NO_TEAM
        if team >= 0:
            if m.stop_n[team] > 0 and barred(m, st, now, c, team):  # the team no longer serves this household
                if st.ci[c, C_SLOT_TEAM] >= 0:
                    release(m, st, now, team, c, st.ci[c, C_SLOT_GRANTED], True)
                    st.ci[c, C_SLOT_TEAM] = -1
                mode = UNGUIDED
            else:
                if st.ci[c, C_SLOT_TEAM] < 0:
                    request_slot(m, st, now, c, team)
                mode = GUIDED if st.ci[c, C_SLOT_GRANTED] else UNGUIDED
        waiting = (mode == UNGUIDED and st.ci[c, C_SLOT_TEAM] >= 0) or st.ci[c, C_PLACE] != NONE
        at, k = _next_event(m, st, now, c, s, mode, waiting)
        if m.expiry[s] >= 0:  # the stay runs out: a forced transition, unless a clock rings first
            deadline = st.cf[c, C_ENTERED] + m.max_stay[s, st.ci[c, C_PROFILE]]
            if deadline < m.horizon and (k < 0 or deadline < at):
                at, k = (now if now > deadline else deadline), m.expiry[s]  # Python's max(deadline, now)
        if waiting:  # one wake-up, rung by the timer or by a pool granting a slot or place
            st.ci[c, C_WOKEN] = 0
            if k >= 0:
                st.ci[c, C_PENDING] = k
                schedule(st, c, now + (at - now), E_TIMER)
            st.ints[I_SCHEDULED] += 1
            return
        if k < 0:
            return
        st.ints[I_SCHEDULED] += 1
        st.ci[c, C_PENDING] = k
        schedule(st, c, now + (at - now), E_PLAIN)
        return


@njit(cache=True, error_model="numpy")
def resume(m, st, now, c):
    """What a household does when its queue entry comes up (the body of ``Model._life``)."""
    kind = st.ci[c, C_KIND]
    if kind == E_PLAIN:
        _fire(m, st, now, c, st.ci[c, C_STATE], st.ci[c, C_PENDING])
    elif kind == E_TIMER:  # the timer rings the wake-up, which SimPy processes as an event of its own
        if not st.ci[c, C_WOKEN]:
            st.ci[c, C_WOKEN] = 1
            st.ci[c, C_WAKE_VALUE] = WOKEN_BY_TIMER
            schedule(st, c, now, E_WAKE)
        return
    elif kind == E_WAKE:
        team = m.team[st.ci[c, C_STATE]]
        if st.ci[c, C_WAKE_VALUE] == WOKEN_BY_TIMER:
            _fire(m, st, now, c, st.ci[c, C_STATE], st.ci[c, C_PENDING])
        elif st.ci[c, C_PLACE] != NONE and st.ci[c, C_PLACE_GRANTED]:
            _take_place(m, st, now, c)
        elif team >= 0 and m.stop_n[team] > 0 and barred(m, st, now, c, team):
            pass  # granted a slot the team no longer gives it: live() hands it back
        else:
            count(m, st, now, c, st.ci[c, C_STATE], F_GSTART)
    else:  # E_SEARCH: the search period is over
        st.cf[c, C_SPELL] = now
        cross(m, st, now, c, 1)
        _enter_intake(m, st, now, c)
    live(m, st, now, c)


# -- the population and the model's own processes ------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _arrive(m, st, now):
    """``Model._arrivals`` (one arrival) and the start of the new household's ``_life``."""
    i = st.ints[I_ARRIVAL]
    c = m.n_initial + i
    st.ints[I_CLIENTS] += 1
    if i + 1 < st.arrivals.shape[0]:  # the arrivals process schedules the next one first
        st.ints[I_ARRIVAL] = i + 1
        st.ints[I_SCHEDULED] += 1
        schedule(st, st.arrival_id, now + (st.arrivals[i + 1] - now), E_ARRIVAL)
    if m.has_search and m.levels[st.ci[c, C_PROFILE], m.search_attribute] == m.search_level:
        if st.draws[D_WITHDRAW, c] < m.withdraw_share:
            count(m, st, now, c, INTAKE, F_WITHDRAWN)
            return
        schedule(st, c, now + m.search_months, E_SEARCH)
        return
    st.cf[c, C_SPELL] = now
    cross(m, st, now, c, 1)
    _enter_intake(m, st, now, c)
    live(m, st, now, c)


@njit(cache=True, error_model="numpy")
def _capacity(m, st, now):
    """``Model._capacity_changes`` at one lever date."""
    j = st.ints[I_SEGMENT]
    for pool in range(st.pool_capacity.shape[0]):  # teams first, then places in state order
        st.pool_capacity[pool] = m.pool_capacity[pool, j]
        grant(m, st, now, pool, True)
    if j + 1 < m.cal.shape[0]:
        st.ints[I_SEGMENT] = j + 1
        schedule(st, st.capacity_id, now + (m.cal[j + 1] - now), E_CAPACITY)


@njit(cache=True, error_model="numpy")
def start(model, state):
    """``Model._create_initial_population`` and the processes' first steps at time 0 (StructRefs in).

    An initial household's spell so far is exponential with its state's mean, or from a caseload
    extract's range (``initial_low``/``initial_high``; low NaN: no range); its stay in a state with a
    maximum is uniform within the maximum. Both use its one ``initial_duration`` uniform."""
    m, st = raw(model), raw(state)
    now = 0.0
    for c in range(m.n_initial):
        s = m.initial_state[c]
        lo, hi = m.loonwaarde_low[s], m.loonwaarde_high[s]
        st.cf[c, C_LOONWAARDE] = lo + (hi - lo) * st.draws[D_INTAKE, c]
        st.ci[c, C_INTAKES] = 1
        u = st.draws[D_INITIAL, c]
        low, high = m.initial_low[c], m.initial_high[c]
        if math.isnan(low):
            spell = m.initial_duration[s] * math.log(1.0 - u)
        elif high == math.inf:
            spell = -low + m.initial_duration[s] * math.log(1.0 - u)
        else:
            spell = -(low + u * (high - low))
        st.cf[c, C_SPELL] = spell
        st.cf[c, C_ENTERED] = -u * m.max_stay[s, st.ci[c, C_PROFILE]] if m.expiry[s] >= 0 else spell
        st.ci[c, C_STATE] = s
        note_spell(m, st, c)
        add_stock(st, now, c, s, 1)
        if m.on_caseload[s]:
            cross(m, st, 0.0, c, 1)
        if m.budget_state[s]:
            ledger.on_move(m, st, now, c, -1, s, st.cf[c, C_ENTERED])
    st.ints[I_CLIENTS] = m.n_initial
    for c in range(m.n_initial):  # every process starts before any event is processed
        live(m, st, now, c)
    if st.arrivals.shape[0] > 0:
        st.ints[I_SCHEDULED] += 1
        schedule(st, st.arrival_id, st.arrivals[0], E_ARRIVAL)
    if m.n_months > 1:
        schedule(st, st.month_id, 1.0, E_MONTH)
    if m.cal.shape[0] > 1:
        st.ints[I_SEGMENT] = 1
        schedule(st, st.capacity_id, m.cal[1], E_CAPACITY)


INT32_LINE, FLOAT64_LINE = 16, 8  # items to a 64-byte cache line


@njit(cache=True, error_model="numpy", inline="always")
def _prefetch(st):
    """Start loading the records of the households whose events come next, while this one is processed.

    A household's record is cold when its next event comes (it was last touched months ago in
    model time). For the very next event also the clocks of the sojourn it may start: its record
    was asked for while an earlier event was processed, so reading its sojourn count does not wait
    for memory (guessing the first three sojourns instead fetched six lines, mostly unused, and
    missed the rest: 9% of a replication at 16 times Utrecht's size)."""
    for i in range(3):  # the queue's first entry (the next event) and the two after it
        if i < st.q_size[0]:
            c = st.q_entry[i, 1]
            if c < st.n_clients:
                _prefetch_row(st.ci[c], INT32_LINE)
                _prefetch_row(st.cf[c], FLOAT64_LINE)
                if i == 0:
                    sojourn = st.ci[c, C_SOJOURNS]
                    if sojourn < N_SOJOURNS:
                        _prefetch_row(st.clocks[sojourn, c], FLOAT64_LINE)


@njit(cache=True, error_model="numpy", inline="always")
def _prefetch_row(row, line):
    """Prefetch a row of at most two cache lines of ``line`` items: starting inside a line it spans up to
    three, and its first item, the one a line further and its last lie on every one of them."""
    n = row.shape[0]
    prefetch(row, 0)
    prefetch(row, line if line < n else n - 1)
    prefetch(row, n - 1)


@njit(cache=True, error_model="numpy")
def run(model, state):
    """Process events up to the horizon; returns DONE, or YEAR_END / MONTH_END to be called again."""
    return _run(raw(model), raw(state))


@njit(cache=True, error_model="numpy")
def _month_end(m, st, month, at):
    """``Model._close_month``: the stocks and flows, the ledger's per-household part, and the month listed for the
    driver to book in the ledger."""
    close_month(m, st, month, at)
    if m.has_budget:
        ledger.close_month(m, st, month, at)
        i = st.ints[I_CLOSED]
        st.closed[i], st.closed_at[i] = month, at
        st.ints[I_CLOSED] = i + 1


@njit(cache=True, error_model="numpy")
def _run(m, st):
    while True:
        now = fq.first(st)
        if not now < m.horizon:
            break
        ident = fq.pop(st)
        _prefetch(st)
        if ident < st.n_clients:
            resume(m, st, now, ident)
            continue
        kind = st.ci[ident, C_KIND]
        if kind == E_ARRIVAL:
            _arrive(m, st, now)
        elif kind == E_MONTH:
            month = st.ints[I_MONTH]
            _month_end(m, st, month, month + 1.0)
            st.ints[I_MONTH] = month + 1
            if month + 1 < m.n_months - 1:
                schedule(st, st.month_id, now + ((month + 2) - now), E_MONTH)
            if m.has_budget and m.year_of[month] >= 0:
                return YEAR_END
            if m.sync_monthly:
                return MONTH_END
        else:
            _capacity(m, st, now)
    if st.ints[I_FINISHED] == 0:
        st.ints[I_FINISHED] = 1
        _month_end(m, st, m.n_months - 1, m.horizon)
    return DONE


@njit(cache=True, error_model="numpy")
def arrival_times(exps, starts, rates, horizon):
    """The times ``Model._arrivals`` computes from ``exps`` (in the order it pops them).

    Returns (times, complete): ``complete`` is False when the draws ran out before the horizon.
    """
    out = np.empty(exps.shape[0])
    n_seg = starts.shape[0]
    seg, n, t = 0, 0, 0.0
    for i in range(exps.shape[0]):
        need = exps[i]
        while True:  # invert the cumulative inflow rate
            rate = rates[seg]
            end = starts[seg + 1] if seg + 1 < n_seg else horizon
            if rate > 0 and t + need / rate < end:
                t += need / rate
                break
            need -= rate * (end - t)
            t = end
            seg += 1
            if seg >= n_seg:
                return out[:n], True
        out[n] = t
        n += 1
    return out[:n], False
