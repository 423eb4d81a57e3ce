"""Participatiebudget: the Wsw share comes off first, the rest goes to pots per arrangement.

Each year the grant is split as ``grant = wsw_share + sum(pot allocations) + other``,
where ``other`` is the part the sources do not assign to an arrangement (own
services, staff; docs/budgets.md) and is booked as spent outside the model.
Within a year each pot satisfies ``allocated = spent + unspent``; unspent money
does not carry over.
"""

from __future__ import annotations

from sim.budget.money import Purse
from sim.model.budget_plan import ParticipatiePlan


class ParticipatiebudgetAccount:
    def __init__(self, plan: ParticipatiePlan):
        self.plan = plan
        self.pots = {pot.name: Purse(pot.name, pot.allow_negative) for pot in plan.pots}
        self.row: dict[str, int] = {}

    def open_year(self, year: int) -> None:
        grant = self.plan.grant[year]
        wsw = self.plan.wsw[year]
        allocated = 0
        for pot in self.plan.pots:
            purse = self.pots[pot.name]
            purse.allocated = purse.balance = pot.amount[year]
            purse.spent = purse.starts = 0
            allocated += purse.allocated
        self.row = {
            "participatiebudget_grant": grant,
            "wsw_share": wsw,
            "participatiebudget_allocated": allocated,
            "participatiebudget_other": grant - wsw - allocated,
        }

    def close_year(self) -> dict[str, int]:
        spent = 0
        row = dict(self.row)
        for pot in self.plan.pots:
            purse = self.pots[pot.name]
            if not pot.modelled:  # pays for nothing modelled: spent as budgeted
                purse.spent, purse.balance = purse.allocated, 0
            spent += purse.spent
            row[f"pot_{pot.name}_allocated"] = purse.allocated
            row[f"pot_{pot.name}_spent"] = purse.spent
            row[f"pot_{pot.name}_starts"] = purse.starts
        row["participatiebudget_spent"] = spent
        row["participatiebudget_unspent"] = row["participatiebudget_allocated"] - spent
        return row
