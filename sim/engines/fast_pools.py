"""The compiled engine's waiting lists: ``SlotPool``, in numba.

Pools are numbered teams first, then the states with places in state order
(the SimPy engine's order of ``set_capacity`` at a lever date). A pool's
waiting list is a heap in ``st.wait_key[pool]``/``st.wait_client[pool]``
(:mod:`sim.engines.fast_queue`); a household's place in it is in ``st.slot_pos`` or ``st.place_pos``.
Money (the purses that pay or refuse a start) is in :mod:`sim.engines.fast_ledger`.
"""

from __future__ import annotations

from numba import njit

from sim.engines import fast_queue as fq
from sim.engines.fast_layout import (
    C_LOONWAARDE,
    C_PLACE_GRANTED,
    C_PROFILE,
    C_SLOT_GRANTED,
    C_SLOT_TEAM,
    C_SPELL,
    C_STATE,
    C_WAKE_VALUE,
    C_WOKEN,
    E_WAKE,
    WOKEN_BY_GRANT,
    count,
    schedule,
)  # fmt: skip
from sim.model.compiled import RULE_LEVEL, RULE_NEW_SPELL, TIE_ANY, TIE_ORDERED
from sim.model.records import F_GSTART, F_GWAIT


# -- waiting lists ---------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy", inline="always")
def wake_up(st, now, c):
    """``Model._granted`` for one ticket: ring the household's wake-up unless something already did."""
    if not st.ci[c, C_WOKEN]:
        st.ci[c, C_WOKEN] = 1
        st.ci[c, C_WAKE_VALUE] = WOKEN_BY_GRANT
        schedule(st, c, now, E_WAKE)


@njit(cache=True, error_model="numpy")
def grant(m, st, now, pool, wake):
    """``SlotPool._grant``; with ``wake`` the engine wakes the households served (``_granted``)."""
    slot = pool < m.n_teams
    pos = st.slot_pos if slot else st.place_pos
    while st.pool_in_use[pool] < st.pool_capacity[pool] and st.pool_waiting[pool] > 0:
        c = fq.wait_pop(st.wait_key[pool], st.wait_client[pool], pos, st.pool_waiting[pool])
        st.pool_waiting[pool] -= 1
        st.pool_in_use[pool] += 1
        if slot:
            st.ci[c, C_SLOT_GRANTED] = 1
        else:
            st.ci[c, C_PLACE_GRANTED] = 1
        if wake:
            wake_up(st, now, c)


@njit(cache=True, error_model="numpy")
def request(m, st, now, pool, c, priority):
    """``SlotPool.request``: True when granted at once, else ``c`` joins the waiting list."""
    if st.pool_in_use[pool] < st.pool_capacity[pool] and st.pool_waiting[pool] == 0:
        st.pool_in_use[pool] += 1
        return True
    order = st.pool_order[pool]
    st.pool_order[pool] = order + 1
    pos = st.slot_pos if pool < m.n_teams else st.place_pos
    key = (priority << fq.ORDER_BITS) + order
    st.pool_waiting[pool] = fq.wait_push(st.wait_key[pool], st.wait_client[pool], pos, st.pool_waiting[pool], c, key)
    return False


@njit(cache=True, error_model="numpy")
def release(m, st, now, pool, c, granted, wake):
    """``SlotPool.release``: give back a granted slot (serving the next in line) or leave the list."""
    if granted:
        st.pool_in_use[pool] -= 1
        grant(m, st, now, pool, wake)
        return
    pos = st.slot_pos if pool < m.n_teams else st.place_pos
    st.pool_waiting[pool] = fq.wait_remove(st.wait_key[pool], st.wait_client[pool], pos, st.pool_waiting[pool], c)


@njit(cache=True, error_model="numpy", inline="always")
def must_wait(st, pool):
    return st.pool_in_use[pool] >= st.pool_capacity[pool] or st.pool_waiting[pool] > 0


@njit(cache=True, error_model="numpy", inline="always")
def _hit(m, st, now, c, r):
    """Whether household ``c`` meets priority rule ``r``."""
    kind = m.rule_kind[r]
    if kind == RULE_LEVEL:
        return m.levels[st.ci[c, C_PROFILE], m.rule_attribute[r]] == m.rule_level[r]
    if kind == RULE_NEW_SPELL:
        return now - st.cf[c, C_SPELL] < m.rule_threshold[r]
    return st.cf[c, C_LOONWAARDE] >= m.rule_threshold[r]


@njit(cache=True, error_model="numpy")
def rank(m, st, now, c, pool):
    """``Model._priority`` (``sim.model.compiled.priority_score``): lower is served first.

    Always-served rules first, then the others as the pool's tie-break says: ``ordered`` (rule i outweighs
    all later ones together), ``any`` (meeting one of them counts) or ``fifo`` (they do not count)."""
    first, n = m.rule0[pool], m.rule_n[pool]
    tie = m.pool_tie[pool]
    always, rest, others = 0, 0, 0
    for i in range(n):
        if not m.rule_always[first + i]:
            others += 1
    j = 0
    for i in range(n):
        r = first + i
        hit = _hit(m, st, now, c, r)
        if m.rule_always[r]:
            if hit:
                always = 1
            continue
        if hit:
            if tie == TIE_ORDERED:
                rest += 1 << (others - 1 - j)
            elif tie == TIE_ANY:
                rest = 1
        j += 1
    return -((always << others) + rest)


@njit(cache=True, error_model="numpy")
def barred(m, st, now, c, team):
    """``Model._barred``: whether ``team`` no longer serves household ``c`` (a level it stopped serving by now)."""
    p = st.ci[c, C_PROFILE]
    for i in range(m.stop0[team], m.stop0[team] + m.stop_n[team]):
        if m.levels[p, m.stop_attribute[i]] == m.stop_level[i] and now >= m.stop_from[i]:
            return True
    return False


@njit(cache=True, error_model="numpy")
def request_slot(m, st, now, c, team):
    """``Model._request_slot``."""
    priority = rank(m, st, now, c, team) if must_wait(st, team) else 0
    granted = request(m, st, now, team, c, priority)
    st.ci[c, C_SLOT_TEAM] = team
    st.ci[c, C_SLOT_GRANTED] = 1 if granted else 0
    count(m, st, now, c, st.ci[c, C_STATE], F_GSTART if granted else F_GWAIT)
