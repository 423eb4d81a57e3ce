"""The ``[budget]`` section of a scenario: amounts in euros, each with its source.

Yearly amounts are :class:`AmountValues` keyed by 1 January of the year they
start to hold (the value holds until the next date); every amount is at most
``MAX_EUROS`` so the books, kept in integer cents, cannot overflow.
Transitions are named ``"<state>.<transition>"``. Cross-references to states
and transitions are checked by :func:`budget_problems`, which scenario
validation runs (so ``validate`` rejects what ``run`` would).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from sim.model.limits import MAX_POTS
from sim.model.values import AmountValue, AmountValues, DatedValues, Flag, ShareValue, SignedAmountValue, Strict

Paid = Field(default_factory=list, max_length=MAX_POTS)


class IDeel(Strict):
    """I-deel / BUIG: the national grant that pays benefits and loonkostensubsidies.

    In a region (several ``[municipalities]``) each municipality has its own grant and reserve
    (``[municipalities.<name>.i_deel]``); this section then holds only the monthly benefit.
    """

    grant: AmountValues | None = None  # EUR per year
    monthly_benefit: AmountValues  # EUR per household-month at benefit_share 1
    reserve_opening: AmountValue | None = None  # reserve Werk en Inkomen at the start, EUR
    reserve_floor: SignedAmountValue | None = None  # EUR; a deficit below it is reported as uncovered

    @model_validator(mode="after")
    def _floor(self) -> IDeel:
        opening = self.reserve_opening.value if self.reserve_opening else 0.0
        if self.reserve_floor is not None and self.reserve_floor.value > opening:
            raise ValueError("reserve_floor must not exceed reserve_opening")
        return self


class MunicipalIDeel(Strict):
    """One municipality's own I-deel grant and reserve, in a region."""

    grant: AmountValues  # EUR per year
    reserve_opening: AmountValue
    reserve_floor: SignedAmountValue | None = None

    @model_validator(mode="after")
    def _floor(self) -> MunicipalIDeel:
        if self.reserve_floor is not None and self.reserve_floor.value > self.reserve_opening.value:
            raise ValueError("reserve_floor must not exceed reserve_opening")
        return self


class Lks(Strict):
    """Loonkostensubsidie for clients in ``state``: (1 - loonwaarde) x WML x hours share a month."""

    state: str
    minimum_wage_month: AmountValues  # statutory minimum wage (WML), EUR per month full-time
    hours_share: DatedValues  # paid hours / full-time hours (the hours norm)
    loonwaarde_rise_max: ShareValue  # yearly reassessment: loonwaarde += U(0, max)
    loonwaarde_cap: ShareValue  # loonwaarde never exceeds it; at 1.0 the subsidy ends

    @model_validator(mode="after")
    def _shares(self) -> Lks:
        if any(v > 1 for v in self.hours_share.values.values()):
            raise ValueError("hours_share values must be <= 1")
        return self


class Wsw(Strict):
    """The sitting Wsw population's share of the Participatiebudget, shrinking by attrition."""

    opening_amount: AmountValue  # EUR in the first simulated year
    attrition_per_year: ShareValue


class Pot(Strict):
    """Participatiebudget money earmarked for one arrangement.

    A pot pays ``unit_cost`` for every start of the transitions in ``pays``; when
    it cannot, the start is refused (flow ``refused``). A pot that pays for no
    modelled transition is booked as spent in full at the year end.
    """

    amount: AmountValues  # EUR per year; unspent money does not carry over
    pays: list[str] = Paid
    unit_cost: AmountValue | None = None  # EUR per start
    allow_negative: Flag = False

    @model_validator(mode="after")
    def _cost(self) -> Pot:
        if self.pays and self.unit_cost is None:
            raise ValueError("a pot that pays transitions needs unit_cost")
        return self


class Participatiebudget(Strict):
    grant: AmountValues  # EUR per year
    wsw: Wsw
    pots: dict[str, Pot] = Field(default_factory=dict, max_length=MAX_POTS)


class RevolvingFund(Strict):
    """Revolverend Fonds: pays short incentives in arrangement 1, refilled from I-deel surpluses or from the
    benefit savings its incentives are measured to bring (or both)."""

    opening_balance: AmountValue
    topup_share: ShareValue | None = None  # share of a yearly I-deel surplus moved from the reserve to the fund
    topup_cap: AmountValue | None = None  # EUR per year
    savings_share: ShareValue | None = None  # share of the year's measured savings returned to the fund
    pays: list[str] = Field(min_length=1, max_length=MAX_POTS)
    unit_cost: AmountValue  # EUR per financed incentive
    fallback_pot: str | None = None  # Participatiebudget pot used when the fund cannot pay
    counterfactual: str | None = None  # "<state>.<transition>": the exit hazard without the incentive


class Programme(Strict):
    """A programme budget (e.g. Werkbeweging) with carry-over of underspend."""

    label: str = ""
    budget: AmountValues  # EUR added per year
    planned_spend: AmountValues  # EUR the programme means to spend per year (extra FTE etc.)
    carry_over: Flag = True


class Budget(Strict):
    i_deel: IDeel
    lks: Lks | None = None
    participatiebudget: Participatiebudget | None = None
    revolving_fund: RevolvingFund | None = None
    programmes: dict[str, Programme] = Field(default_factory=dict, max_length=MAX_POTS)


def budget_problems(scenario) -> list[str]:
    """Cross-references the budget section makes into the states; each message starts with its key path."""
    b = scenario.budget
    out: list[str] = []
    if b is None:
        return out

    def transition(path: str, where: str) -> None:
        state, _, name = path.partition(".")
        if state not in scenario.states or name not in scenario.states[state].transitions:
            out.append(f"{where}: unknown transition {path!r} (use '<state>.<transition>')")

    if b.lks is not None and b.lks.state not in scenario.states:
        out.append(f"budget.lks.state: unknown state {b.lks.state!r}")
    paid: dict[str, str] = {}
    pb = b.participatiebudget
    for name, pot in (pb.pots.items() if pb else []):
        for path in pot.pays:
            where = f"budget.participatiebudget.pots.{name}.pays"
            transition(path, where)
            if path in paid:
                out.append(f"{where}: {path!r} is already paid by {paid[path]}")
            paid[path] = f"pot {name}"
    fund = b.revolving_fund
    if fund is not None:
        for path in fund.pays:
            transition(path, "budget.revolving_fund.pays")
            if path in paid:
                out.append(f"budget.revolving_fund.pays: {path!r} is already paid by {paid[path]}")
        if fund.fallback_pot is not None and (pb is None or fund.fallback_pot not in pb.pots):
            out.append(f"budget.revolving_fund.fallback_pot: unknown pot {fund.fallback_pot!r}")
        if fund.counterfactual is not None:
            transition(fund.counterfactual, "budget.revolving_fund.counterfactual")
    return out
