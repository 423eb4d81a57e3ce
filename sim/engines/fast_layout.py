"""The compiled engine's records and bookkeeping: the layout of its arrays and the small helpers every part uses.

A household is an index ``c`` into the state's record arrays (initial
households first, then arrivals in order): ``st.ci[c, C_*]`` holds its integers
and flags, ``st.cf[c, C_*]`` its floats and then its clocks, one row per
household so that an event touches a few cache lines, not one per field.
``m`` is the model (:class:`sim.engines.fast_model.KernelModel`), ``st`` one
replication (:class:`sim.engines.fast_model.KernelState`). The helpers mirror
the SimPy engine's methods of the same names (:mod:`sim.engines.simpy_engine`).
"""

from __future__ import annotations

import math

from numba import njit

from sim.engines import fast_queue as fq
from sim.engines.fast_random import client_key
from sim.model.records import DURATION_EDGES
from sim.model.streams import N_INTAKE, Stream

N_DURATIONS = len(DURATION_EDGES)
POP_INITIAL, POP_ARRIVALS = int(Stream.INITIAL), int(Stream.ARRIVALS)

NONE = -9  # a household's state once it has left the model (or before it arrives)
# what a household's queue entry resumes (ci[c, C_KIND])
E_PLAIN, E_TIMER, E_WAKE, E_SEARCH, E_ARRIVAL, E_MONTH, E_CAPACITY = 0, 1, 2, 3, 4, 5, 6
WOKEN_BY_TIMER, WOKEN_BY_GRANT = 0, 1
# a household's record (st.ci); C_LIVE must stay column 0: the event queue reads it (fast_queue.LIVE)
(C_LIVE, C_KIND, C_STATE, C_PENDING, C_PROFILE, C_SOJOURNS, C_HAS_CLOCKS, C_PLACE, C_PLACE_K, C_PLACE_GRANTED,
 C_SLOT_TEAM, C_SLOT_GRANTED, C_WOKEN, C_WAKE_VALUE, C_HELD, C_INTAKES, C_OVERFLOW, C_LOOK_STATE, C_LOOK_MODE,
 C_LOOK_EXCL, C_MUNI) = range(21)
N_CI = 21
# a household's index in the waiting list it is on is kept apart, in st.slot_pos / st.place_pos: a heap moves
# several households at every push and pop, and a compact array of positions stays in cache where the records
# of the households moved do not
# st.cf: loonwaarde, spell start, when it last looked at its clocks, when it entered its state (a maximum stay
# counts from then); the clocks take the rest of the row
C_LOONWAARDE, C_SPELL, C_LOOK_TIME, C_ENTERED, C_CLOCKS = 0, 1, 2, 3, 4
# a household's row of Streams uniforms, by purpose: st.draws[D_*, c] and st.clocks[sojourn, c, transition]
D_INTAKE, D_INITIAL, D_WITHDRAW = 0, N_INTAKE, N_INTAKE + 1
# st.ints: counters and positions that outlive one call of the kernel
# (I_CLOSED: months closed since the driver last booked them, listed in st.closed / st.closed_at)
I_SEQ, I_SCHEDULED, I_CLIENTS, I_ARRIVAL, I_MONTH, I_SEGMENT, I_CLOSED, I_DEFICIT, I_FINISHED = range(9)
N_INTS = 9
# what run() returns: DONE, or a reason to be called again after the driver booked the closed months in the
# ledger (a budget year closed; a month closed whose costs the ledger books on a pot the kernel pays from)
DONE, YEAR_END, MONTH_END = 0, 1, 2


# -- bookkeeping ----------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy", inline="always")
def schedule(st, ident, at, kind):
    seq = st.ints[I_SEQ]
    st.ints[I_SEQ] = seq + 1
    st.ci[ident, C_KIND] = kind
    fq.schedule(st, ident, at, seq, st.horizon)


@njit(cache=True, error_model="numpy", inline="always")
def count(m, st, now, c, s, flow):
    """``Model._count``: a flow of household ``c`` at state ``s`` (in its municipality)."""
    month = int(now)
    if month < m.n_months:
        st.flows[month, st.ci[c, C_MUNI], s, flow] += 1


@njit(cache=True, error_model="numpy", inline="always")
def add_stock(st, now, c, s, delta):
    """``Model._add_stock``: the stock of state ``s`` in household ``c``'s municipality."""
    u = st.ci[c, C_MUNI]
    st.area[u, s] += st.stock[u, s] * (now - st.since[u, s])
    st.since[u, s] = now
    st.stock[u, s] += delta


@njit(cache=True, error_model="numpy", inline="always")
def cross(m, st, now, c, delta):
    """``Model._cross``: household ``c`` comes onto (+1) or leaves (-1) the caseload, in each of its groups."""
    p = st.ci[c, C_PROFILE]
    for a in range(m.n_group_attributes):
        g = m.group_of[p, a]
        st.garea[g] += st.gstock[g] * (now - st.gsince[g])
        st.gsince[g] = now
        st.gstock[g] += delta


@njit(cache=True, error_model="numpy", inline="always")
def note_spell(m, st, c):
    """Keep ``st.on_spell[c]`` in step with household ``c``'s state and spell: its spell's start while it is
    on the caseload, else NaN. Called after every change of either that can change it (a new state on the
    other side of the caseload, a new spell, arriving, leaving), so that the year-end count
    (:func:`_count_durations`) reads one compact array, not every household's records."""
    s = st.ci[c, C_STATE]
    st.on_spell[c] = st.cf[c, C_SPELL] if s != NONE and m.on_caseload[s] else math.nan


@njit(cache=True, error_model="numpy", inline="always")
def count_group(m, st, now, c, flow):
    """``Model._count_group``."""
    month = int(now)
    if month < m.n_months:
        p = st.ci[c, C_PROFILE]
        for a in range(m.n_group_attributes):
            st.gflows[month, m.group_of[p, a], flow] += 1


@njit(cache=True, error_model="numpy", inline="always")
def overflow_key(m, st, c):
    if c < m.n_initial:
        return client_key(st.key[0], POP_INITIAL, c)
    return client_key(st.key[0], POP_ARRIVALS, c - m.n_initial)


@njit(cache=True, error_model="numpy")
def close_month(m, st, month, at):
    """``Model._close_month`` without the ledger's part (``fast_kernel._month_end``)."""
    for u in range(m.n_muni):
        for s in range(m.n_states):
            st.area[u, s] += st.stock[u, s] * (at - st.since[u, s])
            st.since[u, s] = at
            st.person_months[month, u, s] = st.area[u, s]
            st.area[u, s] = 0.0
            st.stock_history[month, u, s] = st.stock[u, s]
    for g in range(st.gstock.shape[0]):
        st.garea[g] += st.gstock[g] * (at - st.gsince[g])
        st.gsince[g] = at
        st.gperson_months[month, g] = st.garea[g]
        st.garea[g] = 0.0
        st.gstock_history[month, g] = st.gstock[g]
    if m.year_of[month] >= 0:
        _count_durations(m, st, m.year_of[month], at)


@njit(cache=True, error_model="numpy")
def _count_durations(m, st, year, at):
    """``Model._count_durations``: households on the caseload at a year end by how long their spell has lasted."""
    for c in range(st.ints[I_CLIENTS]):  # the households that have arrived (the others are NaN)
        since = st.on_spell[c]
        if not math.isnan(since):  # on the caseload (state known and on it)
            spell = at - since
            for i in range(N_DURATIONS):
                if spell > m.duration_edges[i]:
                    st.durations[year, i] += 1
