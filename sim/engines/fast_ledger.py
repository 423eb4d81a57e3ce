"""The ledger's per-household bookkeeping, in numba: what :class:`sim.budget.ledger.Ledger` does at every event.

The SimPy engine calls the ledger's hooks at every costed transition and every
move into or out of a state with costs (``on_transition``, ``on_move``); done
in Python for the compiled engine they took as long as the kernel itself. So
the kernel does that part here, with the same arithmetic in the same order:

* payments: the first purse of a transition's payer chain that can pay pays
  (``balance``, ``spent``, ``starts`` per purse, as :class:`~sim.budget.money.Purse`);
* the Revolverend Fonds: who it financed and since when, and the benefit months
  a financed exit saved (:meth:`Ledger._leave_financed`, ``FundAccount.saved_months``);
* loonkostensubsidie: each municipality's clients in the order they entered,
  their loonwaarde, and the time integral of ``1 - loonwaarde``
  (:class:`~sim.budget.lks.LksAccount`);
* costs per household-month in a state: the households there in the order they
  came, and the euros each budget line accrued this month (``Ledger._accrue``).

At a month end (:func:`close_month`) the month's LKS integral and accrued euros
are kept per month; the driver (:mod:`sim.engines.fast`) hands them to the
Python ledger, which books them, the benefits and the staff costs, and settles
the year exactly as it does for the SimPy engine. Orders matter where floats
are summed: households are kept in doubly linked lists in the order they
entered, which is the insertion order of the ledger's dictionaries.
"""

from __future__ import annotations

import math

from numba import njit

from sim.engines.fast_layout import C_LOONWAARDE, C_MUNI, C_PROFILE, I_DEFICIT

NIL = -1  # the end of a linked list


# -- payments ---------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy", inline="always")
def payer(m, st, s, k):
    """``Ledger._payer``: the index into the payer chain of the first purse that can pay, or -1."""
    for i in range(m.chain0[s, k], m.chain0[s, k] + m.chain_n[s, k]):
        if m.chain_fund[i] and st.ints[I_DEFICIT] != 0:
            continue
        p = m.chain_purse[i]
        if m.purse_negative[p] or st.balance[p] >= m.chain_cost[i]:
            return i
    return -1


@njit(cache=True, error_model="numpy", inline="always")
def affordable(m, st, s, k):
    """``Ledger.affordable``: some purse of the transition's payer chain can pay its start."""
    return payer(m, st, s, k) >= 0


@njit(cache=True, error_model="numpy", inline="always")
def cents(euros):
    """``sim.budget.money.cents``: euros to whole cents as Python's ``round`` does (half to even)."""
    return int(round(euros * 100))


@njit(cache=True, error_model="numpy")
def on_transition(m, st, now, c, s, k, to):
    """``Ledger.on_transition``: transition ``k`` of household ``c`` out of ``s`` completes (into ``to``)."""
    if m.fund_watched[s, k]:
        _leave_financed(m, st, now, c, s, k)
    if m.costed[s, k]:
        i = payer(m, st, s, k)  # affordable() was asked at this same instant
        p = m.chain_purse[i]
        st.balance[p] -= m.chain_cost[i]
        st.spent[p] += m.chain_cost[i]
        st.starts[p] += 1
        if m.chain_fund[i] and to >= 0 and m.fund_target[to]:
            st.fund_since[c] = now


@njit(cache=True, error_model="numpy")
def _leave_financed(m, st, now, c, s, k):
    """``Ledger._leave_financed``: a financed household leaves; an exit to work adds the months it saved."""
    t0 = st.fund_since[c]
    st.fund_since[c] = math.nan
    e = m.fund_exit[s, k]
    if math.isnan(t0) or e < 0 or not m.fund_has_counterfactual:
        return
    j = 0  # bisect.bisect_right(segments, now) - 1
    while j + 1 < m.fund_segments.shape[0] and m.fund_segments[j + 1] <= now:
        j += 1
    p = st.ci[c, C_PROFILE]
    h_inc, h_cf = m.fund_hazard[e, j, p], m.fund_cf_hazard[j, p]
    if h_cf <= 0.0:  # FundAccount.saved_months
        months = m.fund_horizon - now
    else:
        months = (now - t0) * (h_inc / h_cf - 1.0)
        rest = m.fund_horizon - now
        months = months if months < rest else rest  # noqa: FURB136 (min as Python's picks)
        months = months if months > 0.0 else 0.0  # noqa: FURB136
    st.fund_savings[0] += cents(months * m.monthly_benefit[int(now)] * m.fund_cf_share)


# -- moves: loonkostensubsidie and costs per month in a state --------------------------------------
@njit(cache=True, error_model="numpy")
def on_move(m, st, now, c, s, to, since):
    """``Ledger.on_move``: household ``c`` leaves ``s`` (-1: none) for ``to``; ``since`` is when its stay
    began (NaN: now)."""
    u = st.ci[c, C_MUNI]
    if s >= 0 and s == m.lks_state:
        _lks_leave(st, u, c, now)
    if to >= 0 and to == m.lks_state:
        _lks_enter(m, st, u, c, st.cf[c, C_LOONWAARDE], now)
    if s >= 0 and m.cost_n[s] > 0:
        _accrue(m, st, s, st.member_since[c], float(int(now)), now)
        _unlink(st.mem_head, st.mem_tail, st.mem_next, st.mem_prev, s, c)
    if to >= 0 and m.cost_n[to] > 0:
        _append(st.mem_head, st.mem_tail, st.mem_next, st.mem_prev, to, c)
        st.member_since[c] = now if math.isnan(since) else since


@njit(cache=True, error_model="numpy", inline="always")
def _accrue(m, st, s, since, start, end):
    """``Ledger._accrue``: the costs of one stay in ``s`` over [start, end), counted from ``since + after``."""
    for i in range(m.cost0[s], m.cost0[s] + m.cost_n[s]):
        begin = since + m.cost_after[i]
        begin = begin if begin >= start else start  # noqa: FURB136 (max as Python's picks)
        if end > begin:
            st.accrued[m.cost_line[i]] += m.cost_per_month[i] * (end - begin)


@njit(cache=True, error_model="numpy", inline="always")
def _advance(st, u, now):
    st.lks_area[u] += st.lks_weight[u] * (now - st.lks_since[u])
    st.lks_since[u] = now


@njit(cache=True, error_model="numpy")
def _lks_enter(m, st, u, c, loonwaarde, now):
    """``LksAccount.enter``."""
    _advance(st, u, now)
    loonwaarde = loonwaarde if loonwaarde < m.lks_cap else m.lks_cap  # noqa: FURB136 (min(cap, lw))
    _append(st.lks_head, st.lks_tail, st.lks_next, st.lks_prev, u, c)
    st.lks_count[u] += 1
    st.lks_loonwaarde[c] = loonwaarde
    st.lks_weight[u] += 1.0 - loonwaarde


@njit(cache=True, error_model="numpy")
def _lks_leave(st, u, c, now):
    """``LksAccount.leave``."""
    _advance(st, u, now)
    _unlink(st.lks_head, st.lks_tail, st.lks_next, st.lks_prev, u, c)
    st.lks_count[u] -= 1
    st.lks_weight[u] = st.lks_weight[u] - (1.0 - st.lks_loonwaarde[c]) if st.lks_count[u] > 0 else 0.0


@njit(cache=True, error_model="numpy")
def close_month(m, st, month, at):
    """The per-household part of ``Ledger.close_month``: each municipality's LKS integral and the month's
    accrued euros per budget line, kept in ``lks_area_month[month]`` and ``accrued_month[month]``."""
    for u in range(st.lks_area.shape[0]):
        _advance(st, u, at)
        st.lks_area_month[month, u] = st.lks_area[u]
        st.lks_area[u] = 0.0
    for i in range(m.cost_states.shape[0]):  # the ledger's members dictionary, in its order
        s = m.cost_states[i]
        c = st.mem_head[s]
        while c != NIL:
            _accrue(m, st, s, st.member_since[c], float(month), at)
            c = st.mem_next[c]
    for line in range(st.accrued.shape[0]):
        st.accrued_month[month, line] = st.accrued[line]
        st.accrued[line] = 0.0


@njit(cache=True, error_model="numpy")
def lks_reassess(head, nxt, loonwaarde, weight, u, draws, rise, cap):
    """``LksAccount.reassess`` of municipality ``u``'s clients (in the order they entered) with ``draws``."""
    c, i, total = head[u], 0, 0.0
    while c != NIL:
        lw = loonwaarde[c] + rise * draws[i]
        loonwaarde[c] = lw if lw < cap else cap  # noqa: FURB136 (min(cap, lw))
        total += 1.0 - loonwaarde[c]
        c, i = nxt[c], i + 1
    weight[u] = total


# -- doubly linked lists in insertion order ---------------------------------------------------------
@njit(cache=True, error_model="numpy", inline="always")
def _append(head, tail, nxt, prev, owner, c):
    last = tail[owner]
    prev[c], nxt[c] = last, NIL
    if last == NIL:
        head[owner] = c
    else:
        nxt[last] = c
    tail[owner] = c


@njit(cache=True, error_model="numpy", inline="always")
def _unlink(head, tail, nxt, prev, owner, c):
    before, after = prev[c], nxt[c]
    if before == NIL:
        head[owner] = after
    else:
        nxt[before] = after
    if after == NIL:
        tail[owner] = before
    else:
        prev[after] = before
