"""The bundled what-if scenarios of issue 4: valid, sourced, listed, and their levers do what they say."""

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from sim import compile_scenario, load_scenario, simulate

ROOT = Path(__file__).parents[1]
BUNDLED = ["corona_2020", "werkbeweging", "caseload_50", "budget_cut"]
SHORT = {"start": "2019-01-01", "years": 3}  # covers every lever window (2019-07 to 2021-04), ~1 s a run


@pytest.fixture(scope="module")
def baseline_flows():
    return simulate(compile_scenario(load_scenario("utrecht_baseline", overrides=SHORT)), seed=1, replication=0).flows


@pytest.mark.parametrize("name", BUNDLED)
def test_validates_runs_and_differs_from_the_baseline(name, baseline_flows):
    # (Sources and a description are required by the schema: asserting them here could not fail.)
    scenario = load_scenario(name, overrides=SHORT)
    # every lever acts inside the simulated window: one that starts after the horizon or ends before the
    # start would silently do nothing
    start, end = scenario.start, dt.date(scenario.start.year + scenario.years, scenario.start.month, 1)
    inherited = set(load_scenario("utrecht_baseline").levers)  # the baseline's own levers (Impulslijnen 2017-2018)
    for lname, lever in scenario.levers.items():
        if lname not in inherited:
            assert lever.start < end and (lever.end is None or lever.end > start), lname
    result = simulate(compile_scenario(scenario), seed=1, replication=0)
    assert result.stock.shape[0] == 36
    # the what-if changes what happens: with the same seed (common random numbers) the flows differ from
    # the baseline's; a scenario whose changes did not reach the engine would reproduce them exactly
    assert not np.array_equal(result.flows, baseline_flows)


def test_readme_lists_every_bundled_scenario():
    text = (ROOT / "scenarios" / "README.md").read_text()
    for path in (ROOT / "scenarios").glob("*.toml"):
        assert f"`{path.stem}`" in text, f"{path.stem} missing from scenarios/README.md"


def test_werkbeweging_steps_team_opstap_from_q3_2019_to_2022():
    c = compile_scenario(load_scenario("werkbeweging", overrides={"start": "2019-01-01", "years": 4}))
    team = [t.name for t in c.teams].index("opstap")
    before, during, after = (c.segment(m) for m in (5.5, 6.5, 36.5))
    assert c.teams[team].slots[before] == 12 * 280
    assert c.teams[team].slots[during] == 27 * 125  # +15 FTE, norm 125 (001_192052d875f1edab.txt:374-376)
    assert c.teams[team].contacts[during] == pytest.approx(40 / 125)
    assert c.teams[team].slots[after] == 12 * 280


def test_corona_inflow_follows_the_ww_series():
    """The corona scenario's new applications follow the observed WW outflow into bijstand (2019: 175, from the
    first lockdown 2020: 270) with the calibrated elasticity, times one hand lever for job loss without WW.
    The reported +23.4% (all new spells) is checked in tests/test_utrecht_fidelity.py."""
    s = load_scenario("corona_2020", overrides=SHORT)
    c = compile_scenario(s)
    rate = dict(c.inflow)
    beta = s.inflow.covariates["ww"].elasticity.value
    before, during = rate[0.0], [r for t, r in c.inflow if 16.0 <= t < 18.0][0]  # 2019-01 and 2020-05
    factor = s.levers["job_loss_without_ww"].multiply
    assert during / before == pytest.approx((270 / 175) ** beta * factor * 0.95 / 1.15, rel=1e-6)  # seasonality May / Jan
    assert not [name for name in s.levers if name.startswith("inflow_")]  # no hand-set quarterly inflow levers


def test_corona_halves_productivity_in_lockdown_1():
    c = compile_scenario(load_scenario("corona_2020", overrides=SHORT))
    for team in range(len(c.teams)):
        normal, lockdown = c.teams[team].contacts[c.segment(2.0)], c.teams[team].contacts[c.segment(15.0)]
        assert lockdown == pytest.approx(0.5 * normal)


def test_budget_cut_refuses_social_enterprise_starts_from_2021():
    from sim.model.records import FLOW_INDEX

    c = compile_scenario(load_scenario("budget_cut", overrides=SHORT))
    refused = simulate(c, seed=1, replication=0).flows[:, c.index("arr3"), FLOW_INDEX["refused"]]
    assert refused[:24].sum() == 0  # 2019-2020: EUR 0.6M covers every start
    assert refused[24:].sum() > 0  # 2021: EUR 0.1M does not (~300 starts x EUR 600 wanted)
