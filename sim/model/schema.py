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

from sim.model.budget import Budget, budget_problems
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
    Sourced,
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


class Transition(Strict):
    to: str
    kind: Literal[KINDS]  # type: ignore[valid-type]
    movement: Literal[MOVEMENTS] | None = None  # type: ignore[valid-type]
    rate: RateValue
    duration_bands: DurationBands | None = None
    attribute_multipliers: AttributeMultipliers | None = None
    intensity_elasticity: Sourced | None = None
    requires_guidance: Flag = False


class PriorityRule(Strict):
    """One criterion of a waiting list's priority order (earlier rules weigh more)."""

    name: str
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


class State(Strict):
    label: str
    on_caseload: Flag = True
    initial: CountValue
    initial_duration_months: PositiveValue | None = None
    benefit_share: ShareValue | None = None
    loonwaarde: LoonwaardeRange | None = None
    places: CountValue | None = None
    priority: list[PriorityRule] = Field(default_factory=list, max_length=20)
    transitions: dict[Name, Transition] = Field(default_factory=dict, max_length=MAX_TRANSITIONS)


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

    @model_validator(mode="after")
    def _bounded(self) -> Inflow:
        if isinstance(self.rate, DatedValues) and max(self.rate.values.values()) > MAX_INFLOW:
            raise ValueError(f"rate.values: must be <= {MAX_INFLOW:g} households a month")
        return self


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

    @model_validator(mode="after")
    def _window(self) -> Lever:
        if self.end is not None and self.end <= self.start:
            raise ValueError("'to' must be after 'from'")
        if self.multiply == 1.0 and self.add == 0.0:
            raise ValueError("a lever needs multiply or add")
        return self




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
    budget: Budget | None = None

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

    def months(self, when: dt.date) -> float:
        """Calendar date to simulation time (months since ``start``)."""
        whole = (when.year - self.start.year) * 12 + (when.month - self.start.month)
        return whole + (when.day - 1) / _days_in_month(when.year, when.month)

    @property
    def horizon(self) -> float:
        return 12.0 * self.years


def _days_in_month(year: int, month: int) -> int:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - dt.date(year, month, 1)).days


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
        if lever.start < s.start:
            yield f"{at}.from: before the scenario start {s.start}"
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


def _priority_problems(where: str, rules: list[PriorityRule], s: Scenario):
    for i, rule in enumerate(rules):
        if rule.attribute is None:
            continue
        attr = s.attributes.get(rule.attribute)
        if attr is None:
            yield f"{where}.{i}.attribute: unknown attribute {rule.attribute!r}"
        elif rule.equals not in attr.levels.values:
            yield f"{where}.{i}.equals: {rule.equals!r} is not a level of {rule.attribute!r}"
