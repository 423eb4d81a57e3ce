"""Loonkostensubsidie: (1 - loonwaarde) x statutory minimum wage x hours share, per client-month.

The subsidy is integrated exactly over time: the account keeps the sum of
``1 - loonwaarde`` over the clients in the LKS state and its time integral, so
a month's cost is ``WML x hours share x integral`` whatever the entry and exit
times. Loonwaarde is reassessed at every year end: it rises by a uniform draw
in ``[0, loonwaarde_rise_max]``, capped at ``loonwaarde_cap`` (no fixed end date,
002_6605c097c13c0fe9.txt:672).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.budget.money import cents
from sim.model.budget import Lks


class LksAccount:
    def __init__(self, cfg: Lks, rng: np.random.Generator):
        self.cfg = cfg
        self.rng = rng
        self.cap = cfg.loonwaarde_cap.value
        self.clients: dict[int, object] = {}  # client id -> client (insertion order is deterministic)
        self.weight = 0.0  # sum of (1 - loonwaarde) over clients in the state
        self.area = 0.0  # time integral of weight this month
        self.since = 0.0
        self.cost = 0  # cents, this year so far

    def _advance(self, now: float) -> None:
        self.area += self.weight * (now - self.since)
        self.since = now

    def enter(self, cl, now: float) -> None:
        self._advance(now)
        cl.loonwaarde = min(self.cap, cl.loonwaarde)
        self.clients[cl.id] = cl
        self.weight += 1.0 - cl.loonwaarde

    def leave(self, cl, now: float) -> None:
        self._advance(now)
        del self.clients[cl.id]
        self.weight = self.weight - (1.0 - cl.loonwaarde) if self.clients else 0.0

    def close_month(self, month_start: dt.date, at: float) -> None:
        self._advance(at)
        rate = self.cfg.minimum_wage_month.at(month_start) * self.cfg.hours_share.at(month_start)
        self.cost += cents(rate * self.area)
        self.area = 0.0

    def take_year(self) -> int:
        cost, self.cost = self.cost, 0
        return cost

    def reassess(self) -> None:
        """Yearly loonwaarde reassessment; it may rise, never above the cap."""
        rise = self.cfg.loonwaarde_rise_max.value
        draws = self.rng.random(len(self.clients))
        for cl, u in zip(self.clients.values(), draws):
            cl.loonwaarde = min(self.cap, cl.loonwaarde + rise * u)
        self.weight = sum(1.0 - c.loonwaarde for c in self.clients.values())  # no drift across years
