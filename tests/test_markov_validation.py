"""The DES against the analytic continuous-time Markov chain of the same scenario.

Like Ciw's validation against queueing theory: the replication mean of every
state's stock, at several horizons, must lie within 3 standard errors of the
exact expectation from matrix exponentials (sim.analytic.markov). With fixed
seeds the test is deterministic; 3 SE is the tolerance a correct simulator
meets for ~99.7% of comparisons, and a wrong hazard, lever or routing moves
the mean by far more (the same scenario with the lever ignored fails, below).
"""

import numpy as np
import pytest

from sim import expected, simulate
from sim.model.records import FLOW_INDEX

REPLICATIONS = 60
HORIZONS = (3, 12, 20, 35, 59)  # end of month index: before, in and after the lever window


@pytest.fixture(scope="module")
def runs(three_states):
    return [simulate(three_states, seed=20240501, replication=r) for r in range(REPLICATIONS)]


def _within(samples: np.ndarray, exact: np.ndarray, k: float = 3.0):
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / np.sqrt(len(samples))
    return np.abs(mean - exact) <= k * np.maximum(se, 1e-9), mean, se


def test_stocks_match_markov_chain(three_states, runs):
    exact = expected(three_states).stock
    stocks = np.stack([r.stock for r in runs])
    names = [s.name for s in three_states.states]
    for month in HORIZONS:
        ok, mean, se = _within(stocks[:, month], exact[month])
        for i, name in enumerate(names):
            print(f"month {month + 1:>2} {name:9} DES {mean[i]:8.1f} +- {se[i]:5.1f}  Markov {exact[month, i]:8.1f}")
        assert ok.all(), f"month {month + 1}: DES {mean} vs Markov {exact[month]} (se {se})"


@pytest.mark.parametrize("flow", ["inflow", "exits_work", "exits_other", "scholing", "reinflow", "transfers_out"])
def test_cumulative_flows_match_markov_chain(three_states, runs, flow):
    exact = expected(three_states).flows[:, :, FLOW_INDEX[flow]].sum(axis=(0, 1))
    totals = np.array([r.flows[:, :, FLOW_INDEX[flow]].sum() for r in runs])
    ok, mean, se = _within(totals, exact)
    print(f"{flow}: DES {mean:.1f} +- {se:.1f}, Markov {exact:.1f}")
    assert ok


def test_the_check_has_power(three_states, runs):
    """Dropping the lever from the analytic side must make the comparison fail."""
    from sim import compile_scenario

    no_lever = compile_scenario(three_states.scenario.model_copy(update={"levers": {}}))
    exact = expected(no_lever).stock[20]
    stocks = np.stack([r.stock[20] for r in runs])
    ok, _, _ = _within(stocks, exact)
    assert not ok.all()


def test_spell_duration_bands_agree_with_erlang_stage_approximation(tmp_path):
    """With duration bands the chain is approximated by Erlang stages; many stages converge on the DES."""
    from sim import compile_scenario
    from sim.model.loader import load_raw, validate
    from tests.conftest import DATA

    data = load_raw(DATA / "three_states.toml")
    data["states"]["a"]["transitions"]["work"]["duration_bands"] = {
        "edges": [6, 18],
        "multipliers": [2.0, 1.0, 0.4],
        "source": "test",
    }
    c = compile_scenario(validate(data))
    runs = [simulate(c, seed=7, replication=r) for r in range(40)]
    exact = expected(c, stages=12).stock[35]
    ok, mean, se = _within(np.stack([r.stock[35] for r in runs]), exact, k=3.5)
    print(mean, exact, se)
    assert ok.all()
