"""Programme budgets (e.g. Werkbeweging): a yearly budget, planned spending, carry-over of underspend.

Each year ``available = budget + carried``. The programme spends its planned
amount and every cost booked on it (staff a lever adds, instrument costs), but
no more of the planned amount than is available; what costs exceed is
``overspent``. The rest is carried to the next year when ``carry_over`` is
set, else it lapses: ``available = spent + carry_over + lapsed - overspent``.
What the money buys (extra werkmatcher FTE) enters the flows through the
scenario's ``werkmatchers`` levers.
"""

from __future__ import annotations

from sim.model.budget_plan import ProgrammePlan


class ProgrammeAccount:
    def __init__(self, plan: ProgrammePlan):
        self.plan = plan
        self.name = plan.name
        self.carried = 0
        self.booked = 0  # cents of costs booked on the programme this year

    def book(self, amount: int) -> None:
        self.booked += amount

    def year(self, y: int) -> dict[str, int]:
        budget = self.plan.budget[y]
        available = self.carried + budget
        planned = min(max(0, available - self.booked), self.plan.planned[y])
        spent = planned + self.booked
        overspent = max(0, spent - available)
        self.carried = available - spent + overspent if self.plan.carry_over else 0
        lapsed = available - spent + overspent - self.carried
        self.booked = 0
        return {"budget": budget, "spent": spent, "carry_over": self.carried, "lapsed": lapsed, "overspent": overspent}
