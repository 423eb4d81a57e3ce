"""Common random numbers: measured, not assumed (issue 4, acceptance 2 and 3)."""

import numpy as np
import pytest

from sim.analysis.compare import independent_interval, load_arms, metric_values, paired_interval, run_arm, run_arms


def test_crn_interval_at_least_3x_narrower_for_caseload_50():
    """caseload_50 vs baseline, exits to work over a 2-year horizon, 12 replications each.

    Paired (same seed, CRN) vs independent seeds (the alternative on seed 1001) with the same
    replications. Measured: 11x for the 2-year total, 4.6-5.5x per year; the test asks for the issue's 3. With 12
    replications a width estimate has ~20% relative error, so 3 leaves a margin; seeds are fixed,
    so the result is reproducible.
    """
    scenarios = load_arms(["utrecht_baseline", "caseload_50"], years=2)
    base, alt = run_arms(scenarios, seed=1, replications=12, workers=1)
    alt_independent = run_arm("caseload_50", scenarios[1][1], seed=1001, replications=12)
    b, a, ai = (metric_values(arm, "exits_work") for arm in (base, alt, alt_independent))
    paired = paired_interval(a, b)
    independent = independent_interval(ai, b)
    w_paired, w_indep = paired[2] - paired[1], independent[2] - independent[1]
    print(f"\nexits to work 2015-2016, caseload_50 - baseline: paired (CRN) {paired[0]:+.1f} "
          f"[{paired[1]:+.1f}, {paired[2]:+.1f}] width {w_paired:.1f}; independent {independent[0]:+.1f} "
          f"[{independent[1]:+.1f}, {independent[2]:+.1f}] width {w_indep:.1f}; ratio {w_indep / w_paired:.2f}")
    for year in (2015, 2016):
        p = paired_interval(metric_values(alt, "exits_work", year), metric_values(base, "exits_work", year))
        i = independent_interval(metric_values(alt_independent, "exits_work", year), metric_values(base, "exits_work", year))
        print(f"  {year}: paired width {p[2] - p[1]:.1f}, independent width {i[2] - i[1]:.1f}")
    assert w_indep >= 3 * w_paired
    assert paired[1] > 0  # caseload 50 raises exits to work (contact intensity x5.6, elasticity 0.3)


def test_corona_fewer_exits_and_higher_caseload_in_2020():
    """Acceptance 3: both paired 95% intervals exclude zero (DOMAIN.md section 7/10 direction).

    To keep the test short the runs start in 2019 (one year before the shock) instead of 2015; the
    notebook and docs/scenarios.md show the full 2015 run.
    """
    short = load_arms(["utrecht_baseline", "corona_2020"], overrides={"start": "2019-01-01", "years": 2})
    base, corona = run_arms(short, seed=1, replications=5, workers=1)
    exits = paired_interval(metric_values(corona, "exits_work", 2020), metric_values(base, "exits_work", 2020))
    caseload = paired_interval(metric_values(corona, "caseload_end", 2020), metric_values(base, "caseload_end", 2020))
    print(f"\ncorona - baseline 2020: exits to work {exits}; year-end caseload {caseload}")
    assert exits[2] < 0
    assert caseload[1] > 0
    # before the shock the two runs are the same households with the same draws
    assert np.array_equal(corona.caseload[:, :12], base.caseload[:, :12])


def test_paired_interval_known_answer():
    # differences 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.302653 -> half-width 4.302653 / sqrt(3)
    mean, low, high = paired_interval(np.array([11.0, 12.0, 13.0]), np.array([10.0, 10.0, 10.0]))
    assert mean == 2.0
    assert high - mean == pytest.approx(4.302653 / np.sqrt(3), rel=1e-6)
