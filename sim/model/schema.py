"""The scenario schema: plain TOML data in, frozen validated objects out.

Every number a modeller could argue about is a :class:`Sourced` value (or a
table with its own ``source``), so a result can always be traced to a seed
document, an outside source or the word ``assumption``. Unknown keys are
errors (``extra="forbid"``) so a typo never silently falls back to a default.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from sim.model.budget import Budget, MunicipalIDeel, budget_problems
from sim.model.limits import (
    MAX_ARRIVALS,
    MAX_ATTRIBUTES,
    MAX_HOUSEHOLDS,
    MAX_LEVERS,
    MAX_PROFILES,
    MAX_SCENARIO_NAME,
    MAX_STATES,
    MAX_TEAMS,
    MAX_TRANSITIONS,
)
from sim.model.values import (
    MAX_INFLOW,
    MAX_MULTIPLY,
    NAME,
    CountValue,
    Date,
    DatedValues,
    ElasticityValue,
    Flag,
    InflowValue,
    Integer,
    Name,
    NonNegative,
    NonNegativeValue,
    Number,
    Positive,
    PositiveValue,
    Probability,
    RateValue,
    Seasonality,
    Shares,
    ShareValue,
    Source,
    Strict,
)

RESERVED_STATES = {"intake", "out"}
MOVEMENTS = ("plaatsing", "scholing", "deeltijdwerk", "uitstroom")
KINDS = ("exit_work", "exit_other", "transfer", "dropout", "movement", "reinflow", "leave")


class Attribute(Strict):
    """A client attribute drawn once at the start of a household's first spell."""

    label: str = ""
    levels: Shares


class LoonwaardeRange(Strict):
    low: Probability
    high: Probability
    source: Source

    @model_validator(mode="after")
    def _ordered(self) -> LoonwaardeRange:
        if self.low > self.high:
            raise ValueError("low must be <= high")
        return self


class DurationBands(Strict):
    """Piecewise-constant multipliers on a hazard by spell duration (months)."""

    edges: list[Positive] = Field(min_length=1, max_length=50)
    multipliers: list[NonNegative]
    source: Source

    @model_validator(mode="after")
    def _shape(self) -> DurationBands:
        if any(b <= a for a, b in zip(self.edges, self.edges[1:])):
            raise ValueError("edges must be strictly increasing")
        if len(self.multipliers) != len(self.edges) + 1:
            raise ValueError(
                f"needs {len(self.edges) + 1} multipliers for {len(self.edges)} edges, "
                f"got {len(self.multipliers)}"
            )
        return self


def _multiplier_key(value: object) -> object:
    # "x.y.z" could be attribute "x" level "y.z" or attribute "x.y" level "z": refuse it
    if isinstance(value, str) and not re.match(f"{NAME[:-1]}\\.{NAME[1:]}", value):
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise ValueError(f"key {shown!r} must be '<attribute>.<level>': two names joined by exactly one dot")
    return value


class AttributeMultipliers(Strict):
    """Hazard multipliers keyed ``attribute.level``; levels not named keep 1."""

    values: dict[Annotated[str, BeforeValidator(_multiplier_key)], NonNegative] = Field(
        min_length=1, max_length=MAX_PROFILES
    )
    source: Source


class Covariate(Strict):
    """A dated outside series that drives hazards or inflow (e.g. WW recipients); each value holds until the next date."""

    label: str = ""
    values: dict[dt.date, Positive] = Field(min_length=1, max_length=1000)
    source: Source
    unit: str | None = None


class CovariateEffect(Strict):
    """A rate follows a covariate: multiplied by ``(x(t) / reference) ** elasticity``."""

    reference: PositiveValue  # the covariate's value at which the base rate holds
    elasticity: ElasticityValue  # may be negative (job finding falls when unemployment rises)


class Transition(Strict):
    to: str
    kind: Literal[KINDS]  # type: ignore[valid-type]
    movement: Literal[MOVEMENTS] | None = None  # type: ignore[valid-type]
    rate: RateValue
    duration_bands: DurationBands | None = None
    attribute_multipliers: AttributeMultipliers | None = None
    intensity_elasticity: ElasticityValue | None = None
    requires_guidance: Flag = False
    covariates: dict[Name, CovariateEffect] = Field(default_factory=dict, max_length=5)


class PriorityRule(Strict):
    """One criterion of a waiting list's priority order.

    ``always`` marks a group that is always served (new inflow and youth in Utrecht's rules): its
    members go before everyone else, and a pot whose money has run out still pays for them. How the
    other rules order the rest is the list's ``tie_break``.
    """

    name: str
    always: Flag = False
    attribute: Name | None = None
    equals: Name | None = None
    spell_months_below: Positive | None = None
    loonwaarde_at_least: Probability | None = None

    @model_validator(mode="after")
    def _one_criterion(self) -> PriorityRule:
        given = [
            self.attribute is not None,
            self.spell_months_below is not None,
            self.loonwaarde_at_least is not None,
        ]
        if sum(given) != 1:
            raise ValueError(
                "give exactly one of attribute/equals, spell_months_below, loonwaarde_at_least"
            )
        if (self.attribute is None) != (self.equals is None):
            raise ValueError("attribute and equals go together")
        return self


class AttributeMonths(Strict):
    """Months keyed ``attribute.level`` (e.g. a shorter maximum stay for youth)."""

    values: dict[str, Positive] = Field(min_length=1)
    source: Source


class MaxStay(Strict):
    """A maximum time in a state: when it runs out, the transition ``then`` happens (if nothing came first)."""

    months: PositiveValue
    by_attribute: AttributeMonths | None = None  # a household with one of these levels has the shortest that applies
    then: str  # one of the state's transitions


class StateCost(Strict):
    """A cost for every household in the state, per month of its stay from ``after_months`` on.

    ``paid_by`` names the budget line that bears it: ``pot.<name>`` (a Participatiebudget pot),
    ``programme.<name>`` or ``municipality`` (the municipality's own budget, reported only).
    """

    label: str = ""
    per_month: NonNegativeValue  # EUR per household-month
    after_months: NonNegativeValue | None = None  # months into the stay before the cost starts (default 0)
    paid_by: str


TIE_BREAKS = ("ordered", "any", "fifo")


class State(Strict):
    label: str
    on_caseload: Flag = True
    initial: CountValue
    initial_duration_months: PositiveValue | None = None
    benefit_share: ShareValue | None = None
    loonwaarde: LoonwaardeRange | None = None
    places: CountValue | None = None
    priority: list[PriorityRule] = Field(default_factory=list, max_length=20)
    tie_break: Literal[TIE_BREAKS] = "ordered"  # type: ignore[valid-type]
    transitions: dict[Name, Transition] = Field(default_factory=dict, max_length=MAX_TRANSITIONS)
    max_stay: MaxStay | None = None
    costs: list[StateCost] = Field(default_factory=list, max_length=5)


class SearchPeriod(Strict):
    """The legal search period before support (youth under 27, DOMAIN.md section 2)."""

    attribute: str
    level: str
    months: PositiveValue
    withdraw_share: ShareValue


class Intake(Strict):
    mean_months: NonNegativeValue
    shares: Shares
    search_period: SearchPeriod | None = None


class Inflow(Strict):
    rate: InflowValue | DatedValues
    seasonality: Seasonality | None = None
    covariates: dict[str, CovariateEffect] = Field(default_factory=dict, max_length=5)

    @model_validator(mode="after")
    def _bounded(self) -> Inflow:
        if isinstance(self.rate, DatedValues) and max(self.rate.values.values()) > MAX_INFLOW:
            raise ValueError(f"rate.values: must be <= {MAX_INFLOW:g} households a month")
        return self


class StopsServing(Strict):
    """Households of an attribute level the team no longer serves from a date (e.g. a municipality leaving a
    shared service): from then on they get no werkmatcher slot and have the team's unguided hazards. A slot
    held at the date is given up at the household's next event; a place on the waiting list lapses."""

    values: dict[Annotated[str, BeforeValidator(_multiplier_key)], dt.date] = Field(min_length=1, max_length=MAX_PROFILES)
    source: Source


class Team(Strict):
    """Werkmatchers serving some states: slots = FTE x caseload norm."""

    label: str = ""
    states: list[str] = Field(min_length=1, max_length=MAX_STATES)
    fte: NonNegativeValue
    caseload_norm: PositiveValue
    contacts_per_fte_month: PositiveValue
    reference_contacts_per_client_month: PositiveValue
    unguided_contacts_per_client_month: PositiveValue
    productivity: PositiveValue | None = None
    priority: list[PriorityRule] = Field(default_factory=list, max_length=20)
    tie_break: Literal[TIE_BREAKS] = "ordered"  # type: ignore[valid-type]
    cost_per_fte_year: NonNegativeValue | None = None  # EUR per FTE per year, salary with overhead
    paid_by: str = "municipality"  # budget line of the team's cost (see StateCost)
    stops_serving: StopsServing | None = None  # attribute levels the team no longer serves from a date


class Lever(Strict):
    """A calendar window in which a target is multiplied and/or shifted.

    Targets: ``inflow``; ``hazard.<state>.<transition>`` (shell wildcards allowed);
    ``werkmatchers.<team>.<fte|caseload_norm|productivity>``; ``places.<state>``.
    """

    target: str
    start: Date = Field(alias="from")
    end: Date | None = Field(default=None, alias="to")
    multiply: Annotated[float, Number, Field(ge=0, le=MAX_MULTIPLY, allow_inf_nan=False)] = 1.0
    add: Annotated[float, Number, Field(ge=-MAX_INFLOW, le=MAX_INFLOW, allow_inf_nan=False)] = 0.0
    source: Source
    description: str = ""
    paid_by: str | None = None  # for an FTE lever: the budget line that pays the FTE it adds

    @model_validator(mode="after")
    def _window(self) -> Lever:
        if self.end is not None and self.end <= self.start:
            raise ValueError("'to' must be after 'from'")
        if self.multiply == 1.0 and self.add == 0.0:
            raise ValueError("a lever needs multiply or add")
        return self




class MovementsMonitor(Strict):
    """A programme's monitor of movements towards work from the states it covers (e.g. Werkbeweging)."""

    kind: Literal["movements"]
    label: str
    states: list[Name] = Field(min_length=1)  # a movement counts when it starts from one of these states
    indicators: list[Literal[MOVEMENTS]] = Field(default_factory=lambda: list(MOVEMENTS))  # type: ignore[valid-type]
    start: dt.date  # the first day of the first monitored quarter
    quarters: Annotated[int, Number, Field(ge=1, le=200)]  # quarters to the target
    base_per_year: PositiveValue  # movements a year of regular service
    extra_target: NonNegativeValue  # extra movements above base by the end of ``quarters``
    published: DatedValues | None = None  # realised cumulative extra movements above base, at quarter ends

    @field_validator("start")
    @classmethod
    def _quarter(cls, value: dt.date) -> dt.date:
        if value.day != 1 or (value.month - 1) % 3:
            raise ValueError("must be the first day of a quarter")
        return value


class OutflowMonitor(Strict):
    """An outflow percentage (a flow per year / the average caseload) and optionally a goal on it: the goal
    year's percentage above those of the years it is compared with (e.g. Zwolle's 2022 against 2020-2021).

    ``states`` narrows both the flow and the caseload to a group of states (e.g. a re-integration unit's
    exits to work over its own average stock); empty means the whole caseload. ``movements`` counts the
    four indicators that start from those states. Each monitor adds ``monitor_<name>_flow``,
    ``monitor_<name>_mean`` and ``monitor_<name>_pct`` to the annual table, so comparisons pair them."""

    kind: Literal["outflow_rate"]
    label: str
    flow: Literal["exits_work", "exits_other", "exits", "movements"] = "exits_work"
    states: list[Name] = Field(default_factory=list, max_length=MAX_STATES)
    goal_year: Annotated[int, Number, Field(ge=1900, le=2300)] | None = None
    above: list[Annotated[int, Number, Field(ge=1900, le=2300)]] = Field(default_factory=list, max_length=100)
    source: Source

    @model_validator(mode="after")
    def _goal(self) -> OutflowMonitor:
        if (self.goal_year is None) != (not self.above):
            raise ValueError("goal_year and above go together (a goal year and the years it must exceed)")
        return self


class CostKey(Strict):
    """A municipality's weight in the split of shared costs, by date (weights are normalised each year)."""

    values: dict[dt.date, NonNegative] = Field(min_length=1)
    source: Source

    def at(self, when: dt.date) -> float:
        current = self.values[min(self.values)]
        for date in sorted(self.values):
            if date <= when:
                current = self.values[date]
        return current


class Municipality(Strict):
    """One municipality of a region: its share of the caseload and of the inflow, its own I-deel, its
    weight in the split of shared costs. Its households are the level ``<name>`` of the built-in
    attribute ``municipality``, so hazards and priority rules can differ by municipality."""

    label: str
    initial_share: ShareValue  # share of every state's initial stock
    inflow_share: ShareValue  # share of the inflow
    i_deel: MunicipalIDeel | None = None
    cost_key: CostKey | None = None


class Uncertainty(Strict):
    """An ensemble of parameter sets (calibration draws), one per replication (sim/model/uncertainty.py)."""

    draws: str  # CSV, relative to the scenario file: one column per parameter path, one row per draw
    source: Source
    digest: str = ""  # sha256 of the file read
    values: list[dict[str, float]] = Field(default_factory=list, exclude=True, max_length=100_000)


class InitialGroup(Strict):
    """Households of the initial population with one state, spell-duration range and attribute levels."""

    state: str
    count: Annotated[int, Number, Field(ge=1, le=10_000_000)]
    months_from: NonNegative  # spell duration at the start, months
    months_to: NonNegative | None = None  # None: open-ended; equal to months_from: exact
    levels: dict[str, str] = Field(default_factory=dict)  # attribute -> level; the others are drawn


class InitialPopulation(Strict):
    """The initial caseload from a municipality's extract (sim/model/caseload.py reads the file).

    It replaces the states' ``initial`` stocks. The households themselves are not part of the
    scenario's dump (the run folder's scenario.json): the file's digest stands in for them.
    """

    file: str
    source: Source
    digest: str = ""
    groups: list[InitialGroup] = Field(default_factory=list, exclude=True, max_length=1_000_000)


class Scenario(Strict):
    name: Annotated[str, Field(min_length=1, max_length=MAX_SCENARIO_NAME)]
    description: str = ""
    start: Date
    years: Annotated[int, Integer, Field(ge=1, le=100)] = 10
    attributes: dict[Name, Attribute] = Field(default_factory=dict, max_length=MAX_ATTRIBUTES)
    inflow: Inflow
    intake: Intake
    states: dict[str, State] = Field(min_length=1, max_length=MAX_STATES)
    werkmatchers: dict[Name, Team] = Field(default_factory=dict, max_length=MAX_TEAMS)
    levers: dict[Name, Lever] = Field(default_factory=dict, max_length=MAX_LEVERS)
    covariates: dict[Name, Covariate] = Field(default_factory=dict, max_length=20)
    initial_population: InitialPopulation | None = None
    uncertainty: Uncertainty | None = None
    municipalities: dict[Name, Municipality] = Field(default_factory=dict, max_length=50)
    monitors: dict[Name, Annotated[MovementsMonitor | OutflowMonitor, Field(discriminator="kind")]] = Field(
        default_factory=dict, max_length=20
    )
    budget: Budget | None = None
    # Presentation, not model input: left out of dumps so the content hash (resume, CRN manifests) ignores them.
    language: Literal["nl", "en"] | None = Field(default=None, exclude=True)  # report/workbook/chart language
    observed: str | None = Field(default=None, exclude=True, min_length=1)  # targets CSV, relative to this file

    @field_validator("start")
    @classmethod
    def _first_of_month(cls, value: dt.date) -> dt.date:
        if value.day != 1:
            raise ValueError("must be the first day of a month")
        if not 1900 <= value.year <= 2200:  # the calendar must stay representable to the horizon's end
            raise ValueError("must be a year from 1900 to 2200")
        return value

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        problems = list(_reference_problems(self))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def horizon(self) -> float:
        """Months simulated."""
        return 12.0 * self.years


LEVER_TARGET = re.compile(
    r"^(inflow|hazard\.[A-Za-z0-9_*?\[\]]+\.[A-Za-z0-9_*?\[\]]+|"
    r"werkmatchers\.[A-Za-z0-9_]+\.(fte|caseload_norm|productivity)|places\.[A-Za-z0-9_]+)$"
)


def _reference_problems(s: Scenario):
    """Cross-references a field validator cannot see; each message starts with its key path."""
    from fnmatch import fnmatchcase

    names = set(s.states)
    for name in names:
        if not re.match(NAME, name) or name in RESERVED_STATES:
            yield f"states.{name}: name must be an identifier other than 'intake' or 'out'"
    levels = {f"{a}.{lvl}" for a, attr in s.attributes.items() for lvl in attr.levels.values}
    levels |= {f"{MUNICIPALITY}.{m}" for m in s.municipalities}

    for key in s.intake.shares.values:
        if key not in names:
            yield f"intake.shares.{key}: unknown state"
        elif not s.states[key].on_caseload:
            yield f"intake.shares.{key}: intake can only assign to on-caseload states"
    sp = s.intake.search_period
    if sp is not None and f"{sp.attribute}.{sp.level}" not in levels:
        yield f"intake.search_period: unknown attribute level {sp.attribute}.{sp.level}"

    team_of: dict[str, str] = {}
    for tname, team in s.werkmatchers.items():
        for st in team.states:
            if st not in names:
                yield f"werkmatchers.{tname}.states: unknown state {st!r}"
            elif st in team_of:
                yield f"werkmatchers.{tname}.states: {st!r} is already served by {team_of[st]!r}"
            else:
                team_of[st] = tname
        yield from _priority_problems(f"werkmatchers.{tname}.priority", team.priority, s)
        for key in team.stops_serving.values if team.stops_serving else {}:
            if key not in levels:
                yield f"werkmatchers.{tname}.stops_serving.{key}: unknown attribute level"
        if team.cost_per_fte_year is not None:
            yield from _line_problems(f"werkmatchers.{tname}.paid_by", team.paid_by, s)

    for sname, state in s.states.items():
        where = f"states.{sname}"
        yield from _priority_problems(f"{where}.priority", state.priority, s)
        if state.initial.value > 0 and state.initial_duration_months is None and state.on_caseload:
            yield f"{where}.initial_duration_months: required when initial > 0"
        for tname, tr in state.transitions.items():
            at = f"{where}.transitions.{tname}"
            if tr.to not in names and tr.to not in RESERVED_STATES:
                yield f"{at}.to: unknown state {tr.to!r}"
                continue
            dest_on = tr.to == "intake" or (tr.to in names and s.states[tr.to].on_caseload)
            if tr.kind in ("exit_work", "exit_other"):
                if not state.on_caseload or dest_on:
                    yield f"{at}.kind: {tr.kind} must lead from an on-caseload state off the caseload"
            elif tr.kind == "reinflow":
                if state.on_caseload or not dest_on:
                    yield f"{at}.kind: reinflow must lead from an off-caseload state onto the caseload"
            elif tr.kind == "leave":
                if state.on_caseload or dest_on:
                    yield f"{at}.kind: leave must lead from an off-caseload state to another off-caseload state or 'out'"
            elif state.on_caseload != dest_on or tr.to == "out":
                yield f"{at}.kind: {tr.kind} must stay on the same side of the caseload"
            if tr.to == "intake" and tr.kind != "reinflow":
                yield f"{at}.to: only a reinflow transition can lead to intake"
            if tr.requires_guidance and sname not in team_of:
                yield f"{at}.requires_guidance: state {sname!r} is served by no werkmatcher team"
            if tr.attribute_multipliers is not None:
                for key in tr.attribute_multipliers.values:
                    if key not in levels:
                        yield f"{at}.attribute_multipliers.{key}: unknown attribute level"
            if tr.to in names and s.states[tr.to].places is not None and tr.to == sname:
                yield f"{at}.to: a state with places cannot loop onto itself"
        if state.max_stay is not None:
            if state.max_stay.then not in state.transitions:
                yield f"{where}.max_stay.then: {state.max_stay.then!r} is not a transition of {sname!r}"
            for key in state.max_stay.by_attribute.values if state.max_stay.by_attribute else {}:
                if key not in levels:
                    yield f"{where}.max_stay.by_attribute.{key}: unknown attribute level"
        for i, cost in enumerate(state.costs):
            yield from _line_problems(f"{where}.costs.{i}.paid_by", cost.paid_by, s)

    for lname, lever in s.levers.items():
        at = f"levers.{lname}"
        if not LEVER_TARGET.match(lever.target):
            yield f"{at}.target: {lever.target!r} is not a lever target"
            continue
        head, _, rest = lever.target.partition(".")
        if head == "hazard":
            pattern = rest
            if not any(
                fnmatchcase(f"{sn}.{tn}", pattern)
                for sn, st in s.states.items()
                for tn in st.transitions
            ):
                yield f"{at}.target: {lever.target!r} matches no transition"
        elif head == "werkmatchers" and rest.split(".")[0] not in s.werkmatchers:
            yield f"{at}.target: unknown werkmatcher team {rest.split('.')[0]!r}"
        elif head == "places" and (rest not in names or s.states[rest].places is None):
            yield f"{at}.target: {rest!r} is not a state with places"
        # a lever (partly) before the start is allowed: a variant that starts later than the scenario it
        # extends (e.g. a forecast from today's caseload) inherits its past levers, which then do nothing
        if lever.paid_by is not None:
            if not lever.target.endswith(".fte"):
                yield f"{at}.paid_by: only a lever on a team's fte adds staff that someone pays"
            else:
                yield from _line_problems(f"{at}.paid_by", lever.paid_by, s)
    yield from _municipality_problems(s)
    for mname, monitor in s.monitors.items():
        for state in getattr(monitor, "states", []):
            if state not in names:
                yield f"monitors.{mname}.states: unknown state {state!r}"
            elif isinstance(monitor, OutflowMonitor) and not s.states[state].on_caseload:
                yield f"monitors.{mname}.states: {state!r} is off the caseload (an outflow rate is over a caseload)"
    if s.initial_population is not None:
        for i, group in enumerate(s.initial_population.groups):
            where = f"initial_population.groups.{i}"
            if group.state not in names:
                yield f"{where}.state: unknown state {group.state!r}"
            for attribute, level in group.levels.items():
                if f"{attribute}.{level}" not in levels:
                    yield f"{where}.levels.{attribute}: unknown attribute level {attribute}.{level}"
            if group.months_to is not None and group.months_to < group.months_from:
                yield f"{where}.months_to: below months_from"
        if not s.initial_population.groups:
            yield "initial_population: no households (the file was not read, or is empty)"
    for name in s.inflow.covariates:
        if name not in s.covariates:
            yield f"inflow.covariates.{name}: unknown covariate (declare it under [covariates.{name}])"
    for sname, state in s.states.items():
        for tname, tr in state.transitions.items():
            for name in tr.covariates:
                if name not in s.covariates:
                    yield f"states.{sname}.transitions.{tname}.covariates.{name}: unknown covariate"
    yield from budget_problems(s)
    if s.budget is not None and s.start.month != 1:
        yield "start: a scenario with a [budget] must start on 1 January (budget years are calendar years)"
    if isinstance(s.inflow.rate, DatedValues) and not math.isfinite(sum(s.inflow.rate.values.values())):
        yield "inflow.rate.values: must be finite"
    yield from _size_problems(s)
    yield from budget_problems(s)  # here, not when a ledger starts: validate must reject what run would


def _size_problems(s: Scenario):
    """Sizes that drive memory and run time (limits in :mod:`sim.model.limits`)."""
    profiles = math.prod(len(a.levels.values) for a in s.attributes.values())
    if profiles > MAX_PROFILES:
        counts = " x ".join(str(len(a.levels.values)) for a in s.attributes.values())
        yield f"attributes: {counts} levels make {profiles} profiles, more than the limit of {MAX_PROFILES}"
    households = sum(st.initial.value for st in s.states.values())
    if households > MAX_HOUSEHOLDS:
        yield f"states: {households} initial households in total, more than the limit of {MAX_HOUSEHOLDS}"
    rate, season = s.inflow.rate, s.inflow.seasonality
    arrivals = 0.0
    for m in range(12 * s.years):
        when = dt.date(s.start.year + (s.start.month - 1 + m) // 12, (s.start.month - 1 + m) % 12 + 1, 1)
        base = rate.at(when) if isinstance(rate, DatedValues) else rate.value
        arrivals += base * (season.factors[when.month - 1] if season else 1.0)
    if arrivals > MAX_ARRIVALS:
        yield (
            f"inflow.rate: {arrivals:,.0f} new households expected over {s.years} years, more than the limit "
            f"of {MAX_ARRIVALS:,} (lower the rate or the years)"
        )


MUNICIPALITY = "municipality"  # the built-in attribute a region's households carry


def _municipality_problems(s: Scenario):
    munis = s.municipalities
    if not munis:
        if s.budget is not None and (s.budget.i_deel.grant is None or s.budget.i_deel.reserve_opening is None):
            yield "budget.i_deel: grant and reserve_opening are required (or declare [municipalities] with their own)"
        return
    if MUNICIPALITY in s.attributes:
        yield f"attributes.{MUNICIPALITY}: reserved for the municipalities of a region"
    for what in ("initial_share", "inflow_share"):
        total = sum(getattr(m, what).value for m in munis.values())
        if abs(total - 1.0) > 1e-6:
            yield f"municipalities: the {what} values must sum to 1, they sum to {total:.6g}"
    if s.budget is not None:
        for name, m in munis.items():
            if m.i_deel is None:
                yield f"municipalities.{name}.i_deel: each municipality of a region with a [budget] needs its own I-deel"
            if m.cost_key is None:
                yield f"municipalities.{name}.cost_key: each municipality of a region with a [budget] needs a cost key"
        if s.budget.i_deel.grant is not None:
            yield "budget.i_deel.grant: in a region the grants are the municipalities' own (municipalities.<name>.i_deel)"


def _line_problems(where: str, line: str, s: Scenario):
    """A budget line named by ``paid_by``: ``municipality``, ``pot.<name>`` or ``programme.<name>``."""
    kind, _, name = line.partition(".")
    if s.budget is None:
        yield f"{where}: costs are booked in the [budget] section, which this scenario lacks"
        return
    pots = s.budget.participatiebudget.pots if s.budget.participatiebudget else {}
    if line == "municipality" or (kind == "pot" and name in pots) or (kind == "programme" and name in s.budget.programmes):
        return
    yield f"{where}: {line!r} is not a budget line (use 'municipality', 'pot.<pot>' or 'programme.<programme>')"


def _priority_problems(where: str, rules: list[PriorityRule], s: Scenario):
    for i, rule in enumerate(rules):
        if rule.attribute is None:
            continue
        if rule.attribute == MUNICIPALITY and s.municipalities:
            if rule.equals not in s.municipalities:
                yield f"{where}.{i}.equals: {rule.equals!r} is not a municipality"
            continue
        attr = s.attributes.get(rule.attribute)
        if attr is None:
            yield f"{where}.{i}.attribute: unknown attribute {rule.attribute!r}"
        elif rule.equals not in attr.levels.values:
            yield f"{where}.{i}.equals: {rule.equals!r} is not a level of {rule.attribute!r}"
