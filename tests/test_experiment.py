"""The simulated Weten-wat-werkt trial: estimators, power formulas, the embedded randomisation.

Known-answer tests carry the closed form in a comment; the simulation tests use
a few replications and check structure (sizes, who is randomised) plus one
test that the design has teeth: an arm with a 20-fold part-time hazard must be
detected, so an arm that silently did nothing would fail it.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import compile_scenario, load_scenario
from sim.analysis.experiment import checks, load_design, run_trials
from sim.analysis.experiment.analysis import diff_in_proportions, lpm_hc2, mde, p_value, power_at
from sim.analysis.experiment.model import TrialModel, compile_for_trial
from sim.analysis.experiment.trial import candidate_share, trial_scenario
from sim.cli import main
from sim.model.compiled import GUIDED, UNGUIDED
from tests.conftest import ROOT

BASELINE = ROOT / "scenarios" / "utrecht_baseline.toml"


@pytest.fixture(scope="module")
def design():
    return load_design("weten-wat-werkt")


@pytest.fixture(scope="module")
def scenario(design):
    return trial_scenario(load_scenario(BASELINE), design)


def test_lpm_hc2_equals_difference_in_proportions():
    rng = np.random.default_rng(3)
    arm = rng.integers(0, 4, 700)
    y = (rng.random(700) < 0.2 + 0.05 * arm).astype(float)
    coef, se = lpm_hc2(y, arm, 4, control=0)
    for a in (1, 2, 3):
        est, se_diff = diff_in_proportions(y, arm, a, 0)
        # HC2 for a saturated dummy regression is p(1-p)/(n-1) per group (exact identity)
        assert coef[a] == pytest.approx(est, abs=1e-12)
        assert se[a] == pytest.approx(se_diff, rel=1e-9)


def test_mde_and_power_known_answers():
    # textbook (pooled) MDE: (1.95996 + 0.84162) * sqrt(2 * 0.25 / 175) = 0.14975; unpooled is a bit smaller at p=0.5
    assert 0.140 < mde(0.5, 175) < 0.14975
    # unpooled fixed point for p0 = 0.2: d = 2.8016 * sqrt((0.16 + (0.2 + d)(0.8 - d)) / 175) -> d = 0.1308
    assert mde(0.2, 175) == pytest.approx(0.1308, abs=0.0005)
    assert power_at(mde(0.2, 175), 0.2, 175) == pytest.approx(0.80, abs=1e-6)
    assert p_value(1.96, 1.0) == pytest.approx(0.05, abs=1e-3)
    assert p_value(0.0, 0.0) == 1.0


def test_design_file_has_sources_and_the_trial_facts(design):
    assert (design.randomised, design.analysed, design.months) == (752, 710, 16.0)
    assert [a.name for a in design.arms] == ["control", "exemption", "intensive", "earn_more"]
    assert all("source" not in k and v for k, v in design.sources.items())


def test_calendar_breaks_keep_the_scenario_meaning(scenario):
    c = compile_scenario(scenario)
    split = compile_scenario(scenario, breaks=(41.0, 57.0))
    assert {41.0, 57.0} <= set(split.segments)
    for t in (0.0, 41.0, 50.0, 57.5):
        j, k = c.segment(t), split.segment(t)
        for mode in (GUIDED, UNGUIDED):
            assert (split.hazard_table(3, mode, 0)[k] == c.hazard_table(3, mode, 0)[j]).all()
        assert [team.slots[k] for team in split.teams] == [team.slots[j] for team in c.teams]


def test_randomisation_inside_one_replication(design, scenario):
    model = TrialModel(compile_for_trial(scenario, design), design, candidate_share(scenario, design), seed=5, replication=0)
    model.run()
    data = model.outcomes()
    assert len(model.volunteers) == 752 and len(data["arm"]) == 710
    assert np.bincount(data["arm"], minlength=4).min() > 120  # ~177 each: multinomial, 5 SD margin
    for name in ("exit_to_work", "part_time", "full_time"):
        assert set(np.unique(data[name])) <= {0.0, 1.0}
    assert 0.02 < data["exit_to_work"].mean() < 0.6


def test_an_arm_with_a_large_effect_is_detected(design, scenario):
    strong = dataclasses.replace(design.arms[3], multipliers={"arr*.part_time": 20.0})
    boosted = dataclasses.replace(design, arms=(*design.arms[:3], strong))
    res = run_trials(scenario, boosted, replications=2, seed=11)
    row = res.effects.set_index(["arm", "outcome"]).loc[("earn_more", "part_time")]
    assert row["estimate_pp"] > 10 and row["rejection_rate"] == 1.0
    table = checks(res).set_index("claim")
    assert len(table) == 5 and not table.loc["earn_more: small positive part-time effect", "holds"]  # > 10 pp is not small


def test_experiment_command_writes_effects_and_power(tmp_path):
    out = tmp_path / "www"
    code = main(["experiment", "weten-wat-werkt", "--replications", "2", "--out", str(out)])
    assert code == 0
    effects = pd.read_csv(out / "effects.csv")
    assert list(effects.columns[:7]) == ["arm", "outcome", "estimate_pp", "ci_low", "ci_high", "p_value", "published"]
    assert len(effects) == 9
    # effects.csv summarises trials.csv: each estimate is the mean of that arm and outcome over the trials
    # (a CI built as estimate +- z se always has ci_low < ci_high, so that check could not fail)
    trials = pd.read_csv(out / "trials.csv").groupby(["arm", "outcome"])["estimate_pp"].mean()
    for row in effects.itertuples():
        assert row.estimate_pp == pytest.approx(trials[(row.arm, row.outcome)], abs=1e-3)
    power = pd.read_csv(out / "power.csv")
    assert power["n_per_arm"].between(150, 210).all()
    # the MDE is the effect with 80% power: recomputed here from the unpooled two-proportion normal
    # approximation, p1 = p0 + d, se = sqrt((p0 (1 - p0) + p1 (1 - p1)) / n) (mde > 0 could not fail)
    for row in power.itertuples():
        d, p0 = row.mde_pp / 100, row.control_rate
        se = np.sqrt((p0 * (1 - p0) + (p0 + d) * (1 - p0 - d)) / row.n_per_arm)
        assert stats.norm.cdf(d / se - stats.norm.ppf(0.975)) == pytest.approx(0.80, abs=0.01)
    assert (out / "effects.png").stat().st_size > 10_000 and (out / "checks.csv").exists()


def test_unknown_experiment_is_a_clean_error(capsys):
    assert main(["experiment", "no-such-trial"]) == 2
    assert "no such experiment" in capsys.readouterr().err
