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
