"""Programme budgets (e.g. Werkbeweging): a yearly budget, planned spending, carry-over of underspend.

Each year ``available = budget + carried``; ``spent = min(available, planned)``;
the rest is carried to the next year when ``carry_over`` is set (Werkbeweging
carried EUR 503,000 from 2019, 001_192052d875f1edab.txt:728-734), else it lapses.
What the money buys (extra werkmatcher FTE) enters the flows through the
scenario's ``werkmatchers`` levers, not through this account.
"""

from __future__ import annotations

import datetime as dt

from sim.budget.money import cents
from sim.model.budget import Programme


class ProgrammeAccount:
    def __init__(self, name: str, cfg: Programme):
        self.name = name
        self.cfg = cfg
        self.carried = 0

    def year(self, start: dt.date) -> dict[str, int]:
        budget = cents(self.cfg.budget.at(start))
        available = self.carried + budget
        spent = min(available, cents(self.cfg.planned_spend.at(start)))
        self.carried = available - spent if self.cfg.carry_over else 0
        return {"budget": budget, "spent": spent, "carry_over": self.carried, "lapsed": available - spent - self.carried}
