"""The ledger: the budget accounts of one replication, driven by an engine through a few hooks.

The ledger reads only its :class:`~sim.model.budget_plan.BudgetPlan` and the
arguments of its hooks, so any engine can drive it and it can be tested on
its own. An engine calls it only where money is involved, so a scenario
without a ``[budget]`` section pays nothing and one with it pays O(1) per
transition:

* ``affordable(s, k)`` before a costed transition starts (the start is refused
  when no purse can pay; the engine then calls ``refused`` and counts the flow),
* ``on_transition(t, client, profile, s, k, to)`` when a costed or watched transition completes,
* ``on_move(t, client, loonwaarde, s, to, since, muni)`` when a client enters or leaves a state
  the ledger watches (the LKS state, states with a cost per month); ``since`` is when the stay
  began (``t`` except for the initial households), ``muni`` the client's municipality in a region,
* ``close_month(month, t, person_months)`` at every month end, with the month's person-months
  ``[municipality, state]`` (benefits, LKS; at a year end the settlement, the loonwaarde
  reassessment and the next year's allocations).

An engine may keep the per-household part itself (the compiled engine, ``sim.engines.fast_ledger``):
after ``engine_keeps_households`` it calls neither ``on_transition`` nor ``on_move`` and passes each
month's accrued euros per line to ``close_month``.

All amounts are integer cents. ``table`` is an int64 array ``[year, column]``
(columns ``plan.columns``; counts are those of :func:`sim.model.budget_plan.is_count`).
In a region every municipality has its own I-deel and LKS accounts, never mixed;
``table`` holds their sums, and ``municipal`` ``[year, municipality, column]``
(``plan.municipal_columns``) each one's own lines and its share of the shared
costs, split by the cost keys to the cent (largest remainder).
"""

from __future__ import annotations

import bisect

import numpy as np

from sim.budget.ideel import IDeelAccount
from sim.budget.lks import LksAccount
from sim.budget.money import Purse, cents
from sim.budget.participatiebudget import ParticipatiebudgetAccount
from sim.budget.programme import ProgrammeAccount
from sim.budget.revolving_fund import FundAccount
from sim.model.budget_plan import SHARED_COLUMNS, BudgetPlan
from sim.model.compiled import split_whole
from sim.model.streams import Stream, generator


class Ledger:
    def __init__(self, plan: BudgetPlan, seed: int, replication: int, log: bool = False):
        self.plan = plan
        self.calendar = plan.calendar
        self.col = {name: i for i, name in enumerate(plan.columns)}
        self.table = np.zeros((plan.n_years, len(plan.columns)), dtype=np.int64)
        self.log: list[tuple] | None = [] if log else None
        munis = plan.municipalities
        if munis:  # a region: one I-deel and one LKS account per municipality
            self.i_deels = [IDeelAccount(plan, m.grant, m.reserve_opening, m.reserve_floor) for m in munis]
            streams = [generator(seed, replication, Stream.BUDGET, i) for i in range(len(munis))]
        else:
            self.i_deels = [IDeelAccount(plan)]
            streams = [generator(seed, replication, Stream.BUDGET)]
        self.lks_accounts = [LksAccount(plan.lks, rng) for rng in streams] if plan.lks else []
        self.lks = self.lks_accounts[0] if self.lks_accounts else None
        self.lks_state = plan.lks.state if plan.lks else -99
        self.municipal = np.zeros((plan.n_years, len(munis), len(plan.municipal_columns)), dtype=np.int64)
        self.mcol = {name: i for i, name in enumerate(plan.municipal_columns)}
        self.pb = ParticipatiebudgetAccount(plan.participatiebudget) if plan.participatiebudget else None
        self.fund = FundAccount(plan.fund) if plan.fund else None
        self.programmes = [ProgrammeAccount(p) for p in plan.programmes]
        purses: dict[str, Purse] = dict(self.pb.pots) if self.pb else {}
        if self.fund is not None:
            purses["revolving_fund"] = self.fund
        # who pays for which transition: a chain of (purse, cost in cents, is the fund)
        self.payers = {key: [(purses[p.purse], p.cost, p.is_fund) for p in chain] for key, chain in plan.payers.items()}
        watched = plan.fund.watched if plan.fund else frozenset()
        self.costed = frozenset(self.payers)  # transitions whose start must be paid
        self.keys = self.costed | watched  # transitions the ledger wants to hear of
        # costs per month in a state: the households there and when their stay began
        self.members: dict[int, dict[int, float]] = {c.state: {} for c in plan.state_costs}
        self.state_costs = {s: [c for c in plan.state_costs if c.state == s] for s in self.members}
        self.accrued: dict[str, float] = {}  # euros per budget line, this month so far
        self.programme = {prog.name: prog for prog in self.programmes}
        self.staff = self.instruments = self.own = 0  # cents this year: staff, instrument costs, municipal budget
        self.states = frozenset(self.members) | ({self.lks_state} if self.lks is not None else frozenset())
        self._open_year(0, 0.0)

    # -- engine hooks -----------------------------------------------------------------
    def affordable(self, s: int, k: int) -> bool:
        return self._payer((s, k)) is not None

    @property
    def in_deficit(self) -> bool:
        """The last settled year's I-deel result (summed over a region's municipalities) was negative."""
        return sum(account.result for account in self.i_deels) < 0

    def _payer(self, key: tuple[int, int]):
        for purse, cost, is_fund in self.payers[key]:
            if is_fund and self.in_deficit:
                continue
            if purse.can_pay(cost):
                return purse, cost, is_fund
        return None

    def refused(self, t: float, s: int, k: int) -> None:
        first = self.payers[(s, k)][0][0]
        self._log(t, "refuse", first.name, 0, first.balance)

    def on_transition(self, t: float, client: int, profile: int, s: int, k: int, to: int) -> None:
        key = (s, k)
        if self.fund is not None and key in self.plan.fund.watched:
            self._leave_financed(t, client, profile, s, k)
        if key in self.costed:
            purse, cost, is_fund = self._payer(key)  # affordable() was asked at this same instant
            purse.pay(cost)
            self._log(t, "pay", purse.name, cost, purse.balance)
            if is_fund and to in self.plan.fund.targets:
                self.fund.clients[client] = (t, to)

    def on_move(self, t: float, client: int, loonwaarde: float, s: int | None, to: int, since: float | None = None,
                muni: int = 0) -> None:  # fmt: skip
        if s == self.lks_state:
            self.lks_accounts[muni].leave(client, t)
        if to == self.lks_state:
            self.lks_accounts[muni].enter(client, loonwaarde, t)
        if s in self.members:
            self._accrue(s, self.members[s].pop(client), float(int(t)), t)
        if to in self.members:
            self.members[to][client] = t if since is None else since

    def engine_keeps_households(self, lks_accounts: list) -> None:
        """The engine keeps the per-household accounts itself (the compiled engine: ``sim.engines.fast_ledger``).

        It then pays starts from the purses and measures the fund's savings itself (the driver puts balances and
        savings into the purses), calls neither ``on_transition`` nor ``on_move``, passes each month's accrued
        euros per line to ``close_month``, and ``lks_accounts`` (one per municipality) read its LKS integrals
        with ``close_month``, ``take_year``, ``n_clients`` and ``reassess`` as :class:`LksAccount` has them."""
        self.lks_accounts = lks_accounts
        self.lks = lks_accounts[0] if lks_accounts else None
        self.members = {}

    def close_month(self, month: int, t: float, person_months: np.ndarray,
                    accrued: dict[str, float] | None = None) -> None:  # fmt: skip
        """Close month ``month`` at ``t``; ``accrued``: the month's euros per line, from an engine that keeps the
        households' stays itself (``engine_keeps_households``)."""
        if accrued is not None:
            self.accrued.update(accrued)
        for account, row in zip(self.i_deels, person_months):
            account.close_month(month, row)
        for lks in self.lks_accounts:
            lks.close_month(month, t)
        for s, members in self.members.items():
            for since in members.values():
                self._accrue(s, since, float(month), t)
        for line, euros in self.accrued.items():
            amount = cents(euros)
            self.instruments += amount
            self._book(line, amount)
        self.accrued.clear()
        for staff in self.plan.staff_costs:
            amount = cents(staff.per_month[month])
            self.staff += amount
            self._book(staff.line, amount)
        if self.calendar.is_year_end(month):
            self._close_year(self.calendar.year_index(month), t)

    def _accrue(self, s: int, since: float, start: float, end: float) -> None:
        """Costs of one household's stay in ``s`` over [start, end), counted from ``since + after``."""
        for cost in self.state_costs[s]:
            begin = max(since + cost.after, start)
            if end > begin:
                self.accrued[cost.line] = self.accrued.get(cost.line, 0.0) + cost.per_month * (end - begin)

    def _book(self, line: str, amount: int) -> None:
        """A cost on a budget line: a pot (its balance falls and may go below 0), a programme, or the municipality."""
        kind, _, name = line.partition(".")
        if kind == "pot":
            purse = self.pb.pots[name]
            purse.balance -= amount
            purse.spent += amount
        elif kind == "programme":
            self.programme[name].book(amount)
        else:
            self.own += amount

    # -- years --------------------------------------------------------------------------
    def _open_year(self, y: int, t: float) -> None:
        if self.pb is not None:
            self.pb.open_year(y)
            for purse in self.pb.pots.values():
                self._log(t, "allocate", purse.name, purse.allocated, purse.balance)

    def _close_year(self, y: int, t: float) -> None:
        topup = self.fund.topup_for if self.fund is not None else (lambda result: 0)
        rows = []
        for account, lks in zip(self.i_deels, self.lks_accounts or [None] * len(self.i_deels)):
            row = account.settle(y, lks.take_year() if lks is not None else 0, topup)
            self._log(t, "settle", "i_deel", row["i_deel_result"], row["reserve_balance"])
            if lks is not None:
                row["lks_clients_end"] = lks.n_clients
                lks.reassess()
            rows.append(row)
        row = {name: sum(r[name] for r in rows) for name in rows[0]}  # a region's total of its municipalities
        if self.pb is not None:
            row |= self.pb.close_year()
        if self.fund is not None:
            row |= self.fund.close_year()
        for prog in self.programmes:
            for what, amount in prog.year(y).items():
                row[f"programme_{what}"] = row.get(f"programme_{what}", 0) + amount
                if what in ("budget", "spent", "carry_over"):
                    row[f"programme_{prog.name}_{what}"] = amount
        row |= {"staff_cost": self.staff, "instrument_cost": self.instruments, "municipality_cost": self.own}
        self.staff = self.instruments = self.own = 0
        for name, value in row.items():
            self.table[y, self.col[name]] = value
        if self.plan.municipalities:
            self._split(y, rows, row)
        if y + 1 < self.plan.n_years:
            self._open_year(y + 1, t)

    def _split(self, y: int, own: list[dict[str, int]], total: dict[str, int]) -> None:
        """Each municipality's own I-deel lines and its share of every shared cost, to the cent."""
        weights = [m.cost_weight[y] for m in self.plan.municipalities]
        shared = [*SHARED_COLUMNS, *(f"programme_{p.name}_spent" for p in self.plan.programmes)]
        for m, row in enumerate(own):
            for name, value in row.items():
                self.municipal[y, m, self.mcol[name]] = value
        for name in shared:
            for m, part in enumerate(split_whole(total[name], weights)):
                self.municipal[y, m, self.mcol[name]] = part
        cost = self.municipal[y, :, self.mcol["programme_spent"]] + self.municipal[y, :, self.mcol["municipality_cost"]]
        self.municipal[y, :, self.mcol["shared_cost"]] = cost

    def _leave_financed(self, t: float, client: int, profile: int, s: int, k: int) -> None:
        entry = self.fund.clients.pop(client, None)
        fund = self.plan.fund
        if entry is None or fund.counterfactual is None or (s, k) not in fund.exits:
            return
        t0, _ = entry
        j = bisect.bisect_right(self.plan.segments, t) - 1
        h_inc = fund.hazards[(s, k)][j, profile]
        cs, _ = fund.counterfactual
        h_cf = fund.hazards[fund.counterfactual][j, profile]
        months = self.fund.saved_months(t0, t, h_inc, h_cf, self.plan.horizon)
        amount = cents(months * self.plan.monthly_benefit[int(t)] * self.plan.benefit_share[cs])
        self.fund.savings += amount
        self._log(t, "saving", "revolving_fund", amount, self.fund.balance)

    def _log(self, t: float, what: str, account: str, amount: int, balance: int) -> None:
        if self.log is not None:
            self.log.append((round(t, 9), what, account, amount, balance))
