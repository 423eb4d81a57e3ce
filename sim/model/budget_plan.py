"""The ``[budget]`` section compiled to amounts per month and per year, in integer cents.

The ledger (:mod:`sim.budget.ledger`) reads only this plan: every dated value
is evaluated on the simulation calendar here, once, so the ledger never looks
at dates or at the scenario. Yearly amounts are read on 1 January of each
calendar year, monthly ones on the first of each month.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.model.calendar import Calendar
from sim.model.levers import lever_windows, levered

if TYPE_CHECKING:
    from sim.model.schema import Scenario

BASE_COLUMNS = (
    "benefit_cost", "lks_cost", "lks_clients_end", "i_deel_grant", "i_deel_result", "fund_topup",
    "reserve_balance", "reserve_uncovered",
    "participatiebudget_grant", "wsw_share", "participatiebudget_other", "participatiebudget_allocated",
    "participatiebudget_spent", "participatiebudget_unspent",
    "revolving_fund_spent", "revolving_fund_balance", "revolving_fund_financed", "revolving_fund_savings",
    "revolving_fund_refill",
    "programme_budget", "programme_spent", "programme_carry_over", "programme_lapsed",
    "staff_cost", "instrument_cost", "municipality_cost", "programme_overspent",
)  # fmt: skip
COUNT_COLUMNS = frozenset({"lks_clients_end", "revolving_fund_financed"})


def cents(euros: float) -> int:
    """Euros (float) to whole cents, rounding half away from zero."""
    return int(round(euros * 100))


def is_count(column: str) -> bool:
    """Whether a ledger column holds a count (else an amount in cents)."""
    return column in COUNT_COLUMNS or column.endswith("_starts")


class PotPlan(NamedTuple):
    name: str
    amount: tuple[int, ...]  # cents per budget year
    unit_cost: int | None  # cents per start
    allow_negative: bool
    modelled: bool  # pays for a modelled transition or cost (else booked as spent in full)


class ParticipatiePlan(NamedTuple):
    grant: tuple[int, ...]  # cents per budget year
    wsw: tuple[int, ...]  # cents per budget year: the sitting Wsw population's share
    pots: tuple[PotPlan, ...]


class LksPlan(NamedTuple):
    state: int
    minimum_wage: tuple[float, ...]  # euros per month, per simulated month
    hours_share: tuple[float, ...]  # per simulated month
    rise_max: float
    cap: float


class FundPlan(NamedTuple):
    opening: int  # cents
    topup_share: float
    topup_cap: int | None  # cents per year
    savings_share: float  # share of the year's measured savings returned to the fund
    unit_cost: int  # cents per financed start
    targets: frozenset[int]  # states a financed start leads into
    watched: frozenset[tuple[int, int]]  # transitions out of those states
    exits: frozenset[tuple[int, int]]  # the watched exits to work, whose savings are measured
    counterfactual: tuple[int, int] | None  # the exit transition without the incentive
    hazards: dict[tuple[int, int], np.ndarray]  # exits and counterfactual -> [segment, profile], band 0, no team


class ProgrammePlan(NamedTuple):
    name: str
    budget: tuple[int, ...]  # cents per budget year
    planned: tuple[int, ...]  # cents per budget year, besides the costs booked on the programme
    carry_over: bool


class StateCostPlan(NamedTuple):
    """A cost per household-month in a state, from ``after`` months into the stay (sim.model.schema.StateCost)."""

    state: int
    per_month: float  # euros
    after: float  # months
    line: str  # "municipality", "pot.<name>" or "programme.<name>"


class StaffCostPlan(NamedTuple):
    """What a team's staff cost a budget line, month by month (FTE follow the levers)."""

    team: str
    line: str
    per_month: tuple[float, ...]  # euros per simulated month


class Payer(NamedTuple):
    purse: str  # a pot name, or "revolving_fund"
    cost: int  # cents
    is_fund: bool


class MunicipalityPlan(NamedTuple):
    """One municipality of a region: its own I-deel, and its weight in shared costs per budget year."""

    name: str
    grant: tuple[int, ...]  # cents per budget year
    reserve_opening: int
    reserve_floor: int | None
    cost_weight: tuple[float, ...]  # per budget year (normalised over the municipalities when splitting)


# the columns of a region's ledger table per municipality: its own I-deel, and its share of the shared costs
MUNICIPAL_COLUMNS = (
    "benefit_cost", "lks_cost", "lks_clients_end", "i_deel_grant", "i_deel_result", "fund_topup", "reserve_balance",
    "reserve_uncovered", "staff_cost", "instrument_cost", "programme_spent", "municipality_cost", "shared_cost",
)  # fmt: skip
SHARED_COLUMNS = ("staff_cost", "instrument_cost", "programme_spent", "municipality_cost")


class BudgetPlan(NamedTuple):
    columns: tuple[str, ...]
    calendar: Calendar
    segments: tuple[float, ...]  # calendar segments of the compiled model (for the fund's hazards)
    horizon: float
    benefit_share: tuple[float, ...]  # per state; 0 off the caseload
    monthly_benefit: tuple[float, ...]  # euros per household-month at benefit share 1, per month
    grant: tuple[int, ...]  # I-deel grant, cents per budget year
    reserve_opening: int
    reserve_floor: int | None
    lks: LksPlan | None
    participatiebudget: ParticipatiePlan | None
    fund: FundPlan | None
    programmes: tuple[ProgrammePlan, ...]
    payers: dict[tuple[int, int], tuple[Payer, ...]]  # who pays a transition, in order of trying
    state_costs: tuple[StateCostPlan, ...]
    staff_costs: tuple[StaffCostPlan, ...]
    municipalities: tuple[MunicipalityPlan, ...] = ()  # a region's; () for one municipality

    @property
    def n_years(self) -> int:
        return len(self.calendar.years)

    @property
    def municipal_columns(self) -> tuple[str, ...]:
        """Columns of the per-municipality table of a region: its I-deel, its cost shares, per programme."""
        return (*MUNICIPAL_COLUMNS, *(f"programme_{p.name}_spent" for p in self.programmes))


def compile_budget(scenario: Scenario, c) -> BudgetPlan:
    """The plan of ``scenario.budget`` on the calendar of its compiled model ``c``.

    ``c`` is the :class:`sim.model.compiled.Compiled` of ``scenario`` without its budget
    (compiled.py builds it first, then calls this; importing it here would make a cycle).
    """
    b = scenario.budget
    cal = c.calendar
    jan1 = [_jan1(cal, y) for y in cal.years]
    firsts = [cal.date(m) for m in range(cal.n_months)]
    index = {st.name: i for i, st in enumerate(c.states)}

    def key(path: str) -> tuple[int, int]:
        state, _, name = path.partition(".")
        s = index[state]
        return s, next(k for k, tr in enumerate(c.states[s].transitions) if tr.name == name)

    payers: dict[tuple[int, int], tuple[Payer, ...]] = {}
    pb = b.participatiebudget
    participatie = None
    if pb is not None:
        fallback = b.revolving_fund.fallback_pot if b.revolving_fund else None
        lines = {c.paid_by for st in scenario.states.values() for c in st.costs}
        lines |= {t.paid_by for t in scenario.werkmatchers.values() if t.cost_per_fte_year is not None}
        lines |= {lv.paid_by for lv in scenario.levers.values() if lv.paid_by}
        pots = tuple(
            PotPlan(
                name,
                tuple(cents(pot.amount.at(d)) for d in jan1),
                cents(pot.unit_cost.value) if pot.unit_cost else None,
                pot.allow_negative,
                bool(pot.pays) or name == fallback or f"pot.{name}" in lines,
            )
            for name, pot in pb.pots.items()
        )
        wsw = pb.wsw
        participatie = ParticipatiePlan(
            grant=tuple(cents(pb.grant.at(d)) for d in jan1),
            wsw=tuple(cents(wsw.opening_amount.value * (1.0 - wsw.attrition_per_year.value) ** y) for y in range(len(jan1))),
            pots=pots,
        )
        for pot in pots:
            for path in pb.pots[pot.name].pays:
                payers[key(path)] = (Payer(pot.name, pot.unit_cost, False),)

    fund = None
    if b.revolving_fund is not None:
        f = b.revolving_fund
        cost = cents(f.unit_cost.value)
        chain = []
        if f.fallback_pot is not None:
            pot = pb.pots[f.fallback_pot]
            chain = [Payer(f.fallback_pot, cents(pot.unit_cost.value) if pot.unit_cost else cost, False)]
        targets, watched = set(), set()
        for path in f.pays:
            s, k = key(path)
            payers[(s, k)] = (Payer("revolving_fund", cost, True), *chain)
            to = c.states[s].transitions[k].to
            if to >= 0 and to != s:
                targets.add(to)
                watched |= {(to, j) for j in range(len(c.states[to].transitions))}
        counterfactual = key(f.counterfactual) if f.counterfactual else None
        exits = {(s, k) for s, k in watched if c.states[s].transitions[k].kind == "exit_work"}
        needed = exits | ({counterfactual} if counterfactual else set())
        hazards = {
            (s, k): np.array([[c.hazard_table(s, 0, p)[j, 0, k] for p in range(len(c.attributes.profiles))]
                              for j in range(len(c.segments))])
            for s, k in needed
        }  # fmt: skip
        fund = FundPlan(
            opening=cents(f.opening_balance.value),
            topup_share=f.topup_share.value if f.topup_share else 0.0,
            savings_share=f.savings_share.value if f.savings_share else 0.0,
            topup_cap=cents(f.topup_cap.value) if f.topup_cap is not None else None,
            unit_cost=cost,
            targets=frozenset(targets),
            watched=frozenset(watched),
            exits=frozenset(exits),
            counterfactual=counterfactual,
            hazards=hazards,
        )

    lks = None
    if b.lks is not None:
        lks = LksPlan(
            state=index[b.lks.state],
            minimum_wage=tuple(b.lks.minimum_wage_month.at(d) for d in firsts),
            hours_share=tuple(b.lks.hours_share.at(d) for d in firsts),
            rise_max=b.lks.loonwaarde_rise_max.value,
            cap=b.lks.loonwaarde_cap.value,
        )
    pot_columns = tuple(f"pot_{p}_{what}" for p in (pb.pots if pb else {}) for what in ("allocated", "spent", "starts"))
    programme_columns = tuple(f"programme_{p}_{what}" for p in b.programmes for what in ("budget", "spent", "carry_over"))
    i_deel = b.i_deel
    municipalities = tuple(
        MunicipalityPlan(
            name,
            tuple(cents(m.i_deel.grant.at(d)) for d in jan1),
            cents(m.i_deel.reserve_opening.value),
            cents(m.i_deel.reserve_floor.value) if m.i_deel.reserve_floor is not None else None,
            tuple(m.cost_key.at(d) for d in jan1),
        )
        for name, m in scenario.municipalities.items()
    )
    return BudgetPlan(
        columns=(*BASE_COLUMNS, *pot_columns, *programme_columns),
        calendar=cal,
        segments=c.segments,
        horizon=c.horizon,
        benefit_share=tuple(st.benefit_share if st.on_caseload else 0.0 for st in c.states),
        monthly_benefit=tuple(i_deel.monthly_benefit.at(d) for d in firsts),
        grant=tuple(cents(i_deel.grant.at(d)) for d in jan1) if i_deel.grant else (),
        reserve_opening=cents(i_deel.reserve_opening.value) if i_deel.reserve_opening else 0,
        reserve_floor=cents(i_deel.reserve_floor.value) if i_deel.reserve_floor is not None else None,
        lks=lks,
        participatiebudget=participatie,
        fund=fund,
        programmes=tuple(
            ProgrammePlan(name, tuple(cents(p.budget.at(d)) for d in jan1),
                          tuple(cents(p.planned_spend.at(d)) for d in jan1), p.carry_over)
            for name, p in b.programmes.items()
        ),  # fmt: skip
        payers=payers,
        state_costs=tuple(
            StateCostPlan(index[name], cost.per_month.value, cost.after_months.value if cost.after_months else 0.0,
                          cost.paid_by)
            for name, st in scenario.states.items()
            for cost in st.costs
        ),  # fmt: skip
        staff_costs=staff_costs(scenario, c),
        municipalities=municipalities,
    )


def staff_costs(scenario: Scenario, c) -> tuple[StaffCostPlan, ...]:
    """Each team's cost per month: FTE (integrated over the month's calendar segments) x cost per FTE / 12.

    The FTE a lever with ``paid_by`` adds (the FTE with all levers minus the FTE without that lever) is
    paid by the lever's line; the rest by the team's.
    """
    levers = lever_windows(scenario)
    edges = [*c.segments, c.horizon]
    out = []
    for name, team in scenario.werkmatchers.items():
        if team.cost_per_fte_year is None:
            continue
        target = f"werkmatchers.{name}.fte"
        paid = [lv for lv in levers if lv.target == target and lv.paid_by]
        total = [levered(levers, target, team.fte.value, t) for t in c.segments]
        shares = {lv.paid_by: [0.0] * len(total) for lv in paid}
        for lv in paid:
            without = [levered(tuple(x for x in levers if x is not lv), target, team.fte.value, t) for t in c.segments]
            shares[lv.paid_by] = [s + a - b for s, a, b in zip(shares[lv.paid_by], total, without)]
        own = [a - sum(s[j] for s in shares.values()) for j, a in enumerate(total)]
        rate = team.cost_per_fte_year.value / 12.0
        for line, fte in [(team.paid_by, own), *shares.items()]:
            out.append(StaffCostPlan(name, line, tuple(rate * _month_integral(fte, edges, m) for m in range(c.n_months))))
    return tuple(out)


def _month_integral(values: list[float], edges: list[float], month: int) -> float:
    """Integral over [month, month + 1) of a step function with ``values[j]`` on [edges[j], edges[j+1])."""
    total = 0.0
    for j, v in enumerate(values):
        lo, hi = max(edges[j], month), min(edges[j + 1], month + 1)
        if hi > lo:
            total += v * (hi - lo)
    return total


def _jan1(cal: Calendar, year: int) -> dt.date:
    return dt.date(year, 1, 1)
