"""Money in integer cents, so that accounting identities hold exactly."""

from __future__ import annotations

import datetime as dt


def cents(euros: float) -> int:
    """Euros (float) to whole cents, rounding half away from zero."""
    return int(round(euros * 100))


def year_start(first_year: int, year: int) -> dt.date:
    """1 January of simulated year ``year`` (0-based)."""
    return dt.date(first_year + year, 1, 1)


class Purse:
    """A balance that pays for instrument starts; ``allocated = spent + balance`` within a year."""

    __slots__ = ("name", "balance", "spent", "allocated", "starts", "allow_negative")

    def __init__(self, name: str, allow_negative: bool = False):
        self.name = name
        self.balance = self.spent = self.allocated = self.starts = 0
        self.allow_negative = allow_negative

    def can_pay(self, amount: int) -> bool:
        return self.allow_negative or self.balance >= amount

    def pay(self, amount: int) -> None:
        self.balance -= amount
        self.spent += amount
        self.starts += 1
