"""Value types of a scenario: numbers that carry their source, dated values, shares.

Every number a modeller could argue about is a :class:`Sourced` value (or a
table with its own ``source``). Types are strict: ``true`` or ``"0.05"`` where
a number belongs, ``"no"`` or ``0`` where a boolean belongs, and a date-time
where a date belongs are errors, not coerced (pydantic's lax mode would
accept them all, and would cut a date-time with a time zone down to its date).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, model_validator

from sim.model.limits import MAX_DATED, MAX_EUROS, MAX_NAME, MAX_SEASONAL, MAX_STATES, MAX_TEXT

NAME = rf"^[A-Za-z_][A-Za-z0-9_]{{0,{MAX_NAME - 1}}}$"
Flag = StrictBool  # only true or false

MAX_RATE = 100.0  # per month: a mean stay under 8 hours is a typo, and would flood the event queue
MAX_INFLOW = 20_000.0  # households a month: twice the whole Netherlands' bijstand inflow (~100,000 a year)
MAX_MULTIPLY = 1_000.0


def _number(value: object) -> object:
    # pydantic's lax mode would read true as 1.0 and "0.05" as 0.05: in a scenario both are typos
    if isinstance(value, bool | str):
        raise ValueError(f"must be a number, not {type(value).__name__} {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number, not {value}")
    return value


def _integer(value: object) -> object:
    # a count or a year: 10.0 or "10" is a typo too, and true is not 1
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be a number without a fraction, not {type(value).__name__} {value!r}")
    return value


def _date(value: object) -> object:
    # TOML gives a date-time for 2015-01-01T00:00:00+01:00; pydantic would drop its time and zone
    if isinstance(value, dt.datetime):
        raise ValueError(f"must be a date (YYYY-MM-DD) without a time or time zone, not {value.isoformat()}")
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(f"must be a valid date (YYYY-MM-DD), not {value[:40]!r}")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"must be a valid date, not {value!r}") from None
    if not isinstance(value, dt.date):
        raise ValueError(f"must be a valid date (YYYY-MM-DD), not {type(value).__name__}")
    return value


Number = BeforeValidator(_number)
Integer = BeforeValidator(_integer)
Date = Annotated[dt.date, BeforeValidator(_date)]
def _name(value: object) -> object:
    # names become dotted key paths ("age_band.youth") and file names: a dot or slash would be ambiguous
    if isinstance(value, str) and not re.match(NAME, value):
        shown = value if len(value) <= 40 else value[:40] + "..."
        raise ValueError(
            f"name {shown!r} must be an identifier (letters, digits and _, not starting with a digit), "
            f"at most {MAX_NAME} characters"
        )
    return value


Name = Annotated[str, BeforeValidator(_name)]
Finite = Annotated[float, Number, Field(allow_inf_nan=False)]
NonNegative = Annotated[float, Number, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Number, Field(gt=0, allow_inf_nan=False)]
Probability = Annotated[float, Number, Field(ge=0, le=1, allow_inf_nan=False)]
Source = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    # str_max_length bounds every string, dictionary keys included
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, str_max_length=MAX_TEXT)


class Sourced(Strict):
    """A number with its provenance."""

    value: Finite
    source: Source
    unit: str | None = None
    note: str | None = None


class NonNegativeValue(Sourced):
    value: NonNegative


class PositiveValue(Sourced):
    value: Positive


class ShareValue(Sourced):
    value: Probability


class CountValue(Sourced):
    value: Annotated[int, Integer, Field(ge=0, le=10_000_000)]


Euros = Annotated[float, Number, Field(ge=-MAX_EUROS, le=MAX_EUROS, allow_inf_nan=False)]
NonNegativeEuros = Annotated[float, Number, Field(ge=0, le=MAX_EUROS, allow_inf_nan=False)]


class AmountValue(Sourced):
    """An amount of money in euros, bounded so the books in integer cents cannot overflow."""

    value: NonNegativeEuros


MAX_ELASTICITY = 10.0  # a 10% change in contacts or in a covariate would move a rate by ~160%: beyond any study


class ElasticityValue(Sourced):
    """How strongly a rate responds to contact intensity or a covariate: the exponent of a ratio."""

    value: Annotated[float, Number, Field(ge=-MAX_ELASTICITY, le=MAX_ELASTICITY, allow_inf_nan=False)]


class SignedAmountValue(Sourced):
    value: Euros


class RateValue(Sourced):
    """A monthly hazard rate."""

    value: Annotated[float, Number, Field(ge=0, le=MAX_RATE, allow_inf_nan=False)]


class InflowValue(Sourced):
    value: Annotated[float, Number, Field(ge=0, le=MAX_INFLOW, allow_inf_nan=False)]


class DatedValues(Strict):
    """A value that changes on given dates (OpenFisca style); each holds until the next."""

    values: dict[Date, NonNegative] = Field(min_length=1, max_length=MAX_DATED)
    source: Source
    unit: str | None = None
    note: str | None = None

    def at(self, when: dt.date) -> float:
        """The value in force on ``when`` (the first value also covers earlier dates)."""
        dates = sorted(self.values)
        current = self.values[dates[0]]
        for date in dates:
            if date <= when:
                current = self.values[date]
        return current


class AmountValues(DatedValues):
    """Dated amounts of money in euros."""

    values: dict[Date, NonNegativeEuros] = Field(min_length=1, max_length=MAX_DATED)


class Seasonality(Strict):
    """Twelve multipliers on a monthly rate, January first."""

    factors: list[Annotated[float, Number, Field(ge=0, le=MAX_SEASONAL, allow_inf_nan=False)]] = Field(
        min_length=12, max_length=12
    )
    source: Source


class Shares(Strict):
    values: dict[Name, Probability] = Field(min_length=1, max_length=MAX_STATES)
    source: Source

    @model_validator(mode="after")
    def _sum_to_one(self) -> Shares:
        total = sum(self.values.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"shares must sum to 1, they sum to {total:.6g}")
        return self
