"""Hand-computed budget cases: exact amounts in cents, exact ledger logs (SimPy's env/log style)."""

from __future__ import annotations

import numpy as np
import pytest

from sim import compile_scenario
from sim.engines.simpy_engine import Model
from sim.model.records import FLOW_INDEX
from sim.model.streams import Stream

from .conftest import scenario_from

HEAD = """
name = "budget case"
start = 2015-01-01
years = {years}
[inflow]
rate = {{ value = 0, source = "assumption" }}
[intake]
mean_months = {{ value = 0.5, source = "assumption" }}
shares = {{ values = {{ a = 1.0 }}, source = "assumption" }}
"""


def run(tmp_path, text: str, years: int = 1, seed: int = 1, log: bool = False):
    scenario = scenario_from(tmp_path, HEAD.format(years=years) + text)
    compiled = compile_scenario(scenario)
    model = Model(compiled, seed, 0, log_events=log)
    result = model.run()
    table = dict(zip(compiled.budget.columns, result.budget.T))
    return model, result, table


def test_one_client_one_year_lks(tmp_path):
    """One LKS client all year: (1 - 0.6) x WML x hours share, with the hours norm lowered on 1 July.

    Jan-Jun: 0.4 x 1,500 x 0.8 = 480.00 a month; Jul-Dec: 0.4 x 1,500 x 0.5 = 300.00 a month;
    year: 6 x 480 + 6 x 300 = 4,680.00 EUR = 468,000 cents. The I-deel pays it: 10,000 - 4,680 = 5,320.
    """
    _, _, t = run(tmp_path, LKS_CASE.format(rise=0.0))
    assert t["lks_cost"].tolist() == [468_000]
    assert t["benefit_cost"].tolist() == [0]
    assert t["i_deel_result"].tolist() == [1_000_000 - 468_000]
    assert t["lks_clients_end"].tolist() == [1]


def test_lks_loonwaarde_reassessed_yearly(tmp_path):
    """Year 2 uses the reassessed loonwaarde 0.6 + 0.2 u (u: the ledger's first draw), capped at 0.7."""
    _, _, t = run(tmp_path, LKS_CASE.format(rise=0.2), years=2)
    gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence(1, spawn_key=(0, Stream.BUDGET))))
    lw = min(0.7, 0.6 + 0.2 * gen.random(1)[0])
    assert t["lks_cost"][0] == 468_000
    assert t["lks_cost"][1] == 12 * round((1 - lw) * 1500 * 0.5 * 100)  # hours share 0.5 all of 2016
    assert lw > 0.6  # the loonwaarde rose, so the subsidy fell
    assert t["lks_cost"][1] < 12 * 30_000


LKS_CASE = """
[states.a]
label = "on benefit"
initial = {{ value = 0, source = "assumption" }}
[states.lks]
label = "LKS job"
on_caseload = false
initial = {{ value = 1, source = "assumption" }}
loonwaarde = {{ low = 0.6, high = 0.6, source = "assumption" }}
[budget.i_deel]
grant = {{ values = {{ 2015-01-01 = 10000 }}, source = "assumption" }}
monthly_benefit = {{ values = {{ 2015-01-01 = 1000 }}, source = "assumption" }}
reserve_opening = {{ value = 0, source = "assumption" }}
[budget.lks]
state = "lks"
minimum_wage_month = {{ values = {{ 2015-01-01 = 1500 }}, source = "assumption" }}
hours_share = {{ values = {{ 2015-01-01 = 0.8, 2015-07-01 = 0.5 }}, source = "assumption" }}
loonwaarde_rise_max = {{ value = {rise}, source = "assumption" }}
loonwaarde_cap = {{ value = 0.7, source = "assumption" }}
"""

THREE_CLIENTS = """
[states.a]
label = "full benefit"
initial = { value = 2, source = "assumption" }
initial_duration_months = { value = 12, source = "assumption" }
[states.d]
label = "part-time with top-up"
initial = { value = 1, source = "assumption" }
initial_duration_months = { value = 12, source = "assumption" }
benefit_share = { value = 0.4, source = "assumption" }
[budget.i_deel]
grant = { values = { 2015-01-01 = 40000, 2016-01-01 = 20000 }, source = "assumption" }
monthly_benefit = { values = { 2015-01-01 = 1000, 2015-07-01 = 1100 }, source = "assumption" }
reserve_opening = { value = 1000, source = "assumption" }
reserve_floor = { value = 0, source = "assumption" }
[budget.revolving_fund]
opening_balance = { value = 0, source = "assumption" }
topup_share = { value = 0.5, source = "assumption" }
pays = ["a.never"]
unit_cost = { value = 1, source = "assumption" }
[states.a.transitions.never]
to = "a"
kind = "movement"
movement = "scholing"
rate = { value = 0, source = "assumption" }
"""


def test_three_client_benefit_case(tmp_path):
    """Two full benefits and one 40% top-up, the benefit raised from 1,000 to 1,100 on 1 July 2015.

    2015: 6 x (2 + 0.4) x 1,000 + 6 x (2 + 0.4) x 1,100 = 14,400 + 15,840 = 30,240.00;
          result 40,000 - 30,240 = 9,760; half of it to the fund (4,880);
          reserve 1,000 + 9,760 - 4,880 = 5,880.
    2016: 12 x 2.4 x 1,100 = 31,680.00; result 20,000 - 31,680 = -11,680;
          reserve 5,880 - 11,680 = -5,800 is below the floor 0: reserve 0, uncovered 5,800.
    """
    _, _, t = run(tmp_path, THREE_CLIENTS, years=2)
    assert t["benefit_cost"].tolist() == [3_024_000, 3_168_000]
    assert t["i_deel_result"].tolist() == [976_000, -1_168_000]
    assert t["fund_topup"].tolist() == [488_000, 0]
    assert t["revolving_fund_balance"].tolist() == [488_000, 488_000]
    assert t["reserve_balance"].tolist() == [588_000, 0]
    assert t["reserve_uncovered"].tolist() == [0, 580_000]


FUND_CASE = """
[states.a]
label = "arrangement 1"
initial = {{ value = 6, source = "assumption" }}
initial_duration_months = {{ value = 12, source = "assumption" }}
[states.a.transitions.incentive]
to = "inc"
kind = "transfer"
rate = {{ value = 1.0, source = "assumption" }}
[states.a.transitions.work]
to = "employed"
kind = "exit_work"
rate = {{ value = 0.1, source = "assumption" }}
[states.inc]
label = "arrangement 1 with an incentive"
initial = {{ value = 0, source = "assumption" }}
[states.inc.transitions.work]
to = "employed"
kind = "exit_work"
rate = {{ value = 0.5, source = "assumption" }}
[states.inc.transitions.back]
to = "a"
kind = "transfer"
rate = {{ value = 0.2, source = "assumption" }}
[states.employed]
label = "employed"
on_caseload = false
initial = {{ value = 0, source = "assumption" }}
[budget.i_deel]
grant = {{ values = {{ 2015-01-01 = 1000000 }}, source = "assumption" }}
monthly_benefit = {{ values = {{ 2015-01-01 = 1000 }}, source = "assumption" }}
reserve_opening = {{ value = 0, source = "assumption" }}
[budget.participatiebudget]
grant = {{ values = {{ 2015-01-01 = 5000 }}, source = "assumption" }}
wsw = {{ opening_amount = {{ value = 0, source = "assumption" }}, attrition_per_year = {{ value = 0, source = "assumption" }} }}
[budget.participatiebudget.pots.arr1]
amount = {{ values = {{ 2015-01-01 = {pot} }}, source = "assumption" }}
unit_cost = {{ value = 700, source = "assumption" }}
[budget.revolving_fund]
opening_balance = {{ value = 2500, source = "assumption" }}
topup_share = {{ value = 0.5, source = "assumption" }}
pays = ["a.incentive"]
unit_cost = {{ value = 1000, source = "assumption" }}
fallback_pot = "arr1"
counterfactual = "a.work"
"""


def test_fund_empties_mid_year_and_stops_financing(tmp_path):
    """Fund 2,500 at 1,000 an incentive: two are financed, then the pot (1,500 at 700) pays two, then refusals.

    The expected ledger log is built from the engine's event log: every completed
    ``incentive`` transition is one payment at the same instant, every refused one a refusal.
    """
    model, result, t = run(tmp_path, FUND_CASE.format(pot=1500), log=True)
    starts = [e.time for e in model.log if e.transition == "incentive" and e.kind == "transfer"]
    refusals = [e.time for e in model.log if e.kind == "refused"]
    assert len(starts) == 4 and refusals, "the case must exhaust both purses within the year"
    fund, pot = 250_000, 150_000
    expected = [(0.0, "allocate", "arr1", 150_000, 150_000)]
    for time in sorted(starts + refusals):
        if time in refusals:
            expected.append((round(time, 9), "refuse", "revolving_fund", 0, fund))
        elif fund >= 100_000:
            fund -= 100_000
            expected.append((round(time, 9), "pay", "revolving_fund", 100_000, fund))
        else:
            pot -= 70_000
            expected.append((round(time, 9), "pay", "arr1", 70_000, pot))
    money = [entry for entry in model.ledger.log if entry[1] in ("allocate", "pay", "refuse")]
    assert money == expected
    assert max(starts) < min(refusals)  # once both purses are empty nothing is financed any more
    assert t["revolving_fund_financed"].tolist() == [2]
    assert t["revolving_fund_spent"].tolist() == [200_000]
    assert t["pot_arr1_spent"].tolist() == [140_000]
    assert t["pot_arr1_starts"].tolist() == [2]
    assert int(result.flows[:, 1, FLOW_INDEX["refused"]].sum()) == len(refusals)


def test_fund_savings_measured_with_the_same_threshold(tmp_path):
    """A financed client who exits from ``inc`` after ``d`` months saved ``d x (0.5 / 0.1 - 1)`` benefit months."""
    text = FUND_CASE.format(pot=0).replace("opening_balance = { value = 2500", "opening_balance = { value = 20000")
    model, _, t = run(tmp_path, text, log=True)
    financed = {}
    expected = 0
    for e in model.log:
        if e.transition == "incentive" and e.kind == "transfer":
            financed[e.client] = e.time
        elif e.state == "inc" and e.transition == "work" and e.client in financed:
            months = min((e.time - financed.pop(e.client)) * (0.5 / 0.1 - 1.0), 12.0 - e.time)
            expected += round(months * 1000 * 100)
        elif e.state == "inc":
            financed.pop(e.client, None)
    assert expected > 0, "the case must have a financed exit to work"
    assert t["revolving_fund_savings"].tolist() == [expected]


def test_fund_stops_after_an_i_deel_deficit(tmp_path):
    """After a year in deficit the fund pays nothing, even with money in it (002...:903)."""
    text = FUND_CASE.format(pot=0).replace("2015-01-01 = 1000000", "2015-01-01 = 0").replace(
        "opening_balance = { value = 2500", "opening_balance = { value = 99000"
    )
    _, _, t = run(tmp_path, text, years=2)
    assert t["i_deel_result"][0] < 0
    assert t["revolving_fund_financed"][0] > 0
    assert t["revolving_fund_financed"][1] == 0


@pytest.mark.parametrize("bad, words", [
    ('pays = ["a.nope"]', "budget.revolving_fund.pays: unknown transition 'a.nope'"),
    ('fallback_pot = "arr9"', "budget.revolving_fund.fallback_pot: unknown pot 'arr9'"),
])  # fmt: skip
def test_budget_references_are_checked(tmp_path, bad, words):
    from sim import ScenarioError

    key = bad.split(" = ")[0]
    text = "\n".join(bad if line.startswith(key + " =") else line for line in FUND_CASE.format(pot=0).splitlines())
    with pytest.raises(ScenarioError, match=words.replace(".", r"\.")):  # refused when the scenario loads
        scenario_from(tmp_path, HEAD.format(years=1) + text)
