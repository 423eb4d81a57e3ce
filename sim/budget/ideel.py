"""I-deel / BUIG: benefit costs month by month, settled yearly against the grant and the reserve.

The yearly result is ``grant - benefit_cost - lks_cost``. A surplus goes into the
reserve Werk en Inkomen (part of it may then move on to the Revolverend Fonds);
a deficit is drawn from the reserve. With a floor the reserve never drops below
it, and the part of a deficit that would take it lower is reported as
``reserve_uncovered`` (borne by the general budget).
"""

from __future__ import annotations

import numpy as np

from sim.budget.money import cents
from sim.model.budget_plan import BudgetPlan


class IDeelAccount:
    """One I-deel: the scenario's, or in a region one municipality's (``grant``, ``reserve``, ``floor`` given)."""

    def __init__(self, plan: BudgetPlan, grant: tuple[int, ...] | None = None, reserve: int | None = None,
                 floor: int | None = None):  # fmt: skip
        self.plan = plan
        self.grant = plan.grant if grant is None else grant
        self.shares = np.asarray(plan.benefit_share, dtype=float)  # per state, 0 off the caseload
        self.reserve = plan.reserve_opening if reserve is None else reserve
        self.floor = plan.reserve_floor if grant is None else floor
        self.benefit = 0  # cents, this year so far
        self.result = 0  # the last settled year's result

    def close_month(self, month: int, person_months: np.ndarray) -> None:
        """Book one month of benefits: person-months x benefit share x monthly benefit."""
        households = float(np.dot(person_months, self.shares))
        self.benefit += cents(self.plan.monthly_benefit[month] * households)

    def settle(self, year: int, lks_cost: int, topup) -> dict[str, int]:
        """Close budget year ``year``; ``topup(result)`` gives the cents moved on to the Revolverend Fonds."""
        grant = self.grant[year]
        result = grant - self.benefit - lks_cost
        transfer = topup(result) if result > 0 else 0
        reserve = self.reserve + result - transfer
        uncovered = 0
        if self.floor is not None and reserve < self.floor:
            uncovered = self.floor - reserve
            reserve = self.floor
        row = {
            "benefit_cost": self.benefit,
            "lks_cost": lks_cost,
            "i_deel_grant": grant,
            "i_deel_result": result,
            "fund_topup": transfer,
            "reserve_balance": reserve,
            "reserve_uncovered": uncovered,
        }
        self.reserve = reserve
        self.benefit = 0
        self.result = result
        return row
