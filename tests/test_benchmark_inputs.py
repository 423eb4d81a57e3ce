"""The benchmarks derive their scenarios from the bundled ones (benchmarks/_scenarios.py); a new mechanism in a
bundled scenario must not break them silently. Nothing is timed here (benchmarks measure, tests check)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import _scenarios
        import reference_kernel

        yield _scenarios, reference_kernel
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_capacity_free_baseline_runs_on_the_reference_kernel(bench):
    _scenarios, reference_kernel = bench
    from sim import compile_scenario

    compiled = compile_scenario(_scenarios.capacity_free("utrecht_baseline", years=1))
    assert not compiled.teams and compiled.budget is None
    stock = reference_kernel.simulate(0, *reference_kernel.arrays(compiled))[0]
    assert stock.shape[0] == 12 and np.all(stock >= 0) and stock.sum() > 0


@pytest.mark.parametrize("name", ["utrecht_baseline", "wassenaar_region", "zwolle"])
def test_scaled_scenarios_keep_rates_and_scale_totals(bench, name):
    _scenarios, _ = bench
    from sim import compile_scenario, load_scenario

    one = compile_scenario(load_scenario(name, overrides={"years": 1}))
    four = compile_scenario(_scenarios.scaled(name, 4.0, years=1))
    assert [rate for _, rate in four.inflow] == pytest.approx([4 * rate for _, rate in one.inflow])
    assert sum(st.initial for st in four.states) == pytest.approx(4 * sum(st.initial for st in one.states), rel=0.01)


def test_minimal_python_model_is_the_engines_process_in_law(bench):
    """benchmarks/python_limit.py claims its minimal model is the capacity-free process the engines run, so
    that its ratio to the replayed floor says what a plain-Python engine of that process costs. Checked in
    law on one year, 20 replications a side: every state's mean stock at months 6 and 12 and mean
    person-months over the year, and every flow's mean total summed over states, within 4 standard errors
    of the difference of the two means. 4 SE because 56 comparisons are made: a false alarm in about 0.4%
    of runs of a correct model (Bonferroni, normal means). The correct model's worst is 3.0 SE. Planted
    slips, measured: withdrawals in the search period dropped 34 SE, every intake assigned to the first
    arrangement 59 SE, the initial households' spells not drawn 60 SE, person-months not reset at a month
    end 676 SE. Too small to see in a year: a one-month search wait dropped, re-inflow spells not restarted."""
    _scenarios, _ = bench
    import python_limit  # on the path while the fixture lasts

    from sim import compile_scenario
    from sim.engines import simpy_engine

    compiled = compile_scenario(_scenarios.capacity_free("utrecht_baseline", years=1))
    n = 20
    minimal = [python_limit.simulate(compiled, seed) for seed in range(n)]
    engine = [simpy_engine.simulate(compiled, seed=7, replication=r) for r in range(n)]
    checks = {
        f"stock month {month + 1}": (np.array([m[0][month] for m in minimal]), np.array([r.stock[month] for r in engine]))
        for month in (5, 11)
    }
    checks["person-months"] = (np.array([m[2].sum(axis=0) for m in minimal]),
                               np.array([r.person_months.sum(axis=0) for r in engine]))  # fmt: skip
    checks["flows"] = (np.array([m[1].sum(axis=(0, 1)) for m in minimal]),
                       np.array([r.flows.sum(axis=(0, 1)) for r in engine]))  # fmt: skip
    assert sum(a.shape[1] for a, _ in checks.values()) == 56
    for what, (a, b) in checks.items():
        difference = a.mean(axis=0) - b.mean(axis=0)
        se = np.sqrt(a.var(axis=0, ddof=1) / n + b.var(axis=0, ddof=1) / n)
        assert np.all(np.abs(difference) <= 4 * se), (what, difference, se)
    assert checks["flows"][0].sum() > 0 and checks["stock month 12"][0].sum() > 0
