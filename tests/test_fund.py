"""The Revolverend Fonds as an instrument: incentives that raise exits, savings measured, refills from savings.

Werken aan Werk §2.2.2 and §6.2: the fund pays incidental, short incentives in arrangement 1 that must
lead to extra outflow and savings on benefits, financed preferably from realised savings; when I-deel
deficits arise, arrangement 1 falls back on the Participatiebudget.
"""

from __future__ import annotations

import numpy as np

from sim import compile_scenario, simulate
from sim.analysis.compare import paired_interval
from sim.model.records import FLOW_INDEX

from .conftest import scenario_from_text

FUND = """
name = "fund"
start = 2020-01-01
years = 3
[inflow]
rate = {{ value = 60, source = "assumption" }}
[intake]
mean_months = {{ value = 0, source = "assumption" }}
shares = {{ values = {{ a = 1.0 }}, source = "assumption" }}
[states.a]
label = "arrangement 1"
initial = {{ value = 1500, source = "assumption" }}
initial_duration_months = {{ value = 9, source = "assumption" }}
[states.a.transitions.work]
to = "out"
kind = "exit_work"
movement = "uitstroom"
rate = {{ value = 0.03, source = "assumption" }}
[states.a.transitions.incentive]
to = "boost"
kind = "transfer"
rate = {{ value = {incentive}, source = "assumption" }}
[states.a.transitions.other]
to = "out"
kind = "exit_other"
rate = {{ value = 0.01, source = "assumption" }}
[states.boost]
label = "arrangement 1 with an incentive (work cheque, vocational training, job coaching)"
initial = {{ value = 0, source = "assumption" }}
[states.boost.transitions.work]
to = "out"
kind = "exit_work"
movement = "uitstroom"
rate = {{ value = 0.09, source = "assumption: three times the regular exit hazard" }}
[states.boost.transitions.ends]
to = "a"
kind = "transfer"
rate = {{ value = 0.33, source = "assumption: an incentive lasts about three months" }}
[states.boost.transitions.other]
to = "out"
kind = "exit_other"
rate = {{ value = 0.01, source = "assumption" }}
[budget.i_deel]
grant = {{ values = {{ 2020-01-01 = {grant} }}, source = "assumption" }}
monthly_benefit = {{ values = {{ 2020-01-01 = 1300 }}, source = "assumption" }}
reserve_opening = {{ value = 1_000_000, source = "assumption" }}
[budget.participatiebudget]
grant = {{ values = {{ 2020-01-01 = 1_000_000 }}, source = "assumption" }}
wsw = {{ opening_amount = {{ value = 0, source = "assumption" }}, attrition_per_year = {{ value = 0, source = "assumption" }} }}
[budget.participatiebudget.pots.arr1]
amount = {{ values = {{ 2020-01-01 = {fallback} }}, source = "assumption" }}
unit_cost = {{ value = 1000, source = "assumption" }}
[budget.revolving_fund]
opening_balance = {{ value = 200_000, source = "assumption" }}
savings_share = {{ value = 1.0, source = "assumption" }}
pays = ["a.incentive"]
unit_cost = {{ value = 1000, source = "assumption" }}
fallback_pot = "arr1"
counterfactual = "a.work"
"""


def _case(incentive: float = 0.05, grant: int = 30_000_000, fallback: int = 300_000):
    text = FUND.format(incentive=incentive, grant=grant, fallback=fallback)
    c = compile_scenario(scenario_from_text(text))
    return c, [simulate(c, seed=11, replication=r) for r in range(12)]


def test_incentives_raise_arrangement_1_exits_to_work():
    """Paired (common random numbers) against the same households without incentives: more exits to work,
    with a 95% interval that excludes zero."""
    _, with_fund = _case()
    _, without = _case(incentive=0.0)
    f = FLOW_INDEX["exits_work"]
    a = np.array([r.flows[:, :, f].sum() for r in with_fund], dtype=float)
    b = np.array([r.flows[:, :, f].sum() for r in without], dtype=float)
    diff, low, high = paired_interval(a, b)
    assert low > 0, (diff, low, high)


def test_the_fund_is_refilled_only_from_measured_savings():
    c, runs = _case()
    col = {name: i for i, name in enumerate(c.budget.columns)}
    for r in runs:
        t = r.budget
        assert (t[:, col["fund_topup"]] == 0).all()  # no I-deel surplus goes to the fund in this case
        assert (t[:, col["revolving_fund_refill"]] == t[:, col["revolving_fund_savings"]]).all()  # share 1.0
        balance = 200_000_00
        for y in range(len(t)):
            balance += t[y, col["revolving_fund_refill"]] - t[y, col["revolving_fund_spent"]]
            assert t[y, col["revolving_fund_balance"]] == balance
    savings = sum(int(r.budget[:, col["revolving_fund_savings"]].sum()) for r in runs)
    assert savings > 0  # incentivised exits came sooner than the same households' counterfactual exits


def test_an_i_deel_deficit_moves_arrangement_1_to_the_participatiebudget():
    """A grant far below the benefits: every year ends in deficit, so from the second year the fund may not
    pay and the Participatiebudget pot does, until it is empty; starts go on, not all are refused."""
    c, runs = _case(grant=1_000_000)
    col = {name: i for i, name in enumerate(c.budget.columns)}
    refused = FLOW_INDEX["refused"]
    for r in runs:
        t = r.budget
        assert (t[:, col["i_deel_result"]] < 0).all()
        assert t[1:, col["revolving_fund_spent"]].sum() == 0  # after a deficit year the fund pays nothing
        assert (t[1:, col["pot_arr1_spent"]] > 0).all()  # the fallback pot does
        starts = t[1:, col["pot_arr1_starts"]].sum()
        assert 0 < r.flows[12:, :, refused].sum() and starts > 0
