"""Outputs by focus group and the year-end duration structure of the caseload."""

from __future__ import annotations

import numpy as np

from sim import compile_scenario, simulate
from sim.io.tables import annual_table, group_table

from .conftest import scenario_from_text

GROUPS = """
name = "groups"
start = 2020-01-01
years = 4
[attributes.status]
levels = { values = { statushouder = 0.3, other = 0.7 }, source = "assumption" }
[attributes.age_band]
levels = { values = { youth = 0.2, adult = 0.8 }, source = "assumption" }
[inflow]
rate = { value = 60, source = "assumption" }
[intake]
mean_months = { value = 0, source = "assumption" }
shares = { values = { a = 1.0 }, source = "assumption" }
[states.a]
label = "on benefit"
initial = { value = 1000, source = "assumption" }
initial_duration_months = { value = 30, source = "assumption" }
[states.a.transitions.work]
to = "out"
kind = "exit_work"
movement = "uitstroom"
rate = { value = 0.03, source = "assumption" }
attribute_multipliers = { values = { "status.statushouder" = 0.4 }, source = "assumption" }
[states.a.transitions.other]
to = "out"
kind = "exit_other"
rate = { value = 0.01, source = "assumption" }
"""


def test_statushouders_lower_exit_hazard_comes_through_in_their_exits():
    """Exits to work per household-year on the caseload: 12 x 0.03 = 0.36 for others, 0.4 of it (0.144)
    for statushouders. With ~1,000-3,000 household-years per group and replication the rates are
    estimated to a few per cent, so the ratio must lie within 0.40 +- 0.05 (about 4 SE)."""
    c = compile_scenario(scenario_from_text(GROUPS))
    results = [simulate(c, seed=3, replication=r) for r in range(8)]
    groups = group_table(c, results)
    status = groups[groups.attribute == "status"].groupby("level")[["exits_work", "caseload_mean"]].sum()
    rate = status["exits_work"] / status["caseload_mean"]
    assert abs(rate["other"] - 0.36) < 0.02, rate
    assert abs(rate["statushouder"] / rate["other"] - 0.4) < 0.05, rate


def test_every_attribute_adds_up_to_the_whole_caseload():
    c = compile_scenario(scenario_from_text(GROUPS))
    results = [simulate(c, seed=5, replication=r) for r in range(2)]
    groups, annual = group_table(c, results), annual_table(c, results)
    for attribute in ("status", "age_band"):
        per = groups[groups.attribute == attribute].groupby(["replication", "year"])[
            ["caseload_end", "inflow", "exits_work", "exits_other"]].sum()  # fmt: skip
        whole = annual.set_index(["replication", "year"])[["caseload_end", "inflow", "exits_work", "exits_other"]]
        assert (per == whole).all().all(), (per - whole)
        person_months = groups[groups.attribute == attribute].groupby(["replication", "year"])["caseload_mean"].sum()
        assert np.allclose(person_months, annual.set_index(["replication", "year"])["caseload_mean"])


def test_duration_structure_at_the_year_end():
    """No inflow, no exits: the initial households' spells only age. Initial durations are exponential with
    mean 30 months, so at the end of year y the share longer than 36 months is exp(-(36 - 12 y) / 30)
    (1 when 12 y >= 36). 1,000 households: binomial SE ~1.6 points; allow 5 points."""
    text = GROUPS.replace('rate = { value = 60, source = "assumption" }', 'rate = { value = 0, source = "assumption" }')
    text = text.replace("value = 0.03, source", "value = 0.0, source").replace("value = 0.01, source", "value = 0.0, source")
    c = compile_scenario(scenario_from_text(text))
    annual = annual_table(c, [simulate(c, seed=2, replication=0)])
    share = (annual["caseload_over_3y"] / annual["caseload_end"]).to_numpy()
    expected = [min(1.0, np.exp(-(36 - 12 * (y + 1)) / 30)) for y in range(4)]
    assert np.allclose(share, expected, atol=0.05), (share, expected)
    assert (annual["caseload_over_1y"] >= annual["caseload_over_3y"]).all()
    assert (annual["caseload_over_3y"] >= annual["caseload_over_5y"]).all()
