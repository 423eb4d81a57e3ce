"""Revolverend Fonds: pays short incentives in arrangement 1; refilled from I-deel surpluses and/or savings.

The fund pays ``unit_cost`` per financed start while it has the money and the
last settled I-deel year was not in deficit; otherwise the start falls back on
a Participatiebudget pot, or is refused (docs/budgets.md). At each year end it
receives ``topup_share`` of an I-deel surplus and ``savings_share`` of the
savings measured that year (Werken aan Werk §2.2.2: plans must show extra
outflow and savings on benefits, financing preferably from realised savings).

Savings are measured, not assumed. A client whose incentive the fund paid and
who then leaves the incentive state through an ``exit_work`` transition at
time ``t`` after ``t0`` crossed its exit threshold ``E = h_inc * (t - t0)``; with
the same threshold and the counterfactual hazard ``h_cf`` the exit would have
come at ``t0 + E / h_cf``. The benefit months saved are the difference (capped
at the horizon), valued at the monthly benefit of the month of exit.
"""

from __future__ import annotations

import math

from sim.budget.money import Purse
from sim.model.budget_plan import FundPlan


class FundAccount(Purse):
    __slots__ = ("plan", "topup", "financed", "savings", "savings_months", "clients")

    def __init__(self, plan: FundPlan):
        super().__init__("revolving_fund")
        self.plan = plan
        self.balance = plan.opening
        self.topup = self.financed = self.savings = 0
        self.savings_months = 0.0
        self.clients: dict[int, tuple[float, int]] = {}  # financed client -> (start time, state)

    def topup_for(self, result: int) -> int:
        """Cents moved from a surplus (``result > 0``) into the fund."""
        amount = math.floor(result * self.plan.topup_share)
        if self.plan.topup_cap is not None:
            amount = min(amount, self.plan.topup_cap)
        self.topup = amount
        self.balance += amount
        return amount

    def saved_months(self, t0: float, t: float, h_inc: float, h_cf: float, horizon: float) -> float:
        """Benefit months saved by a financed exit at ``t`` (same threshold, counterfactual hazard)."""
        if h_cf <= 0.0:
            return horizon - t  # without the incentive the client would not have left in the run
        return max(0.0, min((t - t0) * (h_inc / h_cf - 1.0), horizon - t))

    def close_year(self) -> dict[str, int]:
        refill = math.floor(self.savings * self.plan.savings_share)
        self.balance += refill
        row = {
            "revolving_fund_spent": self.spent,
            "revolving_fund_balance": self.balance,
            "revolving_fund_financed": self.starts,
            "revolving_fund_savings": self.savings,
            "revolving_fund_refill": refill,
        }
        self.spent = self.starts = self.savings = self.topup = 0
        return row
