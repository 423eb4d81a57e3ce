"""A minimal reference kernel: the engines' stochastic process without capacity, written for the benchmark.

The floor for the compiled engine (benchmarks/compiled_vs_reference.py). It
simulates the same process as the engines on a capacity-free model (no
werkmatchers, places or budget): the initial population with its attributes,
loonwaarde and spell durations, Poisson applications with the piecewise inflow
rate, the search period, intake and the loonwaarde draw, competing risks over
the same piecewise-constant hazards (calendar segments and spell-duration
bands, ``Compiled.hazard_table``), re-inflow with a new spell, and the same
outputs (end-of-month stock, flows and person-months per month and state).

It is as lean as that process allows: one household at a time from arrival to
exit, random numbers drawn where they are used (numba's own generator), no
event queue, no common-random-number rows, stocks from entry and exit months.
It is not reproducible against the engines number for number, only in law.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.model.compiled import ASSIGN, INTAKE, NO_TEAM, OUT, Compiled
from sim.model.records import FLOW_INDEX, FLOWS

F_ENTRIES, F_INFLOW, F_WITHDRAWN = FLOW_INDEX["entries"], FLOW_INDEX["inflow"], FLOW_INDEX["withdrawn"]


def arrays(c: Compiled) -> tuple:
    """The model as arrays (capacity-free models only)."""
    if c.teams or any(p is not None for p in c.places) or c.budget is not None:
        raise ValueError("the reference kernel runs capacity-free models only")
    n_states, n_prof = len(c.states), len(c.attributes.profiles)
    k_max = max(len(st.transitions) for st in c.states)
    n_bands = max(len(st.duration_edges) + 1 for st in c.states)
    tables = np.zeros((n_states, n_prof, len(c.segments), n_bands, k_max))
    edges = np.full((n_states, n_bands), np.inf)
    to = np.zeros((n_states, k_max), dtype=np.int64)
    flows = np.full((n_states, k_max, 4), -1, dtype=np.int64)
    new_spell = np.zeros((n_states, k_max), dtype=np.bool_)
    for s, st in enumerate(c.states):
        for p in range(n_prof):
            t = c.hazard_table(s, NO_TEAM, p)
            tables[s, p, :, : t.shape[1], : t.shape[2]] = t
        edges[s, : len(st.duration_edges)] = st.duration_edges
        for k, tr in enumerate(st.transitions):
            to[s, k], new_spell[s, k] = tr.to, tr.new_spell
            flows[s, k, : len(tr.flows)] = tr.flows
    cdfs = np.ones((max(1, len(c.attributes.cdfs)), 8))
    for a, cdf in enumerate(c.attributes.cdfs):
        cdfs[a, : len(cdf)] = cdf
    radix = np.array([len(lv) for lv in c.attributes.levels] or [1], dtype=np.int64)
    search = c.intake.search
    return (
        tables, edges, np.array([len(st.duration_edges) for st in c.states]),
        np.array([len(st.transitions) for st in c.states]),
        to, flows, new_spell, np.array([st.on_caseload for st in c.states]), np.array(c.segments),
        np.array([st.initial for st in c.states]), np.array([st.initial_duration for st in c.states]),
        np.array([st.loonwaarde for st in c.states]), np.array([b[1] for b in c.intake.bins]),
        np.array([b[2] for b in c.intake.bins]), cdfs, radix, len(c.attributes.cdfs),
        np.array([s for s, _ in c.inflow]), np.array([r for _, r in c.inflow]), float(c.intake.rate),
        search is not None, search.attribute if search else 0, search.level if search else 0,
        search.months if search else 0.0, search.withdraw_share if search else 0.0, float(c.horizon), c.n_months,
    )  # fmt: skip


@njit(cache=True)
def _profile(cdfs, radix, n_attr, levels_out):
    p = 0
    for a in range(n_attr):
        u = np.random.random()
        lv = 0
        while lv < radix[a] - 1 and u >= cdfs[a, lv]:
            lv += 1
        levels_out[a] = lv
        p = p * radix[a] + lv
    return p


@njit(cache=True)
def _occupy(pm, s, a, b):
    """Add the time in state ``s`` over [a, b) to the person-months of the months it spans."""
    m = int(a)
    while a < b:
        end = min(b, m + 1.0)
        pm[m, s] += end - a
        a = end
        m += 1


@njit(cache=True)
def _life(s, t, spell, prof, tables, edges, n_edges, n_tr, to, flows, new_spell, on_cl, cal, bins_hi, bins_state,
          intake_rate, horizon, stock_d, flow_out, pm, clocks):  # fmt: skip
    while s != OUT:
        n = n_tr[s]
        for k in range(n):
            clocks[k] = -math.log(1.0 - np.random.random())
        # competing risks over piecewise-constant hazards
        j = 0
        while j + 1 < cal.shape[0] and cal[j + 1] <= t:
            j += 1
        b = 0
        while b < n_edges[s] and edges[s, b] <= t - spell:
            b += 1
        u, fired = t, -1
        while True:
            t_cal = cal[j + 1] if j + 1 < cal.shape[0] else horizon
            t_dur = spell + edges[s, b] if b < n_edges[s] else np.inf
            t_end = min(t_cal, t_dur, horizon)
            best = t_end
            for k in range(n):
                h = tables[s, prof, j, b, k]
                if h > 0.0:
                    at = u + clocks[k] / h
                    if at < best:
                        best, fired = at, k
            if fired >= 0:
                u = best
                break
            if t_end >= horizon:
                break
            for k in range(n):
                clocks[k] -= tables[s, prof, j, b, k] * (t_end - u)
            u = t_end
            if t_cal == t_end:
                j += 1
            if t_dur == t_end:
                b += 1
        if fired < 0:
            _occupy(pm, s, t, horizon)
            return
        _occupy(pm, s, t, u)
        month = int(u)
        for f in range(4):
            if flows[s, fired, f] >= 0:
                flow_out[month, s, flows[s, fired, f]] += 1
        dest = to[s, fired]
        if dest == s:
            t = u
            continue
        stock_d[month, s] -= 1
        if dest == OUT:
            return
        if new_spell[s, fired] or (dest != ASSIGN and on_cl[dest] != on_cl[s]):
            spell = u
        if dest == ASSIGN:
            v = np.random.random()
            i = 0
            while i < bins_hi.shape[0] - 1 and v >= bins_hi[i]:
                i += 1
            dest = bins_state[i]
        elif dest == INTAKE:
            flow_out[month, INTAKE, F_INFLOW] += 1
            if intake_rate == 0.0:
                v = np.random.random()
                i = 0
                while i < bins_hi.shape[0] - 1 and v >= bins_hi[i]:
                    i += 1
                dest = bins_state[i]
        stock_d[month, dest] += 1
        flow_out[month, dest, F_ENTRIES] += 1
        s, t = dest, u


@njit(cache=True)
def simulate(seed, tables, edges, n_edges, n_tr, to, flows, new_spell, on_cl, cal, initial, init_dur, loonwaarde,
             bins_hi, bins_state, cdfs, radix, n_attr, in_start, in_rate, intake_rate, has_search, sp_attr, sp_level,
             sp_months, sp_share, horizon, n_months):  # fmt: skip
    """One replication: (stock, flows, person_months) as the engines' ``Result`` arrays."""
    np.random.seed(seed)
    n_states = initial.shape[0]
    stock_d = np.zeros((n_months + 1, n_states), dtype=np.int64)
    flow_out = np.zeros((n_months, n_states, len(FLOWS)), dtype=np.int64)
    pm = np.zeros((n_months + 1, n_states))
    clocks = np.empty(to.shape[1])
    levels = np.zeros(max(1, n_attr), dtype=np.int64)
    for s in range(n_states):
        for _ in range(initial[s]):
            prof = _profile(cdfs, radix, n_attr, levels)
            np.random.random()  # the loonwaarde within the state's band
            spell = init_dur[s] * math.log(1.0 - np.random.random())
            stock_d[0, s] += 1
            _life(s, 0.0, spell, prof, tables, edges, n_edges, n_tr, to, flows, new_spell, on_cl, cal, bins_hi,
                  bins_state, intake_rate, horizon, stock_d, flow_out, pm, clocks)  # fmt: skip
    seg, t = 0, 0.0
    while True:  # applications: a Poisson process with a piecewise-constant rate
        need = -math.log(1.0 - np.random.random())
        while seg < in_start.shape[0]:
            end = in_start[seg + 1] if seg + 1 < in_start.shape[0] else horizon
            if in_rate[seg] > 0 and t + need / in_rate[seg] < end:
                t += need / in_rate[seg]
                break
            need -= in_rate[seg] * (end - t)
            t = end
            seg += 1
        if seg >= in_start.shape[0]:
            break
        prof = _profile(cdfs, radix, n_attr, levels)
        start = t
        if has_search and levels[sp_attr] == sp_level:
            if np.random.random() < sp_share:
                flow_out[int(t), 0, F_WITHDRAWN] += 1
                continue
            start = t + sp_months
            if start >= horizon:
                continue
        month = int(start)
        flow_out[month, INTAKE, F_INFLOW] += 1
        s = INTAKE
        if intake_rate == 0.0:
            v = np.random.random()
            i = 0
            while i < bins_hi.shape[0] - 1 and v >= bins_hi[i]:
                i += 1
            s = bins_state[i]
        stock_d[month, s] += 1
        flow_out[month, s, F_ENTRIES] += 1
        _life(s, start, start, prof, tables, edges, n_edges, n_tr, to, flows, new_spell, on_cl, cal, bins_hi,
              bins_state, intake_rate, horizon, stock_d, flow_out, pm, clocks)  # fmt: skip
    stock = np.empty((n_months, n_states), dtype=np.int64)
    running = np.zeros(n_states, dtype=np.int64)
    for m in range(n_months):
        running += stock_d[m]
        stock[m] = running
    return stock, flow_out, pm[:n_months]
