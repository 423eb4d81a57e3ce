"""A scenario compiled to plain, immutable data: the complete description every engine executes.

Nothing downstream reads the scenario itself: engines, the ledger and the
analyses read a :class:`Compiled`. Time is in months since the scenario start.
The hazard of transition ``k`` out of state ``s`` for a household with
attribute profile ``p`` in service mode ``g`` (no team, guided, waiting for a
werkmatcher), calendar segment ``j`` and spell-duration band ``b`` is

    h = rate_k * band_k(b) * lever_k(j) * attr_k(p) * service_k(g, j)

with every factor piecewise constant. :meth:`Compiled.hazard_table` multiplies
them in exactly this order, so every engine sees bit-identical hazards.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from sim.model.budget_plan import BudgetPlan, compile_budget
from sim.model.calendar import Calendar
from sim.model.levers import lever_windows, levered
from sim.model.limits import MAX_ARRIVALS, MAX_HOUSEHOLDS
from sim.model.loader import ScenarioError
from sim.model.records import FLOW_INDEX, FLOWS, GROUP_FLOW_INDEX, KIND_FLOW
from sim.model.schema import MUNICIPALITY, PriorityRule, Scenario
from sim.model.streams import Layout
from sim.model.values import MAX_INFLOW, MAX_RATE, DatedValues

INTAKE = 0  # index of the intake pseudo-state: every spell starts there
OUT = -1  # destination: leaves the model for good
ASSIGN = -2  # destination of the intake's transition: an arrangement drawn from loonwaarde
INTAKE_ASSIGN = "assign"

# service modes: how a household in a state is served by its werkmatcher team
NO_TEAM, GUIDED, UNGUIDED = 0, 1, 2

# priority rule kinds (waiting lists) and tie-breaks among the rules that are not "always served"
RULE_LEVEL, RULE_NEW_SPELL, RULE_LOONWAARDE = 0, 1, 2
TIE_ORDERED, TIE_ANY, TIE_FIFO = 0, 1, 2
TIE_BREAK = {"ordered": TIE_ORDERED, "any": TIE_ANY, "fifo": TIE_FIFO}

MAX_CONTACTS = 1_000.0  # contacts per client-month after levers: more than one every working hour is a typo
# A team's caseload norm is divided by; a norm is validated > 0, this only guards a lever taking it to 0.
MIN_NORM = 1e-12
# FTE x norm is floored to whole slots; 1e-9 absorbs the binary error of e.g. 12.3 x 100 = 1229.999...
SLOT_EPS = 1e-9


class Transition(NamedTuple):
    name: str
    to: int  # state index, OUT or ASSIGN
    kind: str  # exit_work, exit_other, transfer, dropout, movement, reinflow, leave
    movement: str | None
    rate: float
    band_edges: tuple[float, ...]
    band_multipliers: tuple[float, ...]
    elasticity: float
    requires_guidance: bool
    flows: tuple[int, ...]  # counters of the origin state it increments (records.FLOWS indices)
    new_spell: bool  # a re-inflow: the household starts a new spell
    groups: tuple[int, ...]  # counters by attribute level it increments (records.GROUP_FLOWS indices)


class Rule(NamedTuple):
    """One waiting-list priority criterion (how rules combine: :func:`priority_score`)."""

    name: str
    kind: int  # RULE_LEVEL, RULE_NEW_SPELL or RULE_LOONWAARDE
    attribute: int  # RULE_LEVEL: attribute index
    level: int  # RULE_LEVEL: level index
    threshold: float  # RULE_NEW_SPELL: months; RULE_LOONWAARDE: loonwaarde
    always: bool  # an always-served group


class Priority(NamedTuple):
    """A waiting list's rules and how the rules that are not ``always`` break ties."""

    rules: tuple[Rule, ...]
    tie_break: int  # TIE_ORDERED, TIE_ANY or TIE_FIFO


class State(NamedTuple):
    name: str
    label: str
    on_caseload: bool
    benefit_share: float
    team: int  # werkmatcher team index, -1 for none
    has_places: bool
    loonwaarde: tuple[float, float]
    initial: int
    initial_duration: float  # mean spell duration of the initial households (exponential)
    duration_edges: tuple[float, ...]  # union of the transitions' band edges
    transitions: tuple[Transition, ...]
    priority: Priority
    max_stay: tuple[float, ...] | None  # per profile: months a stay may last; None for no limit
    expiry: int  # the transition that happens when the stay runs out (-1 without a limit)


class Team(NamedTuple):
    name: str
    label: str
    states: tuple[int, ...]
    slots: tuple[int, ...]  # per calendar segment: floor(FTE x caseload norm)
    fte: tuple[float, ...]  # per calendar segment
    contacts: tuple[float, ...]  # guided contacts per client-month, per calendar segment
    reference: float  # contacts per client-month at which the base rates hold
    unguided: float  # contacts per client-month while waiting for a werkmatcher
    priority: Priority
    stops: tuple[tuple[int, int, float], ...] = ()  # (attribute, level, month from): households no longer served


class InitialGroup(NamedTuple):
    """Initial households with one state and spell-duration range; levels -1 are drawn from the shares."""

    state: int
    count: int
    months_from: float
    months_to: float  # inf: open-ended (the excess is exponential with the state's initial duration)
    levels: tuple[int, ...]


class SearchPeriod(NamedTuple):
    attribute: int
    level: int
    months: float
    withdraw_share: float


class Intake(NamedTuple):
    rate: float  # 1 / mean intake duration; 0 means immediate assignment
    bins: tuple[tuple[float, float, int, float, float], ...]  # (cdf low, cdf high, state, loonwaarde low, high)
    search: SearchPeriod | None


class Attributes(NamedTuple):
    names: tuple[str, ...]
    levels: tuple[tuple[str, ...], ...]
    cdfs: tuple[tuple[float, ...], ...]  # cumulative level shares, per attribute
    profiles: tuple[tuple[int, ...], ...]  # level index per attribute, in itertools.product order
    shares: tuple[float, ...]  # population share of each profile

    @property
    def groups(self) -> tuple[tuple[str, str], ...]:
        """(attribute, level) of every attribute level, the group axis of the outputs by focus group."""
        return tuple((name, level) for name, levels in zip(self.names, self.levels) for level in levels)

    def profile_of(self, levels: tuple[int, ...]) -> int:
        """The profile index of one level per attribute (the inverse of ``profiles``)."""
        index = 0
        for n, i in zip((len(lv) for lv in self.levels), levels):
            index = index * n + i
        return index

    def group_indices(self, profile: int) -> tuple[int, ...]:
        """Positions on the group axis of a profile's levels, one per attribute."""
        out, offset = [], 0
        for levels, i in zip(self.levels, self.profiles[profile]):
            out.append(offset + i)
            offset += len(levels)
        return tuple(out)


@dataclass(frozen=True, eq=False)
class Compiled:
    """Everything an engine needs, as plain tuples and read-only arrays.

    Attributes:
        base: per state, ``[segment, band, transition]``: rate x band multiplier x lever factor.
        attribute_factors: per state and attribute, ``[level, transition]`` multipliers.
        service: per state, ``[segment, mode, transition]`` contact-intensity factors
            (mode NO_TEAM, GUIDED, UNGUIDED).
    """

    name: str
    calendar: Calendar
    horizon: float
    states: tuple[State, ...]
    teams: tuple[Team, ...]
    attributes: Attributes
    segments: tuple[float, ...]  # calendar segment j is [segments[j], segments[j+1]); the last runs on
    places: tuple[tuple[int, ...] | None, ...]  # per state: capacity per segment, None without places
    intake: Intake
    inflow: tuple[tuple[float, float], ...]  # (start, applications per month), covering [0, horizon)
    base: tuple[np.ndarray, ...]
    attribute_factors: tuple[tuple[np.ndarray, ...], ...]
    service: tuple[np.ndarray, ...]
    budget: BudgetPlan | None
    layout: Layout
    initial: tuple[InitialGroup, ...] | None = None  # from a caseload extract; None: the states' initial stocks

    @property
    def n_months(self) -> int:
        return self.calendar.n_months

    @property
    def municipalities(self) -> tuple[str, ...]:
        """The municipalities of a region (their households' level of the attribute ``municipality``); () otherwise."""
        names = self.attributes.names
        return self.attributes.levels[-1] if names and names[-1] == MUNICIPALITY else ()

    def index(self, name: str) -> int:
        for i, st in enumerate(self.states):
            if st.name == name:
                return i
        raise KeyError(name)

    def segment(self, t: float) -> int:
        """The calendar segment holding month-time ``t``."""
        return bisect.bisect_right(self.segments, t) - 1

    def hazard_table(self, s: int, mode: int, profile: int) -> np.ndarray:
        """Hazards of state ``s``: ``[segment, duration band, transition]``, factors multiplied in the
        order of the module docstring."""
        table = self.base[s]
        for a, level in enumerate(self.attributes.profiles[profile]):
            table = table * self.attribute_factors[s][a][level]
        return table * self.service[s][:, mode][:, None, :]

    def hazard_table_at(self, s: int, profile: int, contacts: float) -> np.ndarray:
        """As :meth:`hazard_table` for a household whose contact intensity is ``contacts`` a month
        throughout (e.g. a trial arm with its own case managers)."""
        st = self.states[s]
        table = self.hazard_table(s, NO_TEAM, profile)
        if st.team < 0:
            return table
        reference = self.teams[st.team].reference
        factors = np.array([(contacts / reference) ** tr.elasticity for tr in st.transitions])
        return table * factors

    def state_names(self) -> list[str]:
        return [st.name for st in self.states]

    def _priorities(self) -> list[Priority]:
        return [st.priority for st in self.states] + [team.priority for team in self.teams]

    @property
    def features(self) -> frozenset[str]:
        """The mechanisms this model uses, by name: an engine runs a model only if it supports them all."""
        used = {
            "teams": bool(self.teams),
            "places": any(p is not None for p in self.places),
            "duration_bands": any(st.duration_edges for st in self.states),
            "calendar_segments": len(self.segments) > 1,
            "attributes": bool(self.attributes.names),
            "search_period": self.intake.search is not None,
            "max_stay": any(st.max_stay is not None for st in self.states),
            "initial_population": self.initial is not None,
            "groups": bool(self.attributes.names),
            "municipalities": MUNICIPALITY in self.attributes.names,
            "budget": self.budget is not None,
            "budget.lks": self.budget is not None and self.budget.lks is not None,
            "budget.participatiebudget": self.budget is not None and self.budget.participatiebudget is not None,
            "budget.revolving_fund": self.budget is not None and self.budget.fund is not None,
            "budget.programmes": self.budget is not None and bool(self.budget.programmes),
            "budget.state_costs": self.budget is not None and bool(self.budget.state_costs),
            "budget.staff_costs": self.budget is not None and bool(self.budget.staff_costs),
            "priority.always": any(r.always for p in self._priorities() for r in p.rules),
            "priority.tie_break": any(p.tie_break != TIE_ORDERED for p in self._priorities()),
            "teams.stops_serving": any(team.stops for team in self.teams),
        }
        return frozenset(name for name, on in used.items() if on)


def compile_scenario(scenario: Scenario, breaks: tuple[float, ...] = ()) -> Compiled:
    """Compile ``scenario``; ``breaks`` adds calendar-segment edges (month times) that no lever makes."""
    calendar = Calendar(scenario.start, int(math.ceil(scenario.horizon)))
    horizon = scenario.horizon
    levers = lever_windows(scenario)
    covariates = _covariate_steps(scenario, calendar)
    edges = sorted(
        {0.0}
        | {m for lv in levers for m in (lv.start, lv.end) if 0 < m < horizon}
        | {m for steps in covariates.values() for m, _ in steps if 0 < m < horizon}
        | {float(t) for t in breaks if 0 < t < horizon}
    )
    attributes = _attributes(scenario)
    names = ["intake", *scenario.states]
    index = {n: i for i, n in enumerate(names)}
    team_names = list(scenario.werkmatchers)
    team_of = {st: i for i, t in enumerate(team_names) for st in scenario.werkmatchers[t].states}
    teams = tuple(_team(scenario, t, index, edges, levers, attributes, calendar) for t in team_names)

    intake = scenario.intake
    intake_rate = 0.0 if intake.mean_months.value == 0 else 1.0 / intake.mean_months.value
    states = [
        State(
            name="intake",
            label="Intake (loonwaarde estimate, arrangement assigned)",
            on_caseload=True,
            benefit_share=1.0,
            team=-1,
            has_places=False,
            loonwaarde=(0.0, 1.0),
            initial=0,
            initial_duration=1.0,
            duration_edges=(),
            transitions=(
                Transition(INTAKE_ASSIGN, ASSIGN, "transfer", None, intake_rate, (), (1.0,), 0.0, False, (), False, ()),
            ),
            priority=Priority((), TIE_ORDERED),
            max_stay=None,
            expiry=-1,
        )
    ]
    for name, st in scenario.states.items():
        s = index[name]
        transitions = tuple(_transition(s, tname, tr, index) for tname, tr in st.transitions.items())
        states.append(
            State(
                name=name,
                label=st.label,
                on_caseload=st.on_caseload,
                benefit_share=st.benefit_share.value if st.benefit_share else float(st.on_caseload),
                team=team_of.get(name, -1),
                has_places=st.places is not None,
                loonwaarde=(st.loonwaarde.low, st.loonwaarde.high) if st.loonwaarde else (0.0, 1.0),
                initial=st.initial.value,
                initial_duration=st.initial_duration_months.value if st.initial_duration_months else 1.0,
                duration_edges=tuple(sorted({e for tr in transitions for e in tr.band_edges})),
                transitions=transitions,
                priority=_priority(st.priority, st.tie_break, attributes),
                max_stay=_max_stay(st, attributes),
                expiry=list(st.transitions).index(st.max_stay.then) if st.max_stay else -1,
            )
        )
    states_t = tuple(states)

    base, factors, service = [], [], []
    for st in states_t:
        lever_keys = [f"hazard.{st.name}.{tr.name}" for tr in st.transitions]
        effects = [scenario.states[st.name].transitions[tr.name].covariates if st.name in scenario.states else {}
                   for tr in st.transitions]  # fmt: skip
        lever = np.array(
            [[_with_covariates(levered(levers, key, 1.0, t), effect, covariates, t) for key, effect in zip(lever_keys, effects)]
             for t in edges]
        ).reshape(len(edges), -1)  # fmt: skip
        bands = np.array(
            [[tr.rate * tr.band_multipliers[bisect.bisect_right(tr.band_edges, lower)] for tr in st.transitions]
             for lower in (0.0, *st.duration_edges)]
        ).reshape(len(st.duration_edges) + 1, -1)  # fmt: skip
        base.append(_frozen(bands[None, :, :] * lever[:, None, :]))
        factors.append(tuple(_frozen(_attribute_factor(scenario, st, a, attributes)) for a in range(len(attributes.names))))
        service.append(_frozen(_service(st, teams[st.team] if st.team >= 0 else None, len(edges))))

    places = tuple(
        tuple(max(0, int(round(levered(levers, f"places.{st.name}", scenario.states[st.name].places.value, t))))
              for t in edges)
        if st.has_places else None
        for st in states_t
    )  # fmt: skip
    cum, bins = 0.0, []
    for n, share in intake.shares.values.items():
        lo, hi = states_t[index[n]].loonwaarde
        bins.append((cum, cum + share, index[n], lo, hi))
        cum += share
    sp = intake.search_period
    search = None
    if sp is not None:
        a = attributes.names.index(sp.attribute)
        search = SearchPeriod(a, attributes.levels[a].index(sp.level), sp.months.value, sp.withdraw_share.value)

    compiled = Compiled(
        name=scenario.name,
        calendar=calendar,
        horizon=horizon,
        states=states_t,
        teams=teams,
        attributes=attributes,
        segments=tuple(edges),
        places=places,
        intake=Intake(intake_rate, tuple(bins), search),
        inflow=_inflow(scenario, calendar, levers, covariates),
        base=tuple(base),
        attribute_factors=tuple(factors),
        service=tuple(service),
        budget=None,
        initial=_initial_groups(scenario, index, attributes),
        layout=Layout.for_model(len(attributes.names), max(len(st.transitions) for st in states_t)),
    )
    problems = _problems(compiled)
    if problems:
        raise ScenarioError(problems)
    if scenario.budget is None:
        return compiled
    return dataclasses.replace(compiled, budget=compile_budget(scenario, compiled))


# -- pieces ---------------------------------------------------------------------------------------
def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array, dtype=float)
    array.setflags(write=False)
    return array


def _attributes(scenario: Scenario) -> Attributes:
    """The scenario's attributes, and in a region the built-in ``municipality`` last (shares: the inflow's)."""
    share_tables = [dict(scenario.attributes[a].levels.values) for a in scenario.attributes]
    names = list(scenario.attributes)
    if scenario.municipalities:
        names.append(MUNICIPALITY)
        share_tables.append({m: spec.inflow_share.value for m, spec in scenario.municipalities.items()})
    levels = tuple(tuple(table) for table in share_tables)
    cdfs = tuple(tuple(itertools.accumulate(table.values())) for table in share_tables)
    profiles, shares = [], []
    for combo in itertools.product(*[range(len(lv)) for lv in levels]) if names else [()]:
        profiles.append(tuple(combo))
        shares.append(math.prod(share_tables[a][levels[a][i]] for a, i in enumerate(combo)))
    return Attributes(tuple(names), levels, cdfs, tuple(profiles), tuple(shares))


def _attribute_factor(scenario: Scenario, st: State, a: int, attributes: Attributes) -> np.ndarray:
    """[level, transition] multipliers of attribute ``a`` (1 where a transition names no multiplier)."""
    name = attributes.names[a]
    out = np.ones((len(attributes.levels[a]), len(st.transitions)))
    if st.name not in scenario.states:  # the intake: no multipliers
        return out
    spec = scenario.states[st.name].transitions
    for k, tr in enumerate(st.transitions):
        mult = spec[tr.name].attribute_multipliers
        if mult is None:
            continue
        for i, level in enumerate(attributes.levels[a]):
            out[i, k] = mult.values.get(f"{name}.{level}", 1.0)
    return out


def _transition(s: int, name: str, tr, index: dict[str, int]) -> Transition:
    to = OUT if tr.to == "out" else index[tr.to]
    flows = []
    if tr.kind in KIND_FLOW:
        flows.append(FLOW_INDEX[KIND_FLOW[tr.kind]])
    elif tr.kind == "transfer" and to != s:
        flows.append(FLOW_INDEX["transfers_out"])
    if tr.movement is not None:
        flows += [FLOW_INDEX["movements"], FLOW_INDEX[tr.movement]]
    bands = tr.duration_bands
    return Transition(
        name=name,
        to=to,
        kind=tr.kind,
        movement=tr.movement,
        rate=tr.rate.value,
        band_edges=tuple(bands.edges) if bands else (),
        band_multipliers=tuple(bands.multipliers) if bands else (1.0,),
        elasticity=tr.intensity_elasticity.value if tr.intensity_elasticity else 0.0,
        requires_guidance=tr.requires_guidance,
        flows=tuple(flows),
        new_spell=tr.kind == "reinflow",
        groups=tuple(GROUP_FLOW_INDEX[FLOWS[f]] for f in flows if FLOWS[f] in GROUP_FLOW_INDEX),
    )


def _priority(rules: list[PriorityRule], tie_break: str, attributes: Attributes) -> Priority:
    return Priority(tuple(_rule(rule, attributes) for rule in rules), TIE_BREAK[tie_break])


def _rule(rule: PriorityRule, attributes: Attributes) -> Rule:
    if rule.attribute is not None:
        a = attributes.names.index(rule.attribute)
        return Rule(rule.name, RULE_LEVEL, a, attributes.levels[a].index(rule.equals), 0.0, rule.always)
    if rule.spell_months_below is not None:
        return Rule(rule.name, RULE_NEW_SPELL, -1, -1, rule.spell_months_below, rule.always)
    return Rule(rule.name, RULE_LOONWAARDE, -1, -1, rule.loonwaarde_at_least, rule.always)


def priority_score(priority: Priority, hits: list[bool]) -> int:
    """Waiting-list score of a client whose rule tests came out ``hits`` (lower is served first).

    Always-served groups come before everyone else. Among the other rules, ``ordered`` ranks
    lexicographically (rule i outweighs all later rules together), ``any`` puts a client meeting any
    of them before one meeting none, ``fifo`` ignores them. Equal scores are served first come,
    first served.
    """
    rules = priority.rules
    if priority.tie_break == TIE_ORDERED and not any(rule.always for rule in rules):
        score = 0
        for i, hit in enumerate(hits):
            if hit:
                score += 1 << (len(rules) - 1 - i)
        return -score
    always = any(hit for hit, rule in zip(hits, rules) if rule.always)
    others = [hit for hit, rule in zip(hits, rules) if not rule.always]
    if priority.tie_break == TIE_ORDERED:
        rest = sum(1 << (len(others) - 1 - i) for i, hit in enumerate(others) if hit)
    elif priority.tie_break == TIE_ANY:
        rest = int(any(others))
    else:
        rest = 0
    return -((int(always) << len(others)) + rest)


def _max_stay(st, attributes: Attributes) -> tuple[float, ...] | None:
    """Per profile: the maximum stay, the shortest of the general limit and those of the profile's levels."""
    if st.max_stay is None:
        return None
    general = st.max_stay.months.value
    special = st.max_stay.by_attribute.values if st.max_stay.by_attribute else {}
    out = []
    for profile in attributes.profiles:
        keys = {f"{attributes.names[a]}.{attributes.levels[a][i]}" for a, i in enumerate(profile)}
        out.append(min([general, *(months for key, months in special.items() if key in keys)]))
    return tuple(out)


def _team(scenario: Scenario, name: str, index, edges, levers, attributes, calendar: Calendar) -> Team:
    team = scenario.werkmatchers[name]
    slots, contacts, ftes = [], [], []
    for t in edges:
        fte = levered(levers, f"werkmatchers.{name}.fte", team.fte.value, t)
        norm = levered(levers, f"werkmatchers.{name}.caseload_norm", team.caseload_norm.value, t)
        prod = levered(levers, f"werkmatchers.{name}.productivity", team.productivity.value if team.productivity else 1.0, t)
        capacity = fte * norm + SLOT_EPS
        slots.append(max(0, int(math.floor(capacity))) if capacity < 1e15 else 10**15)  # _problems refuses it
        contacts.append(team.contacts_per_fte_month.value * prod / max(norm, MIN_NORM))
        ftes.append(fte)
    return Team(
        name=name,
        label=team.label,
        states=tuple(index[s] for s in team.states),
        slots=tuple(slots),
        fte=tuple(ftes),
        contacts=tuple(contacts),
        reference=team.reference_contacts_per_client_month.value,
        unguided=team.unguided_contacts_per_client_month.value,
        priority=_priority(team.priority, team.tie_break, attributes),
        stops=tuple(
            (a, attributes.levels[a].index(level), calendar.months(when))
            for key, when in (team.stops_serving.values.items() if team.stops_serving else ())
            for attribute, level in [key.split(".", 1)]
            for a in [attributes.names.index(attribute)]
        ),
    )


def _service(st: State, team: Team | None, n_segments: int) -> np.ndarray:
    """[segment, mode, transition]: (contacts / reference) ** elasticity; 0 for a referral while waiting.

    A factor that overflows (or divides by zero: no contact and a negative elasticity) is infinite,
    which the checks of :func:`_problems` then refuse with the transition's name.
    """
    out = np.ones((n_segments, 3, len(st.transitions)))
    if team is None:
        return out
    for k, tr in enumerate(st.transitions):
        for j in range(n_segments):
            if tr.elasticity != 0.0:
                out[j, GUIDED, k] = _power(team.contacts[j] / team.reference, tr.elasticity)
            if tr.requires_guidance:
                out[j, UNGUIDED, k] = 0.0
            elif tr.elasticity != 0.0:
                out[j, UNGUIDED, k] = _power(team.unguided / team.reference, tr.elasticity)
    return out


def _power(base: float, exponent: float) -> float:
    try:
        return base**exponent
    except (OverflowError, ZeroDivisionError):
        return math.inf


def _problems(c: Compiled) -> list[str]:
    """What the schema cannot see: rates after every factor is multiplied in, capacities after levers."""
    out = []
    for s, st in enumerate(c.states):
        if st.name == "intake":
            continue
        for k, tr in enumerate(st.transitions):
            h = float(c.base[s][:, :, k].max())
            for factors in c.attribute_factors[s]:
                h *= float(factors[:, k].max())
            h *= float(c.service[s][:, :, k].max())
            if not h <= MAX_RATE:  # also catches nan and inf
                out.append(
                    f"states.{st.name}.transitions.{tr.name}: the effective rate reaches {h:.3g} a month after "
                    f"duration bands, levers (hazard.{st.name}.{tr.name}), attribute multipliers and contact "
                    f"intensity; the limit is {MAX_RATE:g}"
                )
    for start, rate in c.inflow:
        if not rate <= MAX_INFLOW:
            out.append(
                f"inflow: the effective rate reaches {rate:.3g} households a month (month {int(start) + 1}) after "
                f"seasonality, levers and covariates; the limit is {MAX_INFLOW:g}"
            )
            break
    else:
        ends = [s for s, _ in c.inflow[1:]] + [c.horizon]
        arrivals = sum(rate * (end - start) for (start, rate), end in zip(c.inflow, ends))
        if arrivals > MAX_ARRIVALS:
            out.append(
                f"inflow: the effective inflow adds up to {arrivals:,.0f} households over the horizon (after "
                f"seasonality, levers and covariates); the limit is {MAX_ARRIVALS:,}"
            )
    for team in c.teams:
        if not max(team.contacts) <= MAX_CONTACTS:
            out.append(
                f"werkmatchers.{team.name}: contacts per FTE x productivity / caseload_norm gives {max(team.contacts):.3g} "
                f"contacts a client-month; the limit is {MAX_CONTACTS:g}"
            )
        if not max(team.slots) <= MAX_HOUSEHOLDS:
            out.append(
                f"werkmatchers.{team.name}: fte x caseload_norm gives {max(team.slots):.3g} slots (after levers); "
                f"the limit is {MAX_HOUSEHOLDS:,}"
            )
    return out


def _inflow(scenario: Scenario, calendar: Calendar, levers, covariates) -> tuple[tuple[float, float], ...]:
    """Piecewise-constant inflow rate: breaks at month starts, inflow lever dates and covariate dates."""
    horizon = scenario.horizon
    breaks = {float(m) for m in range(int(math.ceil(horizon)))}
    breaks |= {m for lv in levers if lv.target == "inflow" for m in (lv.start, lv.end) if 0 < m < horizon}
    breaks |= {m for name in scenario.inflow.covariates for m, _ in covariates[name] if 0 < m < horizon}
    rate, season = scenario.inflow.rate, scenario.inflow.seasonality
    segments = []
    for start in sorted(breaks):
        when = calendar.date(int(start))
        level = rate.at(when) if isinstance(rate, DatedValues) else rate.value
        if season is not None:
            level *= season.factors[when.month - 1]
        level = _with_covariates(level, scenario.inflow.covariates, covariates, start)
        segments.append((start, levered(levers, "inflow", level, start)))
    return tuple(segments)


def _initial_groups(scenario: Scenario, index: dict[str, int], attributes: Attributes):
    """The initial households as groups: a caseload extract's, or in a region each state's stock split over
    the municipalities by their initial shares (largest remainder, so the parts add up); None otherwise."""
    pop = scenario.initial_population
    if pop is None and not scenario.municipalities:
        return None
    if pop is None:
        drawn = [-1] * (len(attributes.names) - 1)
        shares = [m.initial_share.value for m in scenario.municipalities.values()]
        return tuple(
            InitialGroup(index[name], n, 0.0, math.inf, (*drawn, m))
            for name, st in scenario.states.items()
            for m, n in enumerate(split_whole(st.initial.value, shares))
            if n
        )
    out = []
    for g in pop.groups:
        levels = tuple(
            attributes.levels[a].index(g.levels[name]) if name in g.levels else -1 for a, name in enumerate(attributes.names)
        )
        high = g.months_to if g.months_to is not None else math.inf
        out.append(InitialGroup(index[g.state], g.count, g.months_from, high, levels))
    return tuple(out)


def split_whole(total: int, weights: list[float]) -> list[int]:
    """``total`` split in whole parts proportional to ``weights`` that add up exactly (largest remainder)."""
    if total == 0 or sum(weights) <= 0:
        return [0] * len(weights)
    exact = [total * w / sum(weights) for w in weights]
    parts = [math.floor(x) for x in exact]
    for i in sorted(range(len(weights)), key=lambda i: (parts[i] - exact[i], i))[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _covariate_steps(scenario: Scenario, calendar: Calendar) -> dict[str, tuple[tuple[float, float], ...]]:
    """Each covariate as (month-time from which it holds, value), in time order."""
    return {
        name: tuple(sorted((calendar.months(d), v) for d, v in cov.values.items()))
        for name, cov in scenario.covariates.items()
    }


def covariate_value(steps: tuple[tuple[float, float], ...], t: float) -> float:
    """The value in force at ``t`` (the first value also covers earlier times)."""
    value = steps[0][1]
    for start, v in steps:
        if start <= t:
            value = v
    return value


def _with_covariates(value: float, effects: dict, covariates: dict, t: float) -> float:
    """``value`` x (x(t) / reference) ** elasticity for every covariate the rate follows."""
    for name, effect in effects.items():
        value *= (covariate_value(covariates[name], t) / effect.reference.value) ** effect.elasticity.value
    return value
