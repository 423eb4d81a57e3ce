"""Money in integer cents, so that accounting identities hold exactly."""

from __future__ import annotations

from sim.model.budget_plan import cents

__all__ = ["Purse", "cents"]


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
