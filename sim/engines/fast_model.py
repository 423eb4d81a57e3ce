"""The arrays the compiled engine reads: a :class:`Compiled` model flattened once, and one replication's state.

:func:`kernel_model` reads only the :class:`~sim.model.compiled.Compiled` model
(the hazard tables come from ``Compiled.hazard_table``, so they are bit for bit
the SimPy engine's) and is cached per model. :func:`kernel_state` allocates a
replication's arrays, sized for the households it will have.

Both are named tuples of NumPy arrays and numbers; the kernel reads them
through :mod:`sim.engines.fast_struct` (:func:`to_kernel`).
"""

from __future__ import annotations

import math
import threading
import weakref
from typing import NamedTuple

import numpy as np

from sim.engines import fast_layout as fl
from sim.engines import fast_queue as fq
from sim.engines import fast_struct
from sim.engines.fast_queue import ORDER_BITS
from sim.model.compiled import GUIDED, NO_TEAM, UNGUIDED, Compiled
from sim.model.records import DURATION_EDGES, FLOWS, GROUP_FLOWS

BUCKET_EVENTS = 256  # events the queue's calendar aims to hold in a bucket (fast_queue)
MAX_RULES = 62 - ORDER_BITS  # a waiting-list key is priority * 2**ORDER_BITS + order, in 64 bits


class KernelModel(NamedTuple):
    n_states: int
    n_months: int
    horizon: float
    n_teams: int
    n_initial: int
    k_max: int
    clock0: int
    intake0: int
    initial_column: int
    withdraw: int
    immediate: bool
    has_search: bool
    search_attribute: int
    search_level: int
    search_months: float
    withdraw_share: float
    has_budget: bool
    sync_monthly: bool  # the ledger books costs on a pot every month: the driver syncs the kernel's purses monthly
    n_muni: int  # municipalities (1 outside a region)
    n_group_attributes: int  # attributes whose levels are output groups (0: no outputs by group)
    cal: np.ndarray  # calendar segment starts
    edges: np.ndarray  # every state's duration band edges, state s at [edge0[s], edge0[s] + n_edges[s])
    n_transitions: np.ndarray
    on_caseload: np.ndarray
    team: np.ndarray  # team index (its slot pool) or -1
    place_pool: np.ndarray  # pool index of a state's places or -1
    edge0: np.ndarray
    n_edges: np.ndarray
    n_bands: np.ndarray
    constant: np.ndarray  # hazards constant until the horizon (no bands, one calendar segment)
    budget_state: np.ndarray  # the ledger hears of moves into and out of these states
    loonwaarde_low: np.ndarray
    loonwaarde_high: np.ndarray
    initial_duration: np.ndarray
    initial_state: np.ndarray  # per initial household
    initial_low: np.ndarray  # per initial household: its spell so far lies in [low, high] months (NaN: exponential)
    initial_high: np.ndarray
    max_stay: np.ndarray  # [state, profile]: months a stay may last (used where expiry >= 0)
    expiry: np.ndarray  # per state: the transition when the stay runs out, -1 for no limit
    to: np.ndarray  # [state, transition]
    new_spell: np.ndarray
    flow0: np.ndarray  # [state, transition]: the transition's counters are flow_list[flow0 : flow0 + flow_n]
    flow_n: np.ndarray
    flow_list: np.ndarray
    gflow0: np.ndarray  # [state, transition]: its counters by group are gflow_list[gflow0 : gflow0 + gflow_n]
    gflow_n: np.ndarray
    gflow_list: np.ndarray
    group_of: np.ndarray  # [profile, attribute]: the position of the profile's level on the group axis
    costed: np.ndarray  # [state, transition]: a start the ledger must pay
    budgeted: np.ndarray  # [state, transition]: a transition the ledger hears of
    chain0: np.ndarray  # [state, transition]: payers chain_*[chain0 : chain0 + chain_n], in order of trying
    chain_n: np.ndarray
    chain_purse: np.ndarray
    chain_cost: np.ndarray
    chain_fund: np.ndarray
    purse_negative: np.ndarray
    # the ledger's per-household part (fast_ledger; with_ledger fills these from the ledger's plan)
    lks_state: int  # the LKS state, -99 for none
    lks_cap: float  # the highest loonwaarde LKS counts
    fund_watched: np.ndarray  # [state, transition]: out of a state the fund finances (its financed leave)
    fund_exit: np.ndarray  # [state, transition]: index into fund_hazard of an exit whose savings count, or -1
    fund_target: np.ndarray  # per state: a start the fund pays that leads here makes the household financed
    fund_has_counterfactual: bool
    fund_segments: np.ndarray  # calendar segment starts of fund_hazard
    fund_hazard: np.ndarray  # [exit, segment, profile]
    fund_cf_hazard: np.ndarray  # [segment, profile]: the counterfactual exit's hazard
    fund_cf_share: float  # benefit share of the counterfactual's state
    fund_horizon: float
    monthly_benefit: np.ndarray  # euros per household-month at benefit share 1, per month
    cost_states: np.ndarray  # states with costs per month, in the ledger's order
    cost0: np.ndarray  # per state: its costs are cost_*[cost0 : cost0 + cost_n]
    cost_n: np.ndarray
    cost_after: np.ndarray
    cost_per_month: np.ndarray
    cost_line: np.ndarray  # index into cost_lines(plan)
    table: np.ndarray  # every hazard table, flat
    table_offset: np.ndarray  # [state, mode, profile] -> start of its [segment][band][transition] table
    pool_capacity: np.ndarray  # [pool, segment]: teams' slots, then places
    rule0: np.ndarray  # per pool: its rules are rule_*[rule0 : rule0 + rule_n]
    rule_n: np.ndarray
    rule_kind: np.ndarray
    rule_attribute: np.ndarray
    rule_level: np.ndarray
    rule_threshold: np.ndarray
    rule_always: np.ndarray  # an always-served rule
    pool_tie: np.ndarray  # per pool: how its other rules break ties (compiled.TIE_*)
    stop0: np.ndarray  # per team: the levels it stops serving are stop_*[stop0 : stop0 + stop_n]
    stop_n: np.ndarray
    stop_attribute: np.ndarray
    stop_level: np.ndarray
    stop_from: np.ndarray  # month from which the level is no longer served
    levels: np.ndarray  # [profile, attribute] -> level
    bin_lower: np.ndarray
    bin_upper: np.ndarray
    bin_state: np.ndarray
    bin_lo: np.ndarray
    bin_hi: np.ndarray
    year_of: np.ndarray  # per month: the budget year it closes, -1 for a month that closes none
    duration_edges: np.ndarray  # records.DURATION_EDGES


class KernelState(NamedTuple):
    n_clients: int  # households; queue ids n_clients.. are the arrivals, month-end and capacity processes
    horizon: float
    arrival_id: int
    month_id: int
    capacity_id: int
    ints: np.ndarray  # fast_kernel.I_*
    key: np.ndarray  # [1] uint64: the replication's overflow base key
    q_time: np.ndarray  # the event queue (fast_queue): this month's heap
    q_entry: np.ndarray  # [entry, 2]: (seq, id)
    q_size: np.ndarray  # [1]
    q_per_month: float  # queue buckets a month
    q_head: np.ndarray  # per bucket: its first node, -1 for none
    q_bucket: np.ndarray  # [1]: the bucket in the heap
    q_free: np.ndarray  # [1]: the first free chunk
    chunk_time: np.ndarray  # chunk_entry as float64: [chunk, entry, fast_queue.TIME] is the entry's time
    chunk_entry: np.ndarray  # [chunk, entry, 3]: (seq, id, time)
    chunk_count: np.ndarray
    chunk_next: np.ndarray
    draws: np.ndarray  # [purpose, household]: the row's intake, initial-duration and withdrawal uniforms
    clocks: np.ndarray  # [sojourn, household, transition]: the row's clocks (sojourn-major: the first
    # sojourns of households made one after another are read one after another)
    arrivals: np.ndarray  # arrival times as the arrivals process computes them
    ci: np.ndarray  # [queue id, fast_kernel.C_*]: a household's integers and flags (ids past the households: processes)
    cf: np.ndarray  # [household, fast_kernel.C_*]: its loonwaarde, spell start, time it last looked, clocks
    pool_capacity: np.ndarray
    pool_in_use: np.ndarray
    pool_waiting: np.ndarray
    pool_order: np.ndarray
    wait_key: np.ndarray  # [pool, entry]
    wait_client: np.ndarray
    slot_pos: np.ndarray  # per household: its index in its team's waiting list (fast_queue.wait_*)
    place_pos: np.ndarray  # per household: its index in the waiting list for the place it asked for
    flows: np.ndarray
    stock: np.ndarray
    stock_history: np.ndarray
    area: np.ndarray
    since: np.ndarray
    person_months: np.ndarray  # flows, stock, stock_history, area, since, person_months: [(month,) municipality, state]
    gflows: np.ndarray  # [month, group, records.GROUP_FLOWS]
    gstock: np.ndarray  # [group]: on the caseload
    garea: np.ndarray
    gsince: np.ndarray
    gstock_history: np.ndarray
    gperson_months: np.ndarray
    durations: np.ndarray  # [budget year, edge]
    on_spell: np.ndarray  # per household: its spell's start while on the caseload, else NaN (fast_layout.note_spell)
    balance: np.ndarray  # per purse, cents (the ledger's purses in ledger_purses order)
    spent: np.ndarray
    starts: np.ndarray
    fund_savings: np.ndarray  # [1] cents measured since the driver last took them
    fund_since: np.ndarray  # per household: when the fund financed it (NaN: not financed)
    lks_head: np.ndarray  # per municipality: its LKS clients in the order they entered (fast_ledger lists)
    lks_tail: np.ndarray
    lks_next: np.ndarray  # per household
    lks_prev: np.ndarray
    lks_loonwaarde: np.ndarray
    lks_count: np.ndarray  # per municipality
    lks_weight: np.ndarray
    lks_area: np.ndarray
    lks_since: np.ndarray
    mem_head: np.ndarray  # per state with costs a month: the households there in the order they came
    mem_tail: np.ndarray
    mem_next: np.ndarray  # per household
    mem_prev: np.ndarray
    member_since: np.ndarray
    accrued: np.ndarray  # euros per budget line this month so far
    accrued_month: np.ndarray  # [month, line]
    lks_area_month: np.ndarray  # [month, municipality]
    closed: np.ndarray  # months closed since the driver last booked them (I_CLOSED of them)
    closed_at: np.ndarray
    scratch: np.ndarray


_models: weakref.WeakKeyDictionary[Compiled, tuple] = weakref.WeakKeyDictionary()


def kernel_model(compiled: Compiled, ledger=None):
    """The kernel's view of ``compiled`` (with ``ledger``'s payers when it has a budget), built once per model."""
    cached = _models.get(compiled)
    if cached is None:
        plain = _build(compiled)
        plain = plain if ledger is None else with_ledger(plain, ledger)
        cached = _models[compiled] = (plain, to_kernel(plain))  # the tuple owns the struct's arrays
    return cached[1]


def _i(values) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.int64)


def _f(values) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64)


def _b(values) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.bool_)


def initial_groups(c: Compiled) -> tuple:
    """The initial households as groups ``(state, count, months_from, months_to, levels)``: a caseload extract's
    or a region's (``Compiled.initial``), else one per state with an initial stock (``months_from`` None: the
    spell so far is exponential; levels -1 are drawn)."""
    if c.initial is not None:
        return tuple(c.initial)
    drawn = (-1,) * len(c.attributes.names)
    return tuple((s, st.initial, None, None, drawn) for s, st in enumerate(c.states) if st.initial)


def _build(c: Compiled) -> KernelModel:
    states, layout = c.states, c.layout
    n_states, k_max = len(states), layout.k_max
    n_profiles = len(c.attributes.profiles)
    edges, edge0 = [], []
    for st in states:
        edge0.append(len(edges))
        edges.extend(st.duration_edges)
    # hazard tables: the modes a state can be in (no team; guided or waiting for a werkmatcher)
    tables, offset, size = [], np.full((n_states, 3, n_profiles), -1, dtype=np.int64), 0
    for s, st in enumerate(states):
        for mode in (GUIDED, UNGUIDED) if st.team >= 0 else (NO_TEAM,):
            for p in range(n_profiles):
                table = np.ascontiguousarray(c.hazard_table(s, mode, p), dtype=np.float64).ravel()
                offset[s, mode, p] = size
                tables.append(table)
                size += table.size
    to = np.zeros((n_states, k_max), dtype=np.int64)
    new_spell = np.zeros((n_states, k_max), dtype=np.bool_)
    flow0, flow_n = np.zeros((n_states, k_max), dtype=np.int64), np.zeros((n_states, k_max), dtype=np.int64)
    gflow0, gflow_n = np.zeros((n_states, k_max), dtype=np.int64), np.zeros((n_states, k_max), dtype=np.int64)
    flow_list: list[int] = []
    gflow_list: list[int] = []
    for s, st in enumerate(states):
        for k, tr in enumerate(st.transitions):
            to[s, k], new_spell[s, k] = tr.to, tr.new_spell
            flow0[s, k], flow_n[s, k] = len(flow_list), len(tr.flows)
            flow_list.extend(tr.flows)
            gflow0[s, k], gflow_n[s, k] = len(gflow_list), len(tr.groups)
            gflow_list.extend(tr.groups)
    # waiting lists: one pool per team, then one per state with places (the SimPy engine's order)
    place_states = [s for s, caps in enumerate(c.places) if caps is not None]
    place_pool = np.full(n_states, -1, dtype=np.int64)
    for i, s in enumerate(place_states):
        place_pool[s] = len(c.teams) + i
    priorities = [team.priority for team in c.teams] + [states[s].priority for s in place_states]
    pool_rules = [p.rules for p in priorities]
    capacity = [team.slots for team in c.teams] + [c.places[s] for s in place_states]
    rules = [rule for group in pool_rules for rule in group]
    stops = [stop for team in c.teams for stop in team.stops]
    bins = c.intake.bins
    search = c.intake.search
    groups = initial_groups(c)
    initial = [s for s, count, *_ in groups for _ in range(count)]
    low = [math.nan if lo is None else lo for _, count, lo, _, _ in groups for _ in range(count)]
    high = [math.nan if hi is None else hi for _, count, _, hi, _ in groups for _ in range(count)]
    n_attributes = len(c.attributes.names)
    cal = c.calendar
    monthly = () if c.budget is None else (*c.budget.state_costs, *c.budget.staff_costs)
    return KernelModel(
        n_states=n_states, n_months=c.n_months, horizon=float(c.horizon), n_teams=len(c.teams),
        n_initial=len(initial), k_max=k_max, clock0=layout.clock0, intake0=layout.intake0,
        initial_column=layout.initial_duration,
        withdraw=layout.withdraw, immediate=c.intake.rate == 0.0, has_search=search is not None,
        search_attribute=search.attribute if search else 0, search_level=search.level if search else 0,
        search_months=float(search.months) if search else 0.0,
        withdraw_share=float(search.withdraw_share) if search else 0.0, has_budget=c.budget is not None,
        sync_monthly=any(cost.line.startswith("pot.") for cost in monthly),
        n_muni=max(1, len(c.municipalities)), n_group_attributes=n_attributes,
        cal=_f(c.segments), edges=_f(edges),
        n_transitions=_i([len(st.transitions) for st in states]),
        on_caseload=_b([st.on_caseload for st in states]),
        team=_i([st.team for st in states]), place_pool=place_pool, edge0=_i(edge0),
        n_edges=_i([len(st.duration_edges) for st in states]),
        n_bands=_i([len(st.duration_edges) + 1 for st in states]),
        constant=_b([not st.duration_edges and len(c.segments) == 1 for st in states]),
        budget_state=np.zeros(n_states, dtype=np.bool_),
        loonwaarde_low=_f([st.loonwaarde[0] for st in states]),
        loonwaarde_high=_f([st.loonwaarde[1] for st in states]),
        initial_duration=_f([st.initial_duration for st in states]), initial_state=_i(initial),
        initial_low=_f(low), initial_high=_f(high),
        max_stay=_f([st.max_stay or [math.inf] * n_profiles for st in states]).reshape(n_states, n_profiles),
        expiry=_i([st.expiry if st.max_stay is not None else -1 for st in states]),
        to=to, new_spell=new_spell, flow0=flow0, flow_n=flow_n, flow_list=_i(flow_list),
        gflow0=gflow0, gflow_n=gflow_n, gflow_list=_i(gflow_list),
        group_of=_i([c.attributes.group_indices(p) for p in range(n_profiles)]).reshape(n_profiles, n_attributes),
        costed=np.zeros((n_states, k_max), dtype=np.bool_), budgeted=np.zeros((n_states, k_max), dtype=np.bool_),
        chain0=np.zeros((n_states, k_max), dtype=np.int64), chain_n=np.zeros((n_states, k_max), dtype=np.int64),
        chain_purse=_i([]), chain_cost=_i([]), chain_fund=_b([]), purse_negative=_b([]),
        lks_state=-99, lks_cap=1.0, fund_watched=np.zeros((n_states, k_max), dtype=np.bool_),
        fund_exit=np.full((n_states, k_max), -1, dtype=np.int64), fund_target=np.zeros(n_states, dtype=np.bool_),
        fund_has_counterfactual=False, fund_segments=_f([0.0]), fund_hazard=np.zeros((0, 1, n_profiles)),
        fund_cf_hazard=np.zeros((1, n_profiles)), fund_cf_share=0.0, fund_horizon=float(c.horizon),
        monthly_benefit=_f([]), cost_states=_i([]), cost0=np.zeros(n_states, dtype=np.int64),
        cost_n=np.zeros(n_states, dtype=np.int64), cost_after=_f([]), cost_per_month=_f([]), cost_line=_i([]),
        table=_f(np.concatenate(tables)) if tables else _f([]), table_offset=offset,
        pool_capacity=_i(capacity).reshape(len(capacity), len(c.segments)),
        rule0=_i(np.cumsum([0] + [len(g) for g in pool_rules])[:-1]), rule_n=_i([len(g) for g in pool_rules]),
        rule_kind=_i([r.kind for r in rules]), rule_attribute=_i([r.attribute for r in rules]),
        rule_level=_i([r.level for r in rules]), rule_threshold=_f([r.threshold for r in rules]),
        rule_always=_b([r.always for r in rules]), pool_tie=_i([p.tie_break for p in priorities]),
        stop0=_i(np.cumsum([0] + [len(t.stops) for t in c.teams])[:-1]), stop_n=_i([len(t.stops) for t in c.teams]),
        stop_attribute=_i([a for a, _, _ in stops]), stop_level=_i([lv for _, lv, _ in stops]),
        stop_from=_f([t for _, _, t in stops]),
        levels=_i(c.attributes.profiles).reshape(n_profiles, n_attributes),
        bin_lower=_f([b[0] for b in bins]), bin_upper=_f([b[1] for b in bins]), bin_state=_i([b[2] for b in bins]),
        bin_lo=_f([b[3] for b in bins]), bin_hi=_f([b[4] for b in bins]),
        year_of=_i([cal.year_index(m) if cal.is_year_end(m) else -1 for m in range(c.n_months)]),
        duration_edges=_f(DURATION_EDGES),
    )  # fmt: skip


def ledger_purses(ledger) -> list:
    """The ledger's purses in the kernel's order (the order they first appear in its payer chains)."""
    purses: list = []
    for _, chain in sorted(ledger.payers.items()):
        for purse, _, _ in chain:
            if not any(purse is p for p in purses):
                purses.append(purse)
    return purses


def with_ledger(model: KernelModel, ledger) -> KernelModel:
    """``model`` with the ledger's payers and the transitions and states it hears of.

    Reads the ledger's public description of itself: ``payers`` (a chain of (purse, cost in
    cents, is the fund) per costed transition), ``keys`` (the transitions it hears of),
    ``states`` (the states whose moves it hears of) and its ``plan`` (the fund, LKS and costs per
    month the kernel's part of the ledger keeps). The same for every replication of a model.
    """
    n_states, k_max = model.to.shape
    costed = np.zeros((n_states, k_max), dtype=np.bool_)
    budgeted = np.zeros((n_states, k_max), dtype=np.bool_)
    chain0 = np.zeros((n_states, k_max), dtype=np.int64)
    chain_n = np.zeros((n_states, k_max), dtype=np.int64)
    purses = ledger_purses(ledger)
    chain_purse, chain_cost, chain_fund = [], [], []
    for (s, k), chain in sorted(ledger.payers.items()):
        costed[s, k] = True
        chain0[s, k], chain_n[s, k] = len(chain_purse), len(chain)
        for purse, cost, is_fund in chain:
            chain_purse.append(next(i for i, p in enumerate(purses) if p is purse))
            chain_cost.append(cost)
            chain_fund.append(is_fund)
    for s, k in ledger.keys:
        budgeted[s, k] = True
    budget_state = np.zeros(n_states, dtype=np.bool_)
    for s in ledger.states:
        budget_state[s] = True
    return model._replace(
        costed=costed, budgeted=budgeted, chain0=chain0, chain_n=chain_n, chain_purse=_i(chain_purse),
        chain_cost=_i(chain_cost), chain_fund=_b(chain_fund), purse_negative=_b([p.allow_negative for p in purses]),
        budget_state=budget_state,
        **_per_household(model, ledger.plan),
    )


def cost_lines(plan) -> list[str]:
    """The budget lines of the costs per month in a state, in the order the kernel numbers them."""
    return list(dict.fromkeys(cost.line for cost in plan.state_costs))


def _per_household(model: KernelModel, plan) -> dict:
    """The fields of the ledger's per-household part (:mod:`sim.engines.fast_ledger`) from its plan."""
    n_states, k_max = model.to.shape
    out: dict = {"monthly_benefit": _f(plan.monthly_benefit)}
    if plan.lks is not None:
        out |= {"lks_state": plan.lks.state, "lks_cap": float(plan.lks.cap)}
    fund = plan.fund
    if fund is not None:
        watched = np.zeros((n_states, k_max), dtype=np.bool_)
        for s, k in fund.watched:
            watched[s, k] = True
        exits = sorted(fund.exits)
        exit_index = np.full((n_states, k_max), -1, dtype=np.int64)
        for i, (s, k) in enumerate(exits):
            exit_index[s, k] = i
        target = np.zeros(n_states, dtype=np.bool_)
        target[list(fund.targets)] = True
        cf = fund.counterfactual
        n_profiles = model.fund_cf_hazard.shape[1]
        segments = _f(plan.segments)
        empty = np.zeros((len(segments), n_profiles))
        out |= {
            "fund_watched": watched, "fund_exit": exit_index, "fund_target": target,
            "fund_has_counterfactual": cf is not None, "fund_segments": segments, "fund_horizon": float(plan.horizon),
            "fund_hazard": _f([fund.hazards[key] for key in exits]).reshape(len(exits), *empty.shape),
            "fund_cf_hazard": _f(fund.hazards[cf]) if cf is not None else empty,
            "fund_cf_share": float(plan.benefit_share[cf[0]]) if cf is not None else 0.0,
        }  # fmt: skip
    lines = cost_lines(plan)
    states = list(dict.fromkeys(cost.state for cost in plan.state_costs))  # Ledger.members' order
    cost0, cost_n = np.zeros(n_states, dtype=np.int64), np.zeros(n_states, dtype=np.int64)
    after, per_month, line = [], [], []
    for s in states:
        costs = [cost for cost in plan.state_costs if cost.state == s]
        cost0[s], cost_n[s] = len(after), len(costs)
        for cost in costs:
            after.append(cost.after)
            per_month.append(cost.per_month)
            line.append(lines.index(cost.line))
    return out | {"cost_states": _i(states), "cost0": cost0, "cost_n": cost_n, "cost_after": _f(after),
                  "cost_per_month": _f(per_month), "cost_line": _i(line)}  # fmt: skip


def kernel_state(c: Compiled, draws: np.ndarray, clocks: np.ndarray, profile: np.ndarray, arrivals: np.ndarray,
                 key: int, n_purses: int) -> KernelState:  # fmt: skip
    """The arrays of one replication of ``c`` (households' draws and profiles from :func:`sim.engines.fast._rows`).
    The large ones are this thread's :func:`scratch` buffers."""
    n = draws.shape[1]
    n_ids = n + 3
    slots = 2 * n_ids + 64  # room for every id's live entry and as many dead ones
    # a household has a few events over the run: a few hundred in each queue bucket
    per_month = max(1, round(3 * n / max(c.horizon, 1.0) / BUCKET_EVENTS))
    buckets = int(np.ceil(c.horizon * per_month)) + 1
    chunks = -(-slots // fq.CHUNK) + buckets  # every live entry, as many dead ones, a part-filled chunk a bucket
    capacity = [team.slots[0] for team in c.teams] + [caps[0] for caps in c.places if caps is not None]
    n_pools, k_max = len(capacity), c.layout.k_max
    n_months, n_states = c.n_months, len(c.states)
    ci = scratch("ci", (n_ids, fl.N_CI), np.int32)  # int32: half the cache lines an event touches
    ci.fill(0)
    ci[:, fl.C_LIVE] = -1
    ci[:, [fl.C_STATE, fl.C_PLACE]] = fl.NONE
    ci[:, [fl.C_SLOT_TEAM, fl.C_PLACE_K, fl.C_PENDING, fl.C_LOOK_STATE, fl.C_LOOK_EXCL]] = -1
    ci[:, fl.C_WOKEN] = 1  # nothing may wake a household before it first waits
    ci[:n, fl.C_PROFILE] = profile
    n_muni = max(1, len(c.municipalities))
    if n_muni > 1:  # a region: the municipality is the last attribute
        ci[:n, fl.C_MUNI] = np.asarray(c.attributes.profiles, dtype=np.int64)[profile, -1]
    n_groups, n_years = len(c.attributes.groups), len(c.calendar.years)
    cf = scratch("cf", (n, fl.C_CLOCKS + k_max), np.float64)
    cf.fill(0.0)
    on_spell = scratch("on_spell", (n,), np.float64)
    on_spell.fill(np.nan)  # no household is on the caseload before it arrives
    chunk_entry = scratch("chunk_entry", (chunks, fq.CHUNK, 3), np.int64)
    chunk_next = scratch("chunk_next", (chunks,), np.int64)
    chunk_next[:] = np.arange(1, chunks + 1)
    chunk_next[-1] = -1

    n_ledger = n if c.budget is not None else 0  # the ledger's per-household lists (fast_ledger)

    def listed(name, dtype):  # a household's entries in fast_ledger's lists are written when it joins one
        return scratch(name, (n_ledger,), dtype)

    fund_since = listed("fund_since", np.float64)
    fund_since.fill(np.nan)  # read at every exit from a financed state: NaN, not financed
    n_lines = len(cost_lines(c.budget)) if c.budget is not None else 0

    def ints(value, size=n):
        return np.full(size, value, dtype=np.int64)

    return KernelState(
        n_clients=n, horizon=float(c.horizon), arrival_id=n, month_id=n + 1, capacity_id=n + 2,
        ints=np.zeros(fl.N_INTS, dtype=np.int64), key=np.array([key], dtype=np.uint64),
        q_time=scratch("q_time", (slots,), np.float64), q_entry=scratch("q_entry", (slots, 2), np.int64),
        q_size=ints(0, 1), q_per_month=float(per_month), q_head=ints(-1, buckets), q_bucket=ints(0, 1),
        q_free=ints(0, 1), chunk_time=chunk_entry.view(np.float64), chunk_entry=chunk_entry,
        chunk_count=scratch("chunk_count", (chunks,), np.int64), chunk_next=chunk_next,
        draws=draws, clocks=clocks, arrivals=arrivals, ci=ci, cf=cf,
        pool_capacity=_i(capacity), pool_in_use=ints(0, n_pools), pool_waiting=ints(0, n_pools),
        pool_order=ints(0, n_pools), wait_key=scratch("wait_key", (n_pools, n), np.int64),
        wait_client=scratch("wait_client", (n_pools, n), np.int64), slot_pos=scratch("slot_pos", (n,), np.int32),
        place_pos=scratch("place_pos", (n,), np.int32),
        flows=np.zeros((n_months, n_muni, n_states, len(FLOWS)), dtype=np.int64),
        stock=np.zeros((n_muni, n_states), dtype=np.int64),
        stock_history=np.zeros((n_months, n_muni, n_states), dtype=np.int64), area=np.zeros((n_muni, n_states)),
        since=np.zeros((n_muni, n_states)), person_months=np.zeros((n_months, n_muni, n_states)),
        gflows=np.zeros((n_months, n_groups, len(GROUP_FLOWS)), dtype=np.int64), gstock=ints(0, n_groups),
        garea=np.zeros(n_groups), gsince=np.zeros(n_groups),
        gstock_history=np.zeros((n_months, n_groups), dtype=np.int64), gperson_months=np.zeros((n_months, n_groups)),
        durations=np.zeros((n_years, len(DURATION_EDGES)), dtype=np.int64), on_spell=on_spell,
        balance=ints(0, n_purses), spent=ints(0, n_purses), starts=ints(0, n_purses), fund_savings=ints(0, 1),
        fund_since=fund_since, lks_head=ints(-1, n_muni), lks_tail=ints(-1, n_muni),
        lks_next=listed("lks_next", np.int32), lks_prev=listed("lks_prev", np.int32),
        lks_loonwaarde=listed("lks_loonwaarde", np.float64),
        lks_count=ints(0, n_muni), lks_weight=np.zeros(n_muni), lks_area=np.zeros(n_muni),
        lks_since=np.zeros(n_muni), mem_head=ints(-1, n_states), mem_tail=ints(-1, n_states),
        mem_next=listed("mem_next", np.int32), mem_prev=listed("mem_prev", np.int32),
        member_since=listed("member_since", np.float64),
        accrued=np.zeros(n_lines), accrued_month=np.zeros((n_months, n_lines)),
        lks_area_month=np.zeros((n_months, n_muni)), closed=ints(0, n_months + 1), closed_at=np.zeros(n_months + 1),
        scratch=np.zeros(k_max),
    )  # fmt: skip


_buffers = threading.local()


def scratch(name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """A C-contiguous array of ``shape`` over this thread's buffer ``name``, reused from one replication to
    the next (contents undefined). Fresh memory costs a page fault per 4 kB at first touch: a third of the
    kernel's time at 16 times Utrecht's size, when every replication allocated its own."""
    size = int(np.prod(shape))
    pool = _buffers.__dict__
    flat = pool.get(name)
    if flat is None or flat.dtype != dtype or flat.size < size:
        flat = pool[name] = np.empty(size + size // 4 + 64, dtype=dtype)  # room to grow a little
    return flat[:size].reshape(shape)


fast_struct.define(KernelModel._fields, KernelState._fields)


def to_kernel(value: KernelModel | KernelState):
    """The StructRef the kernel reads, borrowing ``value``'s arrays (``value`` must outlive it); the named
    tuple itself when the kernel runs as plain Python (:data:`fast_struct.INTERPRETED`)."""
    if fast_struct.INTERPRETED:
        return value
    if isinstance(value, KernelModel):
        return fast_struct.model_struct(tuple(value))
    return fast_struct.state_struct(tuple(value))
