"""Participatiebudget: the Wsw share comes off first, the rest goes to pots per arrangement.

Each year the grant is split as ``grant = wsw_share + sum(pot allocations) + other``,
where ``other`` is the part the seeds do not assign to an arrangement (own
services, staff; 002_6605c097c13c0fe9.txt:334-355 explain only EUR 4.1M of
EUR 12.9M) and is booked as spent outside the model. Within a year each pot
satisfies ``allocated = spent + unspent``; unspent money does not carry over.
"""

from __future__ import annotations

import datetime as dt

from sim.budget.money import Purse, cents
from sim.model.budget import Participatiebudget


class ParticipatiebudgetAccount:
    def __init__(self, cfg: Participatiebudget):
        self.cfg = cfg
        self.pots = {name: Purse(name, pot.allow_negative) for name, pot in cfg.pots.items()}
        self.unit_costs = {name: cents(pot.unit_cost.value) for name, pot in cfg.pots.items() if pot.unit_cost}
        self.row: dict[str, int] = {}
        self.modelled = {name for name, pot in cfg.pots.items() if pot.pays}  # the ledger adds fund fallbacks

    def open_year(self, year: int, start: dt.date) -> None:
        grant = cents(self.cfg.grant.at(start))
        wsw = cents(self.cfg.wsw.opening_amount.value * (1.0 - self.cfg.wsw.attrition_per_year.value) ** year)
        allocated = 0
        for name, purse in self.pots.items():
            purse.allocated = purse.balance = cents(self.cfg.pots[name].amount.at(start))
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
        for name, purse in self.pots.items():
            if name not in self.modelled:  # pays for nothing modelled: spent as budgeted
                purse.spent, purse.balance = purse.allocated, 0
            spent += purse.spent
            row[f"pot_{name}_allocated"] = purse.allocated
            row[f"pot_{name}_spent"] = purse.spent
            row[f"pot_{name}_starts"] = purse.starts
        row["participatiebudget_spent"] = spent
        row["participatiebudget_unspent"] = row["participatiebudget_allocated"] - spent
        return row
