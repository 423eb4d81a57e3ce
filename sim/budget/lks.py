"""Loonkostensubsidie: (1 - loonwaarde) x statutory minimum wage x hours share, per client-month.

The subsidy is integrated exactly over time: the account keeps the sum of
``1 - loonwaarde`` over the clients in the LKS state and its time integral, so
a month's cost is ``WML x hours share x integral`` whatever the entry and exit
times. Loonwaarde is reassessed at every year end: it rises by a uniform draw
in ``[0, loonwaarde_rise_max]``, capped at ``loonwaarde_cap`` (no fixed end date,
docs/budgets.md). The account keeps each client's loonwaarde itself.
"""

from __future__ import annotations

import numpy as np

from sim.budget.money import cents
from sim.model.budget_plan import LksPlan


class LksAccount:
    def __init__(self, plan: LksPlan, rng: np.random.Generator):
        self.plan = plan
        self.rng = rng
        self.cap = plan.cap
        self.clients: dict[int, float] = {}  # client id -> loonwaarde (insertion order is deterministic)
        self.weight = 0.0  # sum of (1 - loonwaarde) over clients in the state
        self.area = 0.0  # time integral of weight this month
        self.since = 0.0
        self.cost = 0  # cents, this year so far

    @property
    def n_clients(self) -> int:
        return len(self.clients)

    def _advance(self, now: float) -> None:
        self.area += self.weight * (now - self.since)
        self.since = now

    def enter(self, client: int, loonwaarde: float, now: float) -> None:
        self._advance(now)
        loonwaarde = min(self.cap, loonwaarde)
        self.clients[client] = loonwaarde
        self.weight += 1.0 - loonwaarde

    def leave(self, client: int, now: float) -> None:
        self._advance(now)
        loonwaarde = self.clients.pop(client)
        self.weight = self.weight - (1.0 - loonwaarde) if self.clients else 0.0

    def close_month(self, month: int, at: float) -> None:
        self._advance(at)
        self.book_month(month, self.area)
        self.area = 0.0

    def book_month(self, month: int, area: float) -> None:
        """Month ``month``'s subsidy: ``area`` is the month's integral of ``1 - loonwaarde`` over the clients."""
        rate = self.plan.minimum_wage[month] * self.plan.hours_share[month]
        self.cost += cents(rate * area)

    def take_year(self) -> int:
        cost, self.cost = self.cost, 0
        return cost

    def reassess(self) -> None:
        """Yearly loonwaarde reassessment; it may rise, never above the cap."""
        rise = self.plan.rise_max
        draws = self.rng.random(len(self.clients))
        for (client, loonwaarde), u in zip(list(self.clients.items()), draws):
            self.clients[client] = min(self.cap, loonwaarde + rise * u)
        self.weight = sum(1.0 - lw for lw in self.clients.values())  # no drift across years
