"""The reference engine: households as SimPy processes moving through a compiled model's states.

Each household is one process. On entering a state it draws the time of its
next event exactly from the piecewise-constant hazards (spell-duration bands
and calendar-time levers are integrated in closed form, :mod:`sampling`), so
nothing ticks. Werkmatcher slots and instrument places are counted pools with
priority waiting lists (:mod:`slots`); a client waiting for one keeps its
(lower) unguided hazards and is woken when the slot or place comes free.
Money goes through the ledger's hooks (:mod:`sim.budget.ledger`).

The engine reads only the :class:`~sim.model.compiled.Compiled` model.
"""

from __future__ import annotations

import bisect
import gc
import math
import time
from array import array

import numpy as np
import simpy

from sim.budget.ledger import Ledger
from sim.engines import sampling
from sim.engines.result import Result
from sim.engines.slots import SlotPool
from sim.model.compiled import (
    ASSIGN,
    GUIDED,
    INTAKE,
    NO_TEAM,
    OUT,
    RULE_LEVEL,
    RULE_NEW_SPELL,
    UNGUIDED,
    Compiled,
    priority_score,
)
from sim.model.records import (
    CLIENT_ID_ARRIVAL,
    DURATION_EDGES,
    F_ENTRIES,
    F_GSTART,
    F_GWAIT,
    F_INFLOW,
    F_PWAIT,
    F_REFUSED,
    F_WITHDRAWN,
    FLOWS,
    G_INFLOW,
    GROUP_FLOWS,
    Event,
)
from sim.model.streams import N_INTAKE, N_SOJOURNS, Stream, Streams

N_FLOWS = len(FLOWS)
N_GROUP_FLOWS = len(GROUP_FLOWS)
DURATION_EDGES_ARRAY = np.array(DURATION_EDGES, dtype=float)
INITIAL = int(Stream.INITIAL)
TIMER = "timer"  # the value a client's own timer rings its wake-up event with
ARRIVAL_BATCH = 4096  # exponential inter-arrival draws taken from the inflow stream at a time
GC_GEN0 = 50_000  # allocations between young-generation collections while a replication runs


class WakeUp(simpy.Event):
    """An event rung by whichever comes first: the client's timer or a granted slot."""

    def trigger_once(self, event: simpy.Event) -> None:
        if not self.triggered:
            self.succeed(event.value)


class Client:
    __slots__ = (
        "id", "population", "number", "row", "base", "profile", "levels", "loonwaarde", "state",
        "spell_start", "entered", "groups", "muni", "n_sojourn", "n_intake", "overflow", "slot", "slot_team",
        "place", "place_target", "place_to", "held_place", "clocks", "look_state", "look_table", "look_time",
        "cell", "scell", "gcells",
    )  # fmt: skip

    def __init__(self, population: int, number: int, row: array, base: int, profile: int, facts: tuple):
        self.population = population
        self.number = number
        self.id = number if population == INITIAL else CLIENT_ID_ARRIVAL + number
        self.row, self.base = row, base  # the client's uniforms are row[base : base + layout.width]
        self.profile = profile
        # what follows from the profile (Model._facts): levels, groups, their flow cells, municipality, cells
        self.levels, self.groups, self.gcells, self.muni, self.scell, self.cell = facts
        self.n_sojourn = self.n_intake = 0
        self.overflow = None
        self.state = None
        self.clocks = self.look_state = self.look_table = self.look_time = None
        self.slot = self.slot_team = None
        self.place = self.place_target = self.place_to = self.held_place = None


class HazardTables:
    """The hazard table a client meets in a state: ``table[segment][band][transition]``.

    Tables depend on the client only through its attribute profile and are built
    once per (state, service mode, profile). An experiment gives some clients
    tables of their own by passing a subclass (:mod:`sim.analysis.experiment.model`).
    """

    def __init__(self, compiled: Compiled):
        self.c = compiled
        self._cache: dict[tuple[int, int, int], list] = {}

    def get(self, cl: Client, s: int, mode: int) -> list:
        key = (s, mode, cl.profile)
        table = self._cache.get(key)
        if table is None:
            table = self._cache[key] = self.c.hazard_table(s, mode, cl.profile).tolist()
        return table


class Model:
    """One replication of one compiled scenario."""

    def __init__(self, compiled: Compiled, seed: int, replication: int, log_events: bool = False,
                 tables: HazardTables | None = None):  # fmt: skip
        self.c = compiled
        self.env = simpy.Environment()
        self.scheduled = 0  # timeouts and wake-ups the model asked SimPy for (a throughput figure)
        self.streams = Streams(seed, replication, compiled.layout)
        self.replication = replication
        self.tables = tables or HazardTables(compiled)
        self.states = compiled.states
        self.n_states = len(self.states)
        self.horizon = compiled.horizon
        self.n_months = compiled.n_months
        self.cal_edges = compiled.segments
        self.log: list[Event] | None = [] if log_events else None
        # stocks and flows per (municipality, state): one municipality unless the scenario is a region
        self.n_muni = max(1, len(compiled.municipalities))
        cells = self.n_muni * self.n_states
        self.flows = [0] * (self.n_months * cells * N_FLOWS)
        self.stock = [0] * cells
        self.stock_history = np.zeros((self.n_months, self.n_muni, self.n_states), dtype=np.int64)
        self.area = [0.0] * cells
        self.area_since = [0.0] * cells
        self.person_months = np.zeros((self.n_months, self.n_muni, self.n_states))
        self.clients = 0
        self.households: dict[int, Client] = {}  # by id, every household until it leaves (the year-end count scans them)
        self.durations = np.zeros((len(compiled.calendar.years), len(DURATION_EDGES)), dtype=np.int64)
        # outputs by attribute level (focus groups): flows, and on-caseload stock and its time integral
        self.n_groups = len(compiled.attributes.groups)
        self.gflows = [0] * (self.n_months * self.n_groups * N_GROUP_FLOWS)
        self.gstock = [0] * self.n_groups
        self.garea = [0.0] * self.n_groups
        self.gsince = [0.0] * self.n_groups
        self.gstock_history = np.zeros((self.n_months, self.n_groups), dtype=np.int64)
        self.gperson_months = np.zeros((self.n_months, self.n_groups))
        self._facts = []  # per profile: levels, groups, their flow cells, municipality, stock cells, flow cells
        for p, levels in enumerate(compiled.attributes.profiles):
            groups = compiled.attributes.group_indices(p)
            muni = levels[-1] if self.n_muni > 1 else 0
            self._facts.append((levels, groups, tuple(g * N_GROUP_FLOWS for g in groups), muni,
                                muni * self.n_states, muni * self.n_states * N_FLOWS))  # fmt: skip
        self._cdfs = compiled.attributes.cdfs
        self.teams = [SlotPool(team.slots[0]) for team in compiled.teams]
        self.places = {s: SlotPool(caps[0]) for s, caps in enumerate(compiled.places) if caps is not None}
        layout = compiled.layout
        self._clock0, self._k_max = layout.clock0, layout.k_max
        self._intake0, self._initial_duration, self._withdraw = layout.intake0, layout.initial_duration, layout.withdraw
        self._intake_immediate = compiled.intake.rate == 0.0
        # budget hooks: empty sets cost one falsy test per transition when there is no budget
        self.ledger = None
        self._costed = self._budget_keys = self._budget_states = frozenset()
        if compiled.budget is not None:
            self.ledger = Ledger(compiled.budget, seed, replication, log=log_events)
            self._costed, self._budget_keys, self._budget_states = self.ledger.costed, self.ledger.keys, self.ledger.states
        # what the event loop needs of each state and transition, looked up once
        self._team_of = [st.team for st in self.states]
        self._shape = [  # (transitions, duration band edges, hazards constant until the horizon)
            (len(st.transitions), st.duration_edges, not st.duration_edges and len(self.cal_edges) == 1)
            for st in self.states
        ]
        self._on_caseload = [st.on_caseload for st in self.states]
        self._has_places = [st.has_places for st in self.states]
        self._max_stay = [(st.max_stay, st.expiry) if st.max_stay is not None else None for st in self.states]
        # (destination, flow cells counted relative to the client's cell in a month, new spell, costed,
        # budget-tracked, group counters)
        self._steps = [
            [(tr.to, tuple(s * N_FLOWS + f for f in tr.flows), tr.new_spell, (s, k) in self._costed,
              (s, k) in self._budget_keys, tr.groups)
             for k, tr in enumerate(st.transitions)]
            for s, st in enumerate(self.states)
        ]  # fmt: skip
        self._stops = [team.stops for team in compiled.teams]  # (attribute, level, from) a team stopped serving
        self._rules = {("team", i): t.priority for i, t in enumerate(compiled.teams)}
        self._rules |= {("place", s): self.states[s].priority for s in self.places}
        # the per-event path: flat offsets into flows / gflows, live hazard tables per profile (sampling.live)
        self._month_cells = self.n_muni * self.n_states * N_FLOWS  # flows per month
        self._profiles = compiled.attributes.profiles
        self._direct = type(self.tables).get is HazardTables.get  # tables depend on the profile alone
        self._live = [[None] * (3 * self.n_states) for _ in self._profiles]  # [profile][3 s + mode]
        self._lived: dict[int, tuple[list, tuple]] = {}  # id(table) -> (table, live table), other tables
        self._without: dict[tuple[int, int], tuple[tuple, tuple]] = {}  # (id(live table), k) -> (it, without k)
        bins = compiled.intake.bins
        self._bin_uppers = [b[1] for b in bins]
        # (cdf low, state, loonwaarde low, width of the loonwaarde band, width of the cdf band) per bin
        self._bins = [(lower, s, lo, hi - lo, max(upper - lower, 1e-300)) for lower, upper, s, lo, hi in bins]
        self._last_bin = len(bins) - 1
        self._bins_sorted = all(a <= b for a, b in zip(self._bin_uppers, self._bin_uppers[1:]))

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
        flows = np.array(self.flows, dtype=np.int64).reshape(self.n_months, self.n_muni, self.n_states, N_FLOWS)
        grouped = self.n_groups > 0
        region = self.n_muni > 1
        return Result(
            replication=self.replication,
            stock=self.stock_history.sum(axis=1) if region else self.stock_history[:, 0],
            flows=flows.sum(axis=1) if region else flows[:, 0],
            person_months=self.person_months.sum(axis=1) if region else self.person_months[:, 0],
            stock_by_municipality=self.stock_history if region else None,
            flows_by_municipality=flows if region else None,
            person_months_by_municipality=self.person_months if region else None,
            events_processed=self.scheduled,
            clients=self.clients,
            wall_seconds=time.perf_counter() - started,
            events=self.log,
            budget=self.ledger.table if self.ledger is not None else None,
            budget_by_municipality=self.ledger.municipal if self.ledger is not None and region else None,
            group_flows=np.array(self.gflows, dtype=np.int64).reshape(self.n_months, self.n_groups, N_GROUP_FLOWS)
            if grouped else None,
            group_stock=self.gstock_history if grouped else None,
            group_person_months=self.gperson_months if grouped else None,
            durations=self.durations,
        )

    def _month_ends(self):
        for month in range(self.n_months - 1):
            yield self.env.timeout(month + 1 - self.env.now)
            self._close_month(month, month + 1.0)

    def _close_month(self, month: int, at: float) -> None:
        for i in range(self.n_muni * self.n_states):
            self.area[i] += self.stock[i] * (at - self.area_since[i])
            self.area_since[i] = at
            self.person_months[month].flat[i] = self.area[i]
            self.area[i] = 0.0
        self.stock_history[month] = np.reshape(self.stock, (self.n_muni, self.n_states))
        for g in range(self.n_groups):
            self.garea[g] += self.gstock[g] * (at - self.gsince[g])
            self.gsince[g] = at
            self.gperson_months[month, g] = self.garea[g]
            self.garea[g] = 0.0
        self.gstock_history[month] = self.gstock
        if self.c.calendar.is_year_end(month):
            self._count_durations(self.c.calendar.year_index(month), at)
        if self.ledger is not None:
            self.ledger.close_month(month, at, self.person_months[month])  # [municipality, state]

    def _count_durations(self, year: int, at: float) -> None:
        """Households on the caseload at a year end by how long their spell has lasted (longer than each edge).

        The edges ascend, so the edges a spell exceeds are the first ``searchsorted(edges, spell)``:
        households are counted by that number and the counts summed from the longest down."""
        on = self._on_caseload
        starts = np.array([cl.spell_start for cl in self.households.values() if cl.state is not None and on[cl.state]])
        exceeds = np.bincount(np.searchsorted(DURATION_EDGES_ARRAY, at - starts), minlength=len(DURATION_EDGES) + 1)
        self.durations[year] += np.cumsum(exceeds[::-1])[::-1][1:]

    def _capacity_changes(self):
        c = self.c
        for j in range(1, len(self.cal_edges)):
            yield self.env.timeout(self.cal_edges[j] - self.env.now)
            for pool, team in zip(self.teams, c.teams):
                self._granted(pool.set_capacity(team.slots[j]))
            for s, pool in self.places.items():
                self._granted(pool.set_capacity(c.places[s][j]))

    # -- population --------------------------------------------------------------
    def _new_client(self, population: int, number: int, fixed: tuple[int, ...] = ()) -> Client:
        """A household with its row of random numbers and its drawn attributes (``fixed`` levels >= 0 kept)."""
        row, base, profile = self.streams.client(population, number, self._cdfs)
        if fixed and any(level >= 0 for level in fixed):
            drawn = self._profiles[profile]
            profile = self.c.attributes.profile_of(tuple(f if f >= 0 else d for f, d in zip(fixed, drawn)))
        cl = Client(population, number, row, base, profile, self._facts[profile])
        self.clients += 1
        self.households[cl.id] = cl
        return cl

    def _create_initial_population(self) -> None:
        """The households on the books at the start: the states' initial stocks, or a caseload extract's groups.

        An initial household's spell so far is exponential with the state's mean (an extract gives it,
        or a range it is spread uniformly over); its stay in a state with a maximum is uniform within
        that maximum. Both use the household's one ``initial_duration`` uniform.
        """
        c = self.c
        groups = c.initial
        if groups is None:  # one group per state: initial stock, exponential spells, drawn attributes
            drawn = (-1,) * len(c.attributes.names)
            groups = [(s, st.initial, None, None, drawn) for s, st in enumerate(self.states) if st.initial]
        number = 0
        for s, count, low, high, fixed in groups:
            st = self.states[s]
            if not any(level >= 0 for level in fixed):
                fixed = ()  # every level drawn
            for _ in range(count):
                cl = self._new_client(Stream.INITIAL, number, fixed)
                number += 1
                lo, hi = st.loonwaarde
                cl.loonwaarde = lo + (hi - lo) * cl.row[cl.base + self._intake0]
                cl.n_intake = 1
                u = cl.row[cl.base + self._initial_duration]
                if low is None:
                    cl.spell_start = st.initial_duration * math.log(1.0 - u)
                elif high == math.inf:
                    cl.spell_start = -low + st.initial_duration * math.log(1.0 - u)
                else:
                    cl.spell_start = -(low + u * (high - low))
                # the stay so far: the spell, or uniform within a maximum stay (the same uniform)
                cl.entered = -u * st.max_stay[cl.profile] if st.max_stay is not None else cl.spell_start
                cl.state = s
                self._add_stock(cl, s, 1, 0.0)
                if st.on_caseload:
                    self._cross(cl, 1, 0.0)
                if s in self._budget_states:
                    self.ledger.on_move(0.0, cl.id, cl.loonwaarde, None, s, cl.entered, cl.muni)
                self.env.process(self._life(cl))

    def _arrivals(self):
        env = self.env
        gen = self.streams.inflow()
        segments = self.c.inflow
        exps = gen.standard_exponential(ARRIVAL_BATCH).tolist()
        seg, number, t = 0, 0, 0.0
        ends = [start for start, _ in segments[1:]] + [self.horizon]
        rate, end = segments[0][1], ends[0]
        new_client, life, process, arrivals = self._new_client, self._life, env.process, Stream.ARRIVALS
        while True:
            if not exps:
                exps = gen.standard_exponential(ARRIVAL_BATCH).tolist()
            need = exps.pop()
            while True:  # invert the cumulative inflow rate
                if rate > 0 and t + need / rate < end:
                    t += need / rate
                    break
                need -= rate * (end - t)
                t = end
                seg += 1
                if seg >= len(segments):
                    return
                rate, end = segments[seg][1], ends[seg]
            self.scheduled += 1
            yield env.timeout(t - env.now)
            cl = new_client(arrivals, number)
            number += 1
            process(life(cl, arriving=True))

    # -- a household's life -------------------------------------------------------
    def _life(self, cl: Client, arriving: bool = False):
        env = self.env
        if arriving:  # the youth search period, then the intake
            sp = self.c.intake.search
            if sp is not None and cl.levels[sp.attribute] == sp.level:
                if cl.row[cl.base + self._withdraw] < sp.withdraw_share:
                    self._count(cl, INTAKE, F_WITHDRAWN)
                    self._record(cl, INTAKE, "", "withdrawn", "arrival", "")
                    del self.households[cl.id]
                    return
                yield env.timeout(sp.months)
            now = env.now
            cl.spell_start = now
            self._cross(cl, 1, now)
            self._enter_intake(cl, now)
        team_of, stops, max_stay, horizon = self._team_of, self._stops, self._max_stay, self.horizon
        next_event, fire = self._next_event, self._fire
        while cl.state is not None:
            s = cl.state
            team = team_of[s]
            mode = NO_TEAM
            now = env.now
            if team >= 0:
                if stops[team] and self._barred(cl, team):  # the team no longer serves this household
                    if cl.slot is not None:
                        self._granted(self.teams[team].release(cl.slot))
                        cl.slot = cl.slot_team = None
                    mode = UNGUIDED
                else:
                    if cl.slot is None:
                        self._request_slot(cl, team, now)
                    mode = GUIDED if cl.slot.granted else UNGUIDED
            waiting = (mode == UNGUIDED and cl.slot is not None) or cl.place is not None
            nxt = next_event(cl, s, mode, waiting, now)
            limit = max_stay[s]
            if limit is not None:  # the stay runs out: a forced transition, unless a clock rings first
                deadline = cl.entered + limit[0][cl.profile]
                if deadline < horizon and (nxt is None or deadline < nxt[0]):
                    nxt = (max(deadline, now), limit[1])
            if waiting:
                # one wake-up event, rung by the timer or by the pool granting a slot or place
                wake = WakeUp(env)
                if mode == UNGUIDED and cl.slot is not None:
                    cl.slot.event = wake
                if cl.place is not None:
                    cl.place.event = wake
                if nxt is not None:
                    env.timeout(nxt[0] - now, TIMER).callbacks.append(wake.trigger_once)
                self.scheduled += 1
                if (yield wake) is not TIMER:
                    if cl.place is not None and cl.place.granted:
                        self._take_place(cl, env.now)
                    elif self._stops[team] and self._barred(cl, team):
                        pass  # granted a slot the team no longer gives it: the loop hands it back
                    else:
                        self._count(cl, s, F_GSTART)
                        self._record(cl, s, "", "werkmatcher", "guidance", "")
                    continue
            elif nxt is None:
                return
            else:
                self.scheduled += 1
                yield env.timeout(nxt[0] - now)
            fire(cl, s, nxt[1], env.now)

    def _next_event(self, cl: Client, s: int, mode: int, waiting: bool, now: float) -> tuple[float, int] | None:
        """(time, transition) of the client's next event before the horizon, or None.

        Competing risks (:mod:`sampling`). A client woken early (a slot or place came free)
        keeps its clocks, less the hazard integrated since it last looked.
        """
        if self._direct:  # the table depends on the profile alone: kept per profile, as a live table
            tables = self._live[cl.profile]
            table = tables[3 * s + mode]
            if table is None:
                table = tables[3 * s + mode] = sampling.live(self.tables.get(cl, s, mode))
        else:
            table = self._live_table(self.tables.get(cl, s, mode))
        if cl.place is not None:  # the transition waiting for a place cannot fire again
            table = self._table_without(table, cl.place_target)
        n, edges, constant = self._shape[s]
        clocks = cl.clocks
        first = 0  # transition k's clock is clocks[first + k]
        if clocks is None or cl.look_state != s:
            i = cl.n_sojourn
            cl.n_sojourn = i + 1
            if i < N_SOJOURNS and n <= self._k_max:
                first = cl.base + self._clock0 + i * self._k_max
                clocks = cl.row
                if waiting:  # a copy of its own, wound down while it waits
                    clocks, first = clocks[first : first + n], 0
            else:
                clocks = self._overflow(cl).exponentials(n)
        else:
            sampling.wind_down(cl.look_table, clocks, cl.look_time, now, cl.spell_start, self.cal_edges, edges)
        if waiting:  # only a waiting client can be woken before one of its clocks rings
            cl.clocks, cl.look_state, cl.look_table, cl.look_time = clocks, s, table, now
        if constant:
            return sampling.ring_constant(table[0][0], clocks, first, now, self.horizon)
        # ring() winds a copy down, so a waiting client's clocks stay as they were stored
        return sampling.ring(table, clocks, first, n, now, cl.spell_start, self.cal_edges, edges, self.horizon)

    def _live_table(self, table: list) -> tuple:
        """``sampling.live(table)`` of a table from a :class:`HazardTables` subclass, made once per table
        (the entry keeps the table alive, so its id is not reused)."""
        entry = self._lived.get(id(table))
        if entry is None:
            entry = self._lived[id(table)] = (table, sampling.live(table))
        return entry[1]

    def _table_without(self, table: tuple, k: int) -> tuple:
        """``sampling.without(table, k)``, made once per live table and transition."""
        key = (id(table), k)
        entry = self._without.get(key)
        if entry is None:
            entry = self._without[key] = (table, sampling.without(table, k))
        return entry[1]

    def _fire(self, cl: Client, s: int, k: int, now: float) -> None:
        cl.clocks = None  # an event happened: the next sojourn draws fresh clocks
        to, _, _, costed, _, _ = self._steps[s][k]
        if to == ASSIGN:
            to = self._assign(cl)
        if costed and not self.ledger.affordable(s, k):
            self._refuse(cl, s, k)
            return
        if to >= 0 and to != s and self._has_places[to]:
            if cl.place is not None:  # already waiting for another place: that ticket is given up first
                self._leave_place_queue(cl)
            pool = self.places[to]
            request = pool.request(self._priority(cl, ("place", to)) if pool.must_wait() else 0)
            # the destination as drawn now (an intake assignment is drawn once, not again when the place comes)
            cl.place, cl.place_target, cl.place_to = request, k, to
            if not request.granted:  # stay put, on the waiting list
                self._count(cl, s, F_PWAIT)
                self._record(cl, s, self.states[to].name, "place_request", "queue", "")
                return
            self._take_place(cl, now)
            return
        self._complete(cl, s, k, to, now)

    def _take_place(self, cl: Client, now: float) -> None:
        """The place is free: the transition that asked for it happens now."""
        k, request, to = cl.place_target, cl.place, cl.place_to
        cl.place = cl.place_target = cl.place_to = None
        cl.clocks = None
        s = cl.state
        costed = self._steps[s][k][3]
        if costed and not self.ledger.affordable(s, k):
            self._granted(self.places[to].release(request))  # the money ran out while the client waited
            self._refuse(cl, s, k)
            return
        self._complete(cl, s, k, to, now)
        cl.held_place = request

    def _leave_place_queue(self, cl: Client) -> None:
        """Give up the place the client waits for (or was granted this instant and has not taken)."""
        self._granted(self.places[cl.place_to].release(cl.place))
        cl.place = cl.place_target = cl.place_to = None

    def _refuse(self, cl: Client, s: int, k: int) -> None:
        """No budget can pay this start: the client stays where it is."""
        self._count(cl, s, F_REFUSED)
        self.ledger.refused(self.env.now, s, k)
        self._record(cl, s, "", self.states[s].transitions[k].name, "refused", "")

    def _complete(self, cl: Client, s: int, k: int, to: int, now: float) -> None:
        """Transition ``k`` out of ``s`` happens ``now``: count it, pay for it, move the client."""
        _, cells, new_spell, _, budgeted, gplan = self._steps[s][k]
        month = int(now)
        counted = month < self.n_months
        flows = self.flows
        if counted:
            base = month * self._month_cells + cl.cell
            for f in cells:
                flows[base + f] += 1
            if gplan:
                gflows, gbase = self.gflows, month * self.n_groups * N_GROUP_FLOWS
                for f in gplan:
                    for g in cl.gcells:
                        gflows[gbase + g + f] += 1
        if budgeted:
            self.ledger.on_transition(now, cl.id, cl.profile, s, k, to)
        if self.log is not None:
            tr = self.states[s].transitions[k]
            self._record(cl, s, "out" if to == OUT else self.states[to].name, tr.name, tr.kind, tr.movement or "")
        if to == s:
            return
        # leave s: give back what the client held there
        if cl.held_place is not None:
            self._granted(self.places[s].release(cl.held_place))
            cl.held_place = None
        if cl.place is not None:  # leaving while waiting for a place elsewhere
            self._leave_place_queue(cl)
        if cl.slot is not None and (to < 0 or self._team_of[to] != cl.slot_team):
            self._granted(self.teams[cl.slot_team].release(cl.slot))
            cl.slot = cl.slot_team = None
        stock, area, since = self.stock, self.area, self.area_since  # _add_stock(cl, s, -1), inlined
        i = cl.scell + s
        area[i] += stock[i] * (now - since[i])
        since[i] = now
        stock[i] -= 1
        if self._budget_states and (s in self._budget_states or to in self._budget_states):
            self.ledger.on_move(now, cl.id, cl.loonwaarde, s, to, None, cl.muni)
        if to == OUT:
            if self._on_caseload[s]:
                self._cross(cl, -1, now)
            cl.state = None
            del self.households[cl.id]  # out of the model for good (a return after work is from an off-caseload state)
            return
        if self._on_caseload[to] != self._on_caseload[s]:
            self._cross(cl, 1 if self._on_caseload[to] else -1, now)
            cl.spell_start = now
        elif new_spell:
            cl.spell_start = now
        if to == INTAKE:
            self._enter_intake(cl, now)
            return
        cl.state = to
        cl.entered = now
        i = cl.scell + to  # _add_stock(cl, to, 1), inlined
        area[i] += stock[i] * (now - since[i])
        since[i] = now
        stock[i] += 1
        if counted:
            flows[base + to * N_FLOWS + F_ENTRIES] += 1

    def _enter_intake(self, cl: Client, now: float) -> None:
        month = int(now)
        if month < self.n_months:  # the inflow, in the intake and in each of the client's groups
            self.flows[month * self._month_cells + cl.cell + INTAKE * N_FLOWS + F_INFLOW] += 1
            gflows, gbase = self.gflows, month * self.n_groups * N_GROUP_FLOWS + G_INFLOW
            for g in cl.gcells:
                gflows[gbase + g] += 1
        if self.log is not None:
            self._record(cl, INTAKE, "", "arrival", "arrival", "")
        cl.entered = now
        if self._intake_immediate:
            to = self._assign(cl)
            cl.state = to
            self._add_stock(cl, to, 1, now)
            self._count(cl, to, F_ENTRIES)
            if to in self._budget_states:
                self.ledger.on_move(now, cl.id, cl.loonwaarde, None, to, None, cl.muni)
            return
        cl.state = INTAKE
        self._add_stock(cl, INTAKE, 1, now)
        self._count(cl, INTAKE, F_ENTRIES)

    def _assign(self, cl: Client) -> int:
        """Arrangement by loonwaarde: one uniform picks the band and the value within it."""
        if cl.n_intake < N_INTAKE:
            u = cl.row[cl.base + self._intake0 + cl.n_intake]
        else:
            u = self._overflow(cl).random()  # noqa: S311 (simulation, not cryptography)
        cl.n_intake += 1
        bins = self._bins  # the first bin whose upper cdf exceeds u (the last one if rounding leaves u above all)
        if self._bins_sorted:  # cumulative shares: the first upper above u is bisect_right's
            lower, s, lo, width, span = bins[min(bisect.bisect_right(self._bin_uppers, u), self._last_bin)]
        else:
            lower, s, lo, width, span = next((b for b, upper in zip(bins, self._bin_uppers) if u < upper), bins[-1])
        # a bin of zero width is never picked (u < upper fails first), so the guard (in span) only averts 0/0
        cl.loonwaarde = lo + width * min(1.0, (u - lower) / span)
        return s

    # -- waiting lists -------------------------------------------------------------
    def _request_slot(self, cl: Client, team: int, now: float) -> None:
        pool = self.teams[team]
        slot = cl.slot = pool.request(self._priority(cl, ("team", team)) if pool.must_wait() else 0)
        cl.slot_team = team
        s = cl.state
        month = int(now)
        if month < self.n_months:  # _count(cl, s, F_GWAIT or F_GSTART), inlined
            self.flows[month * self._month_cells + cl.cell + s * N_FLOWS + (F_GSTART if slot.granted else F_GWAIT)] += 1
        if self.log is not None:
            if slot.granted:
                self._record(cl, s, "", "werkmatcher", "guidance", "")
            else:
                self._record(cl, s, "", "werkmatcher_request", "queue", "")

    def _barred(self, cl: Client, team: int) -> bool:
        """Whether ``team`` no longer serves the client (an attribute level it stopped serving by now)."""
        now = self.env.now
        return any(cl.levels[a] == level and now >= start for a, level, start in self._stops[team])

    def _granted(self, tickets) -> None:
        """Wake the clients whose waiting-list tickets a pool just granted."""
        for ticket in tickets:
            if ticket.event is not None and not ticket.event.triggered:
                ticket.event.succeed(ticket)

    def _priority(self, cl: Client, key: tuple) -> int:
        """The client's place on a waiting list (lower is served first; sim.model.compiled.priority_score)."""
        priority = self._rules[key]
        hits = []
        for rule in priority.rules:
            if rule.kind == RULE_LEVEL:
                hits.append(cl.levels[rule.attribute] == rule.level)
            elif rule.kind == RULE_NEW_SPELL:
                hits.append(self.env.now - cl.spell_start < rule.threshold)
            else:
                hits.append(cl.loonwaarde >= rule.threshold)
        return priority_score(priority, hits)

    def _overflow(self, cl: Client):
        if cl.overflow is None:
            cl.overflow = self.streams.overflow(cl.population, cl.number)
        return cl.overflow

    # -- bookkeeping ---------------------------------------------------------------
    def _add_stock(self, cl: Client, s: int, delta: int, now: float) -> None:
        i = cl.scell + s
        self.area[i] += self.stock[i] * (now - self.area_since[i])
        self.area_since[i] = now
        self.stock[i] += delta

    def _cross(self, cl: Client, delta: int, now: float) -> None:
        """The client comes onto (+1) or leaves (-1) the caseload: the stock of each of its groups."""
        garea, gstock, gsince = self.garea, self.gstock, self.gsince
        for g in cl.groups:
            garea[g] += gstock[g] * (now - gsince[g])
            gsince[g] = now
            gstock[g] += delta

    def _count(self, cl: Client, s: int, flow: int) -> None:
        month = int(self.env.now)
        if month < self.n_months:
            self.flows[month * self._month_cells + cl.cell + s * N_FLOWS + flow] += 1

    def _record(self, cl: Client, s: int, to: str, transition: str, kind: str, movement: str) -> None:
        if self.log is not None:
            self.log.append(Event(self.env.now, cl.id, self.states[s].name, to, transition, kind, movement))


def simulate(compiled: Compiled, seed: int, replication: int = 0, log_events: bool = False) -> Result:
    """Run one replication with the SimPy engine.

    The objects made while setting up are frozen out of the garbage collector's
    reach, and young-generation collections are made rarer while the replication
    runs: a run allocates hundreds of thousands of short-lived events and most of
    the collector's work would be re-scanning long-lived households.
    """
    return run_model(Model(compiled, seed, replication, log_events))


def run_model(model: Model) -> Result:
    """Run a prepared :class:`Model` with the garbage-collector settings of :func:`simulate`."""
    threshold = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0, *threshold[1:])
    try:
        return model.run()
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()
