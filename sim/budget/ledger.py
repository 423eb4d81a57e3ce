"""The ledger: the budget accounts of one replication, driven by the engine's hooks.

The engine calls the ledger only where money is involved, so a scenario
without a ``[budget]`` section pays nothing and one with it pays O(1) per
transition:

* ``affordable(s, k)`` before a costed transition starts (the start is refused
  when no purse can pay; the engine counts the flow ``refused``),
* ``on_transition`` when a costed or watched transition completes,
* ``on_move`` when a client enters or leaves the LKS state,
* ``close_month`` at every month end (benefits, LKS; at a year end the
  settlement, the loonwaarde reassessment and the next year's allocations).

All amounts are integer cents. ``table`` is an int64 array ``[year, column]``
(columns from :func:`budget_columns`); counts are marked in ``COUNT_COLUMNS``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from sim.budget.ideel import IDeelAccount
from sim.budget.lks import LksAccount
from sim.budget.money import cents, year_start
from sim.budget.participatiebudget import ParticipatiebudgetAccount
from sim.budget.programme import ProgrammeAccount
from sim.budget.revolving_fund import FundAccount
from sim.model.budget import Budget, budget_problems
from sim.model.loader import ScenarioError

BASE_COLUMNS = (
    "benefit_cost", "lks_cost", "lks_clients_end", "i_deel_grant", "i_deel_result", "fund_topup",
    "reserve_balance", "reserve_uncovered",
    "participatiebudget_grant", "wsw_share", "participatiebudget_other", "participatiebudget_allocated",
    "participatiebudget_spent", "participatiebudget_unspent",
    "revolving_fund_spent", "revolving_fund_balance", "revolving_fund_financed", "revolving_fund_savings",
    "programme_budget", "programme_spent", "programme_carry_over", "programme_lapsed",
)  # fmt: skip
COUNT_COLUMNS = frozenset({"lks_clients_end", "revolving_fund_financed"})
BUDGET_STREAM = 60  # spawn-key of the ledger's own generator (loonwaarde reassessment)


def budget_columns(budget: Budget) -> list[str]:
    """The ledger table's columns for a budget section (pot columns follow the base columns)."""
    pots = budget.participatiebudget.pots if budget.participatiebudget else {}
    return [*BASE_COLUMNS, *(f"pot_{n}_{what}" for n in pots for what in ("allocated", "spent", "starts"))]


def is_count(column: str) -> bool:
    return column in COUNT_COLUMNS or column.endswith("_starts")


class Ledger:
    def __init__(self, model):
        c = model.c
        scenario = c.scenario
        problems = budget_problems(scenario)
        if problems:
            raise ScenarioError(problems)
        self.cfg: Budget = scenario.budget
        self.model = model
        self.env = model.env
        self.first_year = scenario.start.year
        self.start = scenario.start
        self.horizon = model.horizon
        self.n_years = model.n_months // 12 + (model.n_months % 12 > 0)
        self.columns = budget_columns(self.cfg)
        self._col = {name: i for i, name in enumerate(self.columns)}
        self.table = np.zeros((self.n_years, len(self.columns)), dtype=np.int64)
        self.log: list[tuple] | None = [] if model.log is not None else None
        index = {st.name: i for i, st in enumerate(c.states)}

        def key(path: str) -> tuple[int, int]:
            state, _, name = path.partition(".")
            s = index[state]
            return s, next(k for k, tr in enumerate(c.states[s].transitions) if tr.name == name)

        shares = [st.benefit_share if st.on_caseload else 0.0 for st in c.states]
        self.i_deel = IDeelAccount(self.cfg.i_deel, shares)
        self.lks = None
        self.lks_state = -99
        if self.cfg.lks is not None:
            seq = np.random.SeedSequence(model.streams.seed, spawn_key=(model.streams.replication, BUDGET_STREAM))
            self.lks = LksAccount(self.cfg.lks, np.random.Generator(np.random.PCG64(seq)))
            self.lks_state = index[self.cfg.lks.state]
        self.pb = ParticipatiebudgetAccount(self.cfg.participatiebudget) if self.cfg.participatiebudget else None
        self.programmes = [ProgrammeAccount(n, p) for n, p in self.cfg.programmes.items()]

        # who pays for which transition: a chain of (purse, cost in cents, is the fund)
        self.payers: dict[tuple[int, int], list[tuple]] = {}
        if self.pb is not None:
            for name, pot in self.cfg.participatiebudget.pots.items():
                for path in pot.pays:
                    self.payers[key(path)] = [(self.pb.pots[name], self.pb.unit_costs[name], False)]
        self.fund = None
        self.watched: set[tuple[int, int]] = set()
        self.fund_targets: set[int] = set()
        if self.cfg.revolving_fund is not None:
            fcfg = self.cfg.revolving_fund
            self.fund = FundAccount(fcfg)
            cost = cents(fcfg.unit_cost.value)
            fallback = []
            if fcfg.fallback_pot is not None:
                name = fcfg.fallback_pot
                self.pb.modelled.add(name)
                fallback = [(self.pb.pots[name], cents(self.cfg.participatiebudget.pots[name].unit_cost.value)
                             if self.cfg.participatiebudget.pots[name].unit_cost else cost, False)]
            for path in fcfg.pays:
                s, k = key(path)
                self.payers[(s, k)] = [(self.fund, cost, True), *fallback]
                to = c.states[s].transitions[k].to
                if to >= 0 and to != s:
                    self.fund_targets.add(to)
                    self.watched |= {(to, j) for j in range(len(c.states[to].transitions))}
            self.counterfactual = key(fcfg.counterfactual) if fcfg.counterfactual else None
        self.costed = frozenset(self.payers)
        self.keys = frozenset(self.payers) | frozenset(self.watched)
        self.states = frozenset({self.lks_state}) if self.lks is not None else frozenset()
        self._open_year(0)

    # -- engine hooks -----------------------------------------------------------------
    def affordable(self, s: int, k: int) -> bool:
        return self._payer((s, k)) is not None

    def _payer(self, key: tuple[int, int]):
        for purse, cost, is_fund in self.payers[key]:
            if is_fund and self.i_deel.in_deficit:
                continue
            if purse.can_pay(cost):
                return purse, cost, is_fund
        return None

    def refused(self, s: int, k: int) -> None:
        self._log("refuse", self.payers[(s, k)][0][0].name, 0, self.payers[(s, k)][0][0].balance)

    def on_transition(self, cl, s: int, k: int, to: int) -> None:
        key = (s, k)
        if key in self.watched:
            self._leave_financed(cl, s, k)
        if key in self.costed:
            purse, cost, is_fund = self._payer(key)  # affordable() was asked at this same instant
            purse.pay(cost)
            self._log("pay", purse.name, cost, purse.balance)
            if is_fund and to in self.fund_targets:
                self.fund.clients[cl.id] = (self.env.now, to)

    def on_move(self, cl, s: int | None, to: int) -> None:
        now = self.env.now
        if s == self.lks_state:
            self.lks.leave(cl, now)
        if to == self.lks_state:
            self.lks.enter(cl, now)

    def close_month(self, month: int, at: float) -> None:
        m = self.start.month - 1 + month
        when = dt.date(self.start.year + m // 12, m % 12 + 1, 1)
        self.i_deel.close_month(when, self.model.person_months[month])
        if self.lks is not None:
            self.lks.close_month(when, at)
        if month % 12 == 11 or month == self.model.n_months - 1:
            self._close_year(month // 12)

    # -- years --------------------------------------------------------------------------
    def _open_year(self, y: int) -> None:
        start = year_start(self.first_year, y)
        if self.pb is not None:
            self.pb.open_year(y, start)
            for purse in self.pb.pots.values():
                self._log("allocate", purse.name, purse.allocated, purse.balance)

    def _close_year(self, y: int) -> None:
        start = year_start(self.first_year, y)
        lks_cost = self.lks.take_year() if self.lks is not None else 0
        topup = self.fund.topup_for if self.fund is not None else (lambda result: 0)
        row = self.i_deel.settle(start, lks_cost, topup)
        self._log("settle", "i_deel", row["i_deel_result"], row["reserve_balance"])
        if self.lks is not None:
            row["lks_clients_end"] = len(self.lks.clients)
            self.lks.reassess()
        if self.pb is not None:
            row |= self.pb.close_year()
        if self.fund is not None:
            row |= self.fund.close_year()
        for prog in self.programmes:
            for what, amount in prog.year(start).items():
                row[f"programme_{what}"] = row.get(f"programme_{what}", 0) + amount
        for name, value in row.items():
            self.table[y, self._col[name]] = value
        if y + 1 < self.n_years:
            self._open_year(y + 1)

    def _leave_financed(self, cl, s: int, k: int) -> None:
        entry = self.fund.clients.pop(cl.id, None)
        c = self.model.c
        tr = c.states[s].transitions[k]
        if entry is None or tr.kind != "exit_work" or self.counterfactual is None:
            return
        t0, _ = entry
        now = self.env.now
        j = c.segment(now)
        h_inc = c.segment_rates(s, None, j, cl.profile)[0][k]
        cs, ck = self.counterfactual
        h_cf = c.segment_rates(cs, None, j, cl.profile)[0][ck]
        months = self.fund.saved_months(t0, now, h_inc, h_cf, self.horizon)
        m = self.start.month - 1 + int(now)
        when = dt.date(self.start.year + m // 12, m % 12 + 1, 1)
        amount = cents(months * self.cfg.i_deel.monthly_benefit.at(when) * c.states[cs].benefit_share)
        self.fund.savings += amount
        self._log("saving", "revolving_fund", amount, self.fund.balance)

    def _log(self, what: str, account: str, amount: int, balance: int) -> None:
        if self.log is not None:
            self.log.append((round(self.env.now, 9), what, account, amount, balance))


def annual_budget_row(budget: Budget, values: np.ndarray) -> dict[str, float | int]:
    """One replication-year of the ledger table for ``annual.csv``: euros (2 decimals) and counts."""
    return {
        name: int(v) if is_count(name) else round(int(v) / 100, 2)
        for name, v in zip(budget_columns(budget), values.tolist())
    }


def deficit_probability(annual) -> pd.DataFrame:
    """``p_i_deel_deficit`` per year for ``summary.csv``.

    ``mean`` is the share of replications with a negative I-deel result, ``sd`` its
    binomial standard error, ``p5``/``p95`` a 90% Wilson interval and ``p50`` the share itself.
    """
    import pandas as pd

    z = 1.6448536269514722  # two-sided 90%
    rows = []
    for year, group in annual.groupby("year", sort=True):
        n = len(group)
        p = float((group["i_deel_result"] < 0).mean())
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        rows.append({
            "metric": "p_i_deel_deficit", "year": year, "mean": p, "sd": float(np.sqrt(p * (1 - p) / n)),
            "p5": max(0.0, centre - half), "p50": p, "p95": min(1.0, centre + half), "n": n,
        })  # fmt: skip
    return pd.DataFrame(rows)
