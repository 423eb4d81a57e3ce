"""Simulation time and the calendar: the one place months become dates and years.

Time runs in months since the scenario's ``start`` (the first of a month).
Month ``m`` is the half-open interval ``[m, m + 1)``; its calendar month is
``start`` shifted by ``m`` months. Budget years are calendar years: a
scenario that starts in, say, July has a first budget year of six months,
and every year-end falls at the end of a December (or at the horizon).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property


def days_in_month(year: int, month: int) -> int:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - dt.date(year, month, 1)).days


@dataclass(frozen=True)
class Calendar:
    """Months since ``start`` for ``n_months`` months."""

    start: dt.date
    n_months: int

    def date(self, month: int) -> dt.date:
        """The first day of simulated month ``month``."""
        m = self.start.month - 1 + month
        return dt.date(self.start.year + m // 12, m % 12 + 1, 1)

    def year(self, month: int) -> int:
        """The calendar year of simulated month ``month``."""
        return self.start.year + (self.start.month - 1 + month) // 12

    def months(self, when: dt.date) -> float:
        """A date as simulation time: whole months since ``start`` plus the elapsed part of its month."""
        whole = (when.year - self.start.year) * 12 + (when.month - self.start.month)
        return whole + (when.day - 1) / days_in_month(when.year, when.month)

    def is_year_end(self, month: int) -> bool:
        """Whether month ``month`` closes a budget year (December, or the last simulated month)."""
        return self.date(month).month == 12 or month == self.n_months - 1

    @cached_property
    def years(self) -> tuple[int, ...]:
        """The calendar years the simulation touches, in order."""
        return tuple(range(self.year(0), self.year(self.n_months - 1) + 1))

    def year_index(self, month: int) -> int:
        """0-based budget-year index of month ``month``."""
        return self.year(month) - self.start.year

    @cached_property
    def labels(self) -> tuple[str, ...]:
        """``YYYY-MM`` of every simulated month."""
        return tuple(self.date(m).strftime("%Y-%m") for m in range(self.n_months))

    def whole_years(self) -> list[tuple[int, slice]]:
        """(calendar year, month slice) of every calendar year simulated from January to December."""
        out = []
        for year in self.years:
            first = (year - self.start.year) * 12 - (self.start.month - 1)
            if first >= 0 and first + 12 <= self.n_months:
                out.append((year, slice(first, first + 12)))
        return out
