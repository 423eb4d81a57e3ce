"""The discrete-event engine: households as SimPy processes moving through a scenario's states.

Each household is one process. On entering a state it draws the time of its
next event exactly from the piecewise-constant hazards (spell-duration bands
and calendar-time levers are integrated in closed form), so nothing ticks.
Werkmatcher slots and instrument places are SimPy priority resources; a
client waiting for one keeps its (lower) unguided hazards and is woken when
the slot or place comes free.
"""

from __future__ import annotations

import itertools
import math
import time
from array import array
from dataclasses import dataclass

import numpy as np
import simpy

from sim.engines.sampling import ClockSampler
from sim.engines.slots import SlotPool
from sim.model.compiled import ASSIGN, INTAKE, OUT, Compiled
from sim.model.records import CLIENT_ID_ARRIVAL, FLOW_INDEX, FLOWS, KIND_FLOW, Event
from sim.model.streams import (
    ARRIVALS,
    INITIAL,
    INITIAL_DURATION,
    INTAKE0,
    N_INTAKE,
    WITHDRAW,
    Streams,
)

F_ENTRIES = FLOW_INDEX["entries"]
F_INFLOW = FLOW_INDEX["inflow"]
F_MOVEMENTS = FLOW_INDEX["movements"]
F_TRANSFERS = FLOW_INDEX["transfers_out"]
F_WITHDRAWN = FLOW_INDEX["withdrawn"]
F_GWAIT = FLOW_INDEX["guidance_waits"]
F_GSTART = FLOW_INDEX["guidance_starts"]
F_PWAIT = FLOW_INDEX["place_waits"]
F_REFUSED = FLOW_INDEX["refused"]
N_FLOWS = len(FLOWS)
TIMER = "timer"  # the value a client's own timer rings its wake-up event with


class WakeUp(simpy.Event):
    """An event rung by whichever comes first: the client's timer or a granted slot."""

    def trigger_once(self, event: simpy.Event) -> None:
        if not self.triggered:
            self.succeed(event.value)


class Client:
    __slots__ = (
        "id", "population", "number", "row", "base", "profile", "levels", "loonwaarde", "state",
        "spell_start", "n_sojourn", "n_intake", "overflow", "slot", "slot_team",
        "place", "place_target", "held_place", "clocks", "look_state", "look_table", "look_time",
    )  # fmt: skip

    def __init__(self, population: int, number: int, row: tuple[array, int]):
        self.population = population
        self.number = number
        self.id = number if population == INITIAL else CLIENT_ID_ARRIVAL + number
        self.row, self.base = row  # the client's uniforms are row[base : base + streams.WIDTH]
        self.n_sojourn = self.n_intake = 0
        self.overflow = None
        self.clocks = self.look_state = self.look_table = self.look_time = None
        self.slot = self.slot_team = None
        self.place = self.place_target = self.held_place = None


@dataclass
class Result:
    """What one replication produces; arrays are indexed [month, state(, flow)]."""

    replication: int
    stock: np.ndarray  # end-of-month stock, int64 [month, state]
    flows: np.ndarray  # int64 [month, state, flow]
    person_months: np.ndarray  # time-integral of stock, float64 [month, state]
    events_processed: int
    clients: int
    wall_seconds: float
    events: list[Event] | None = None
    budget: np.ndarray | None = None  # int64 cents and counts [year, column] (sim.budget.ledger)


class Model(ClockSampler):
    """One replication of one scenario."""

    def __init__(self, compiled: Compiled, seed: int, replication: int, log_events: bool = False):
        self.c = compiled
        self.env = simpy.Environment()
        self.streams = Streams(seed, replication)
        self.replication = replication
        self.states = compiled.states
        self.n_states = len(self.states)
        self.horizon = compiled.horizon
        self.n_months = int(math.ceil(self.horizon))
        self.cal_edges = compiled.calendar_edges
        self.log: list[Event] | None = [] if log_events else None
        self.flows = [0] * (self.n_months * self.n_states * N_FLOWS)
        self.stock = [0] * self.n_states
        self.stock_history = np.zeros((self.n_months, self.n_states), dtype=np.int64)
        self.area = [0.0] * self.n_states
        self.area_since = [0.0] * self.n_states
        self.person_months = np.zeros((self.n_months, self.n_states))
        self.clients = 0
        self._tables: dict[tuple, list] = {}
        self._own_tables = type(self).hazard_table is ClockSampler.hazard_table
        self.teams = [SlotPool(self.env, slots[0]) for slots in compiled.team_slots]
        self.places = {s: SlotPool(self.env, caps[0]) for s, caps in compiled.places.items()}
        self._priorities = {
            ("team", i): self._compile_rules(t.priority) for i, t in enumerate(compiled.teams)
        } | {("place", s): self._compile_rules(self.states[s].priority) for s in self.places}
        self._attr_cdfs = [  # per attribute: cumulative level shares
            list(itertools.accumulate(compiled.scenario.attributes[name].levels.values.values()))
            for name in compiled.attribute_names
        ]
        intake_rate = self.states[INTAKE].transitions[0].rate
        self._intake_immediate = intake_rate == 0.0
        cum, self._intake_cdf = 0.0, []
        for s, share in compiled.intake_shares:
            lo, hi = self.states[s].loonwaarde
            self._intake_cdf.append((cum, cum + share, s, lo, hi))
            cum += share
        # budget hooks: empty sets cost one falsy test per transition when there is no budget
        self.ledger = None
        self._costed = self._budget_keys = self._budget_states = frozenset()
        if compiled.scenario.budget is not None:
            from sim.budget.ledger import Ledger

            self.ledger = Ledger(self)
            self._costed, self._budget_keys, self._budget_states = self.ledger.costed, self.ledger.keys, self.ledger.states
        # what the event loop needs of each state and transition, looked up once
        self._team_of = [st.team for st in self.states]
        self._shape = [  # (transitions, duration band edges, hazards constant until the horizon)
            (len(st.transitions), st.duration_edges, not st.duration_edges and len(self.cal_edges) == 1)
            for st in self.states
        ]
        self._on_caseload = [st.on_caseload for st in self.states]
        self._has_places = [st.has_places for st in self.states]
        self._steps = [[self._step(s, k, tr) for k, tr in enumerate(st.transitions)] for s, st in enumerate(self.states)]

    def _step(self, s: int, k: int, tr) -> tuple:
        """(destination, flow counters of the origin, starts a new spell, costed, budget-tracked)."""
        return (tr.to, _flow_plan(s, tr), tr.kind == "reinflow", (s, k) in self._costed, (s, k) in self._budget_keys)

    # -- running -----------------------------------------------------------------
    def run(self) -> Result:
        started = time.perf_counter()
        env = self.env
        self._create_initial_population()
        env.process(self._arrivals())
        env.process(self._month_ends())
        if len(self.cal_edges) > 1:
            env.process(self._capacity_changes())
        env.run(until=self.horizon)
        self._close_month(self.n_months - 1, self.horizon)
        flows = np.array(self.flows, dtype=np.int64).reshape(self.n_months, self.n_states, N_FLOWS)
        return Result(
            replication=self.replication,
            stock=self.stock_history,
            flows=flows,
            person_months=self.person_months,
            events_processed=next(env._eid),  # SimPy numbers every scheduled event
            clients=self.clients,
            wall_seconds=time.perf_counter() - started,
            events=self.log,
            budget=self.ledger.table if self.ledger is not None else None,
        )

    def _month_ends(self):
        for month in range(self.n_months - 1):
            yield self.env.timeout(month + 1 - self.env.now)
            self._close_month(month, month + 1.0)

    def _close_month(self, month: int, at: float) -> None:
        for s in range(self.n_states):
            self.area[s] += self.stock[s] * (at - self.area_since[s])
            self.area_since[s] = at
            self.person_months[month, s] = self.area[s]
            self.area[s] = 0.0
        self.stock_history[month] = self.stock
        if self.ledger is not None:
            self.ledger.close_month(month, at)

    def _capacity_changes(self):
        c = self.c
        for j in range(1, len(self.cal_edges)):
            yield self.env.timeout(self.cal_edges[j] - self.env.now)
            for pool, caps in zip(self.teams, c.team_slots):
                pool.set_capacity(caps[j])
            for s, pool in self.places.items():
                pool.set_capacity(c.places[s][j])

    # -- population --------------------------------------------------------------
    def _new_client(self, population: int, number: int) -> Client:
        cl = Client(population, number, self.streams.client_row(population, number))
        cl.profile = self.streams.profile(population, number, self._attr_cdfs)
        cl.levels = self.c.profiles[cl.profile]
        self.clients += 1
        return cl

    def _create_initial_population(self) -> None:
        number = 0
        for s, st in enumerate(self.states):
            for _ in range(st.initial):
                cl = self._new_client(INITIAL, number)
                number += 1
                lo, hi = st.loonwaarde
                cl.loonwaarde = lo + (hi - lo) * cl.row[cl.base + INTAKE0]
                cl.n_intake = 1
                cl.spell_start = st.initial_duration * math.log(1.0 - cl.row[cl.base + INITIAL_DURATION])
                cl.state = s
                self._add_stock(s, 1)
                if s in self._budget_states:
                    self.ledger.on_move(cl, None, s)
                self.env.process(self._life(cl))

    def _arrivals(self):
        env = self.env
        gen = self.streams.inflow()
        segments = self.c.inflow_segments
        exps = gen.standard_exponential(4096).tolist()
        seg, number, t = 0, 0, 0.0
        while True:
            if not exps:
                exps = gen.standard_exponential(4096).tolist()
            need = exps.pop()
            while True:  # invert the cumulative inflow rate
                start, rate = segments[seg]
                end = segments[seg + 1][0] if seg + 1 < len(segments) else self.horizon
                if rate > 0 and t + need / rate < end:
                    t += need / rate
                    break
                need -= rate * (end - t)
                t = end
                seg += 1
                if seg >= len(segments):
                    return
            yield env.timeout(t - env._now)
            cl = self._new_client(ARRIVALS, number)
            number += 1
            env.process(self._life(cl, arriving=True))

    # -- a household's life -------------------------------------------------------
    def _life(self, cl: Client, arriving: bool = False):
        env = self.env
        if arriving:  # the youth search period, then the intake
            sp = self.c.search_period
            if sp is not None and cl.levels[sp[0]] == sp[1]:
                if cl.row[cl.base + WITHDRAW] < sp[3]:
                    self._count(INTAKE, F_WITHDRAWN)
                    self._record(cl, INTAKE, "", "withdrawn", "arrival", "")
                    return
                yield env.timeout(sp[2])
            cl.spell_start = env._now
            self._enter_intake(cl)
        team_of = self._team_of
        while cl.state is not None:
            s = cl.state
            team = team_of[s]
            guided = None
            if team is not None:
                if cl.slot is None:
                    self._request_slot(cl, team)
                guided = cl.slot.granted
            waiting = guided is False or cl.place is not None
            nxt = self._next_event(cl, s, guided, waiting)
            if waiting:
                # one wake-up event, rung by the timer or by the pool granting a slot or place
                wake = WakeUp(env)
                if guided is False:
                    cl.slot.event = wake
                if cl.place is not None:
                    cl.place.event = wake
                if nxt is not None:
                    env.timeout(nxt[0] - env._now, TIMER).callbacks.append(wake.trigger_once)
                if (yield wake) is not TIMER:
                    if cl.place is not None and cl.place.granted:
                        self._take_place(cl)
                    else:
                        self._count(s, F_GSTART)
                        self._record(cl, s, "", "werkmatcher", "guidance", "")
                    continue
            elif nxt is None:
                return
            else:
                yield env.timeout(nxt[0] - env._now)
            self._fire(cl, s, nxt[1])

    def _fire(self, cl: Client, s: int, k: int) -> None:
        cl.clocks = None  # an event happened: the next sojourn draws fresh clocks
        to, _, _, costed, _ = self._steps[s][k]
        if to == ASSIGN:
            to = self._assign(cl)
        if costed and not self.ledger.affordable(s, k):
            self._refuse(cl, s, k)
            return
        if to >= 0 and to != s and self._has_places[to]:
            pool = self.places[to]
            request = pool.request(self._priority(cl, ("place", to)) if pool.must_wait() else 0)
            cl.place, cl.place_target = request, k
            if not request.granted:  # stay put, on the waiting list
                self._count(s, F_PWAIT)
                self._record(cl, s, self.states[to].name, "place_request", "queue", "")
                return
            self._take_place(cl)
            return
        self._complete(cl, s, k, to)

    def _take_place(self, cl: Client) -> None:
        """The place is free: the transition that asked for it happens now."""
        k, request = cl.place_target, cl.place
        cl.place = cl.place_target = None
        cl.clocks = None
        s = cl.state
        to, _, _, costed, _ = self._steps[s][k]
        if costed and not self.ledger.affordable(s, k):
            self.places[to].release(request)  # the money ran out while the client waited
            self._refuse(cl, s, k)
            return
        self._complete(cl, s, k, to)
        cl.held_place = request

    def _refuse(self, cl: Client, s: int, k: int) -> None:
        """No budget can pay this start: the client stays where it is."""
        self._count(s, F_REFUSED)
        self.ledger.refused(s, k)
        self._record(cl, s, "", self.states[s].transitions[k].name, "refused", "")

    def _complete(self, cl: Client, s: int, k: int, to: int) -> None:
        """Transition ``k`` out of ``s`` happens now: count it, pay for it, move the client."""
        _, plan, new_spell, _, budgeted = self._steps[s][k]
        now = self.env._now
        month = int(now)
        counted = month < self.n_months
        flows = self.flows
        if counted:
            base = (month * self.n_states + s) * N_FLOWS
            for f in plan:
                flows[base + f] += 1
        if budgeted:
            self.ledger.on_transition(cl, s, k, to)
        if self.log is not None:
            tr = self.states[s].transitions[k]
            self._record(cl, s, "out" if to == OUT else self.states[to].name, tr.name, tr.kind, tr.movement or "")
        if to == s:
            return
        # leave s: give back what the client held there
        if cl.held_place is not None:
            self.places[s].release(cl.held_place)
            cl.held_place = None
        if cl.place is not None:  # leaving while waiting for a place elsewhere
            self.places[self.states[s].transitions[cl.place_target].to].release(cl.place)
            cl.place = cl.place_target = None
        if cl.slot is not None and (to < 0 or self._team_of[to] != cl.slot_team):
            self.teams[cl.slot_team].release(cl.slot)
            cl.slot = cl.slot_team = None
        stock, area, since = self.stock, self.area, self.area_since  # _add_stock(s, -1), inlined
        area[s] += stock[s] * (now - since[s])
        since[s] = now
        stock[s] -= 1
        if self._budget_states and (s in self._budget_states or to in self._budget_states):
            self.ledger.on_move(cl, s, to)
        if to == OUT:
            cl.state = None
            return
        if new_spell or self._on_caseload[to] != self._on_caseload[s]:
            cl.spell_start = now
        if to == INTAKE:
            self._enter_intake(cl)
            return
        cl.state = to
        area[to] += stock[to] * (now - since[to])  # _add_stock(to, 1), inlined
        since[to] = now
        stock[to] += 1
        if counted:
            flows[(month * self.n_states + to) * N_FLOWS + F_ENTRIES] += 1

    def _enter_intake(self, cl: Client) -> None:
        self._count(INTAKE, F_INFLOW)
        self._record(cl, INTAKE, "", "arrival", "arrival", "")
        if self._intake_immediate:
            to = self._assign(cl)
            cl.state = to
            self._add_stock(to, 1)
            self._count(to, F_ENTRIES)
            return
        cl.state = INTAKE
        self._add_stock(INTAKE, 1)
        self._count(INTAKE, F_ENTRIES)

    def _assign(self, cl: Client) -> int:
        """Arrangement by loonwaarde: one uniform picks the band and the value within it."""
        if cl.n_intake < N_INTAKE:
            u = cl.row[cl.base + INTAKE0 + cl.n_intake]
        else:
            u = self._overflow(cl).random()  # noqa: S311 (simulation, not cryptography)
        cl.n_intake += 1
        for lower, upper, s, lo, hi in self._intake_cdf:
            if u < upper:
                break
        cl.loonwaarde = lo + (hi - lo) * min(1.0, (u - lower) / max(upper - lower, 1e-300))
        return s

    # -- waiting lists -------------------------------------------------------------
    def _request_slot(self, cl: Client, team: int) -> None:
        pool = self.teams[team]
        cl.slot = pool.request(self._priority(cl, ("team", team)) if pool.must_wait() else 0)
        cl.slot_team = team
        if not cl.slot.granted:
            self._count(cl.state, F_GWAIT)
            self._record(cl, cl.state, "", "werkmatcher_request", "queue", "")
        else:
            self._count(cl.state, F_GSTART)
            if self.log is not None:
                self._record(cl, cl.state, "", "werkmatcher", "guidance", "")

    def _compile_rules(self, rules) -> list[tuple]:
        names = self.c.attribute_names
        out = []
        for rule in rules:
            if rule.attribute is not None:
                out.append(("attr", names.index(rule.attribute), rule.equals))
            elif rule.spell_months_below is not None:
                out.append(("new", rule.spell_months_below, None))
            else:
                out.append(("loonwaarde", rule.loonwaarde_at_least, None))
        return out

    def _priority(self, cl: Client, key: tuple) -> int:
        """Lexicographic priority: rule i outweighs all later rules together (lower is served first)."""
        rules = self._priorities[key]
        score = 0
        for i, (what, a, b) in enumerate(rules):
            if what == "attr":
                hit = cl.levels[a] == b
            elif what == "new":
                hit = self.env.now - cl.spell_start < a
            else:
                hit = cl.loonwaarde >= a
            if hit:
                score += 1 << (len(rules) - 1 - i)
        return -score

    def _overflow(self, cl: Client):
        if cl.overflow is None:
            cl.overflow = self.streams.overflow(cl.population, cl.number)
        return cl.overflow

    # -- bookkeeping ---------------------------------------------------------------
    def _add_stock(self, s: int, delta: int) -> None:
        now = self.env._now
        self.area[s] += self.stock[s] * (now - self.area_since[s])
        self.area_since[s] = now
        self.stock[s] += delta

    def _count(self, s: int, flow: int) -> None:
        month = int(self.env._now)
        if month < self.n_months:
            self.flows[(month * self.n_states + s) * N_FLOWS + flow] += 1

    def _record(self, cl: Client, s: int, to: str, transition: str, kind: str, movement: str) -> None:
        if self.log is not None:
            self.log.append(Event(self.env._now, cl.id, self.states[s].name, to, transition, kind, movement))


def _flow_plan(s: int, tr) -> tuple[int, ...]:
    """Which counters of the origin state a transition increments."""
    plan = []
    if tr.kind in KIND_FLOW:
        plan.append(FLOW_INDEX[KIND_FLOW[tr.kind]])
    elif tr.kind == "transfer" and tr.to != s and s != INTAKE:
        plan.append(F_TRANSFERS)
    if tr.movement is not None:
        plan += [F_MOVEMENTS, FLOW_INDEX[tr.movement]]
    return tuple(plan)


def simulate(compiled: Compiled, seed: int, replication: int = 0, log_events: bool = False) -> Result:
    """Run one replication."""
    return Model(compiled, seed, replication, log_events).run()
