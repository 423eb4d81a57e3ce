"""Value types of a scenario: numbers that carry their source, dated values, shares.

Every number a modeller could argue about is a :class:`Sourced` value (or a
table with its own ``source``). Numbers are strict: ``true`` or ``"0.05"`` where
a number belongs are errors, not coerced (pydantic's lax mode would accept both).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

MAX_RATE = 100.0  # per month: a mean stay under 8 hours is a typo, and would flood the event queue
MAX_INFLOW = 100_000.0  # households a month: more than all of the Netherlands' bijstand inflow
MAX_MULTIPLY = 1_000.0


def _number(value: object) -> object:
    # pydantic's lax mode would read true as 1.0 and "0.05" as 0.05: in a scenario both are typos
    if isinstance(value, bool | str):
        raise ValueError(f"must be a number, not {type(value).__name__} {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number, not {value}")
    return value


Number = BeforeValidator(_number)
Finite = Annotated[float, Number, Field(allow_inf_nan=False)]
NonNegative = Annotated[float, Number, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[float, Number, Field(gt=0, allow_inf_nan=False)]
Probability = Annotated[float, Number, Field(ge=0, le=1, allow_inf_nan=False)]
Source = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


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
    value: Annotated[int, Number, Field(ge=0, le=10_000_000)]


class RateValue(Sourced):
    """A monthly hazard rate."""

    value: Annotated[float, Number, Field(ge=0, le=MAX_RATE, allow_inf_nan=False)]


class InflowValue(Sourced):
    value: Annotated[float, Number, Field(ge=0, le=MAX_INFLOW, allow_inf_nan=False)]


class DatedValues(Strict):
    """A value that changes on given dates (OpenFisca style); each holds until the next."""

    values: dict[dt.date, NonNegative] = Field(min_length=1)
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


class Seasonality(Strict):
    """Twelve multipliers on a monthly rate, January first."""

    factors: list[NonNegative] = Field(min_length=12, max_length=12)
    source: Source


class Shares(Strict):
    values: dict[str, Probability] = Field(min_length=1)
    source: Source

    @model_validator(mode="after")
    def _sum_to_one(self) -> Shares:
        total = sum(self.values.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"shares must sum to 1, they sum to {total:.6g}")
        return self
