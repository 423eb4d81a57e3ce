"""Programme budgets (e.g. Werkbeweging): a yearly budget, planned spending, carry-over of underspend.

Each year ``available = budget + carried``; ``spent = min(available, planned)``;
the rest is carried to the next year when ``carry_over`` is set, else it lapses.
What the money buys (extra werkmatcher FTE) enters the flows through the
scenario's ``werkmatchers`` levers, not through this account.
"""

from __future__ import annotations

from sim.model.budget_plan import ProgrammePlan


class ProgrammeAccount:
    def __init__(self, plan: ProgrammePlan):
        self.plan = plan
        self.name = plan.name
        self.carried = 0

    def year(self, y: int) -> dict[str, int]:
        budget = self.plan.budget[y]
        available = self.carried + budget
        spent = min(available, self.plan.planned[y])
        self.carried = available - spent if self.plan.carry_over else 0
        return {"budget": budget, "spent": spent, "carry_over": self.carried, "lapsed": available - spent - self.carried}
