"""A scenario compiled to index tables: the single place where effective rates are computed.

The DES engine and the analytic Markov model both read hazards from here, so
they cannot disagree about what a scenario means. Time is in months since the
scenario start. A hazard of transition ``k`` out of state ``s`` is

    h = rate_k * band_k(spell duration) * attr_k(profile) * lever_k(t) * service_k(guided, t)

where every factor is piecewise constant: ``band`` in spell duration, ``lever``
and ``service`` in calendar time (segments between lever dates).
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from sim.model.schema import DatedValues, PriorityRule, Scenario

INTAKE = 0  # index of the intake pseudo-state
OUT = -1  # leaves the model for good
ASSIGN = -2  # the intake's routing by loonwaarde draw
INTAKE_ASSIGN = "assign"


@dataclass(frozen=True)
class Transition:
    name: str
    to: int
    kind: str
    movement: str | None
    rate: float
    band_edges: tuple[float, ...]
    band_multipliers: tuple[float, ...]
    attr_multipliers: dict[str, float]
    elasticity: float
    requires_guidance: bool
    lever_key: str

    def band_multiplier(self, duration: float) -> float:
        return self.band_multipliers[bisect.bisect_right(self.band_edges, duration)]


@dataclass(frozen=True)
class StateInfo:
    name: str
    label: str
    on_caseload: bool
    benefit_share: float
    transitions: tuple[Transition, ...]
    team: int | None  # werkmatcher team index
    has_places: bool
    loonwaarde: tuple[float, float]
    initial: int
    initial_duration: float
    duration_edges: tuple[float, ...]  # union of the transitions' band edges
    priority: tuple[PriorityRule, ...]


@dataclass(frozen=True)
class TeamInfo:
    name: str
    states: tuple[int, ...]
    priority: tuple[PriorityRule, ...]


@dataclass
class Compiled:
    scenario: Scenario
    states: list[StateInfo]
    teams: list[TeamInfo]
    profiles: list[tuple[str, ...]]  # one level per attribute, in attribute order
    profile_shares: list[float]
    attribute_names: list[str]
    calendar_edges: list[float]  # segment j is [edges[j], edges[j+1]); last runs to +inf
    team_slots: list[list[int]]  # [team][segment]
    team_contacts: list[list[float]]  # guided contacts per client-month [team][segment]
    places: dict[int, list[int]]  # state -> capacity per segment
    intake_shares: list[tuple[int, float]]
    inflow_segments: list[tuple[float, float]]  # (start, rate per month), covering [0, horizon)
    search_period: tuple[int, str, float, float] | None  # (attribute idx, level, months, withdraw)
    _lever_cache: dict = field(default_factory=dict)

    @property
    def horizon(self) -> float:
        return self.scenario.horizon

    def index(self, name: str) -> int:
        return next(i for i, st in enumerate(self.states) if st.name == name)

    def segment(self, t: float) -> int:
        return bisect.bisect_right(self.calendar_edges, t) - 1

    def segment_rates(self, s: int, guided: bool | None, j: int, profile: int) -> list[list[float]]:
        """Hazards of state ``s`` in calendar segment ``j``: one row per duration band."""
        st = self.states[s]
        levels = self.profiles[profile]
        attr_keys = [f"{a}.{lvl}" for a, lvl in zip(self.attribute_names, levels)]
        rows = []
        bounds = (0.0, *st.duration_edges)
        for lower in bounds:
            row = []
            for tr in st.transitions:
                h = tr.rate * tr.band_multiplier(lower) * self._lever(tr.lever_key, j)
                for key in attr_keys:
                    h *= tr.attr_multipliers.get(key, 1.0)
                h *= self._service(st, tr, guided, j)
                row.append(h)
            rows.append(row)
        return rows

    def _service(self, st: StateInfo, tr: Transition, guided: bool | None, j: int) -> float:
        """The contact-intensity response: (contacts / reference) ** elasticity."""
        if st.team is None or guided is None:
            return 1.0
        team = self.scenario.werkmatchers[self.teams[st.team].name]
        if guided:
            contacts = self.team_contacts[st.team][j]
        elif tr.requires_guidance:
            return 0.0
        else:
            contacts = team.unguided_contacts_per_client_month.value
        if tr.elasticity == 0.0:
            return 1.0
        return (contacts / team.reference_contacts_per_client_month.value) ** tr.elasticity

    def _lever(self, key: str, j: int) -> float:
        cached = self._lever_cache.get((key, j))
        if cached is None:
            cached = self._lever_cache[(key, j)] = path_value(self.scenario, key, 1.0, self.calendar_edges[j])
        return cached


def compile_scenario(scenario: Scenario) -> Compiled:
    attr_names = list(scenario.attributes)
    levels = [list(scenario.attributes[a].levels.values.items()) for a in attr_names]
    profiles, shares = [], []
    for combo in itertools.product(*levels) if levels else [()]:
        profiles.append(tuple(lvl for lvl, _ in combo))
        shares.append(math.prod(share for _, share in combo))

    team_names = list(scenario.werkmatchers)
    team_of = {st: i for i, t in enumerate(team_names) for st in scenario.werkmatchers[t].states}
    names = ["intake", *scenario.states]
    index = {n: i for i, n in enumerate(names)}

    intake = scenario.intake
    intake_rate = 0.0 if intake.mean_months.value == 0 else 1.0 / intake.mean_months.value
    states = [
        StateInfo(
            name="intake",
            label="Intake (loonwaarde estimate, arrangement assigned)",
            on_caseload=True,
            benefit_share=1.0,
            transitions=(
                Transition(INTAKE_ASSIGN, ASSIGN, "transfer", None, intake_rate, (), (1.0,), {}, 0.0, False, "intake.assign"),
            ),
            team=None,
            has_places=False,
            loonwaarde=(0.0, 1.0),
            initial=0,
            initial_duration=1.0,
            duration_edges=(),
            priority=(),
        )
    ]
    for name, st in scenario.states.items():
        transitions = []
        for tname, tr in st.transitions.items():
            bands = tr.duration_bands
            transitions.append(
                Transition(
                    name=tname,
                    to=OUT if tr.to == "out" else index[tr.to],
                    kind=tr.kind,
                    movement=tr.movement,
                    rate=tr.rate.value,
                    band_edges=tuple(bands.edges) if bands else (),
                    band_multipliers=tuple(bands.multipliers) if bands else (1.0,),
                    attr_multipliers=dict(tr.attribute_multipliers.values) if tr.attribute_multipliers else {},
                    elasticity=tr.intensity_elasticity.value if tr.intensity_elasticity else 0.0,
                    requires_guidance=tr.requires_guidance,
                    lever_key=f"hazard.{name}.{tname}",
                )
            )
        edges = sorted({e for tr in transitions for e in tr.band_edges})
        states.append(
            StateInfo(
                name=name,
                label=st.label,
                on_caseload=st.on_caseload,
                benefit_share=(st.benefit_share.value if st.benefit_share else float(st.on_caseload)),
                transitions=tuple(transitions),
                team=team_of.get(name),
                has_places=st.places is not None,
                loonwaarde=(st.loonwaarde.low, st.loonwaarde.high) if st.loonwaarde else (0.0, 1.0),
                initial=st.initial.value,
                initial_duration=st.initial_duration_months.value if st.initial_duration_months else 1.0,
                duration_edges=tuple(edges),
                priority=tuple(st.priority),
            )
        )

    horizon = scenario.horizon
    edges = sorted(
        {0.0}
        | {
            m
            for lever in scenario.levers.values()
            for m in (scenario.months(lever.start), scenario.months(lever.end) if lever.end else None)
            if m is not None and 0 < m < horizon
        }
    )
    teams = [
        TeamInfo(t, tuple(index[s] for s in scenario.werkmatchers[t].states), tuple(scenario.werkmatchers[t].priority))
        for t in team_names
    ]
    team_slots, team_contacts = [], []
    for t in team_names:
        team = scenario.werkmatchers[t]
        slots, contacts = [], []
        for start in edges:
            fte = path_value(scenario, f"werkmatchers.{t}.fte", team.fte.value, start)
            norm = path_value(scenario, f"werkmatchers.{t}.caseload_norm", team.caseload_norm.value, start)
            base_prod = team.productivity.value if team.productivity else 1.0
            prod = path_value(scenario, f"werkmatchers.{t}.productivity", base_prod, start)
            slots.append(max(0, int(math.floor(fte * norm + 1e-9))))
            contacts.append(team.contacts_per_fte_month.value * prod / max(norm, 1e-12))
        team_slots.append(slots)
        team_contacts.append(contacts)
    places = {
        index[n]: [
            max(0, int(round(path_value(scenario, f"places.{n}", st.places.value, start))))
            for start in edges
        ]
        for n, st in scenario.states.items()
        if st.places is not None
    }

    sp = intake.search_period
    search = None
    if sp is not None:
        search = (attr_names.index(sp.attribute), sp.level, sp.months.value, sp.withdraw_share.value)

    return Compiled(
        scenario=scenario,
        states=states,
        teams=teams,
        profiles=profiles,
        profile_shares=shares,
        attribute_names=attr_names,
        calendar_edges=edges,
        team_slots=team_slots,
        team_contacts=team_contacts,
        places=places,
        intake_shares=[(index[n], share) for n, share in intake.shares.values.items()],
        inflow_segments=_inflow_segments(scenario),
        search_period=search,
    )


def path_value(scenario: Scenario, target: str, base: float, t: float) -> float:
    """``base`` with every lever on ``target`` active at month ``t`` applied: (base + adds) * mults."""
    add, mult = 0.0, 1.0
    for lever in scenario.levers.values():
        if not _matches(lever.target, target):
            continue
        start = scenario.months(lever.start)
        end = scenario.months(lever.end) if lever.end else math.inf
        if start <= t < end:
            add += lever.add
            mult *= lever.multiply
    return max(0.0, (base + add) * mult)


def _matches(pattern: str, target: str) -> bool:
    return pattern == target or (pattern.startswith("hazard.") and fnmatchcase(target, pattern))


def _inflow_segments(scenario: Scenario) -> list[tuple[float, float]]:
    """Piecewise-constant inflow rate: breaks at month starts and lever dates."""
    horizon = scenario.horizon
    breaks = {float(m) for m in range(int(math.ceil(horizon)))}
    for lever in scenario.levers.values():
        if lever.target == "inflow":
            for date in (lever.start, lever.end):
                if date is not None and 0 < scenario.months(date) < horizon:
                    breaks.add(scenario.months(date))
    rate = scenario.inflow.rate
    season = scenario.inflow.seasonality
    segments = []
    for start in sorted(breaks):
        month = int(start)
        year = scenario.start.year + (scenario.start.month - 1 + month) // 12
        cal_month = (scenario.start.month - 1 + month) % 12 + 1
        when = dt.date(year, cal_month, 1)
        base = rate.at(when) if isinstance(rate, DatedValues) else rate.value
        if season is not None:
            base *= season.factors[cal_month - 1]
        segments.append((start, path_value(scenario, "inflow", base, start)))
    return segments
