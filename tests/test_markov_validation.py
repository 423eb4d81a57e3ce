"""The simulation against the independent Markov model of the same scenario.

Like Ciw's validation against queueing theory: the replication mean of every
state's stock, at several horizons, and of every flow the analytic model can
express, must lie within 3 standard errors of its expectation. The Markov model
(sim/analytic/markov.py) is built from the scenario itself, not from the
compiled model, so a mistake in sim/model/compiled.py shows up here: the last
tests plant three such mistakes and check that each is caught.

With fixed seeds the tests are deterministic; 3 SE is the tolerance a correct
simulator meets for ~99.7% of comparisons (with ~60 comparisons per test, a
chance failure at some seed is possible but these seeds pass). With duration
bands the analytic model is an Erlang-stage approximation whose error falls
like 1/stages (measured: 8, 16, 32 stages give 1125.8, 1130.9, 1133.5 exits to
work), so the comparison uses Richardson's extrapolation 2 M(2n) - M(n) with
n = 12 and allows 3.5 SE for what is left of the approximation error.
"""

import dataclasses

import numpy as np
import pytest

from sim import compile_scenario, expected, load_scenario, simulate
from sim.model import compiled as compiled_module
from sim.model.compiled import GUIDED, NO_TEAM, UNGUIDED
from sim.model.records import FLOW_INDEX
from tests.conftest import DATA

REPLICATIONS = 60
HORIZONS = (3, 12, 20, 35, 47)  # end-of-month indices: before, in and after the lever windows
# Every flow the Markov model expresses. The other four (guidance_waits, guidance_starts,
# place_waits, refused) need capacity or money: tests/test_erlang.py, test_queues.py and the
# budget tests check them.
VALIDATED_FLOWS = (
    "entries", "inflow", "exits_work", "exits_other", "movements", "plaatsing", "scholing", "deeltijdwerk",
    "uitstroom", "transfers_out", "dropouts", "reinflow", "withdrawn",
)  # fmt: skip


def _within(samples: np.ndarray, exact: np.ndarray, k: float = 3.0):
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / np.sqrt(len(samples))
    return np.abs(mean - exact) <= k * np.maximum(se, 1e-9), mean, se


def _markov(scenario, stages: int):
    """The Markov expectation; with ``stages`` > 1 extrapolated from ``stages`` and 2 x ``stages`` Erlang stages."""
    e = expected(scenario, stages=stages)
    if stages == 1:
        return e
    fine = expected(scenario, stages=2 * stages)
    return dataclasses.replace(
        e, stock=2 * fine.stock - e.stock, flows=2 * fine.flows - e.flows, person_months=2 * fine.person_months - e.person_months
    )


def _disagreements(compiled, e, runs, k: float) -> list[str]:
    """Every stock (at HORIZONS) and flow total where the DES mean is more than k SE from the Markov model ``e``."""
    stocks = np.stack([r.stock for r in runs])
    names = [s.name for s in compiled.states]
    out = []
    for month in HORIZONS:
        if month >= stocks.shape[1]:
            continue
        ok, mean, se = _within(stocks[:, month], e.stock[month], k)
        out += [f"stock {names[i]} month {month + 1}: DES {mean[i]:.1f} +- {se[i]:.1f}, Markov {e.stock[month, i]:.1f}"
                for i in np.flatnonzero(~ok)]  # fmt: skip
    for flow in VALIDATED_FLOWS:
        f = FLOW_INDEX[flow]
        totals = np.array([r.flows[:, :, f].sum(axis=0) for r in runs])  # [replication, state]
        ok, mean, se = _within(totals, e.flows[:, :, f].sum(axis=0), k)
        out += [f"{flow} at {names[i]}: DES {mean[i]:.1f} +- {se[i]:.1f}, Markov {e.flows[:, i, f].sum():.1f}"
                for i in np.flatnonzero(~ok)]  # fmt: skip
    return out


@pytest.fixture(scope="module")
def three():
    scenario = load_scenario(DATA / "three_states.toml")
    c = compile_scenario(scenario)
    return scenario, c, [simulate(c, seed=20240501, replication=r) for r in range(REPLICATIONS)], _markov(scenario, 1)


@pytest.fixture(scope="module")
def full():
    scenario = load_scenario(DATA / "validation_full.toml")
    c = compile_scenario(scenario)
    return scenario, c, [simulate(c, seed=20240502, replication=r) for r in range(REPLICATIONS)], _markov(scenario, 12)


def test_three_states_match_the_exact_chain(three):
    """No duration bands: the chain is exact, so 3 SE."""
    _, c, runs, e = three
    problems = _disagreements(c, e, runs, k=3.0)
    assert not problems, "\n".join(problems)


def test_every_hazard_factor_matches_the_chain(full):
    """Attributes, a lever, duration bands, contact intensity, a search period: every state and flow."""
    _, c, runs, e = full
    problems = _disagreements(c, e, runs, k=3.5)
    assert not problems, "\n".join(problems)
    # the scenario really exercises what it claims (a flow the chain never sees would pass vacuously)
    totals = np.stack([r.flows.sum(axis=(0, 1)) for r in runs]).mean(axis=0)
    assert all(totals[FLOW_INDEX[f]] > 20 for f in VALIDATED_FLOWS), dict(zip(VALIDATED_FLOWS, totals))


def test_the_check_has_power(three):
    """Dropping the lever from the analytic side makes the comparison fail."""
    scenario, c, runs, _ = three
    no_lever = scenario.model_copy(update={"levers": {}})
    assert _disagreements(c, _markov(no_lever, 1), runs, k=3.0)


def _drop_attribute_multipliers(monkeypatch):
    monkeypatch.setattr(compiled_module, "_attribute_factor", lambda sc, st, a, attrs: np.ones((len(attrs.levels[a]), len(st.transitions))))


def _ignore_hazard_levers(monkeypatch):
    real = compiled_module.lever_windows
    monkeypatch.setattr(compiled_module, "lever_windows", lambda sc: tuple(lv for lv in real(sc) if not lv.target.startswith("hazard.")))


def _shift_duration_bands(monkeypatch):
    real = compiled_module._transition

    def shifted(s, name, tr, index):
        t = real(s, name, tr, index)
        return t._replace(band_edges=tuple(e + 3.0 for e in t.band_edges))

    monkeypatch.setattr(compiled_module, "_transition", shifted)


@pytest.mark.parametrize("plant", [_drop_attribute_multipliers, _ignore_hazard_levers, _shift_duration_bands])
def test_a_planted_error_in_the_compiled_model_is_caught(full, monkeypatch, plant):
    """The same comparison with a mistake planted in compiled.py: the DES moves, the Markov model does not."""
    scenario, _, _, e = full
    plant(monkeypatch)
    wrong = compile_scenario(scenario)
    runs = [simulate(wrong, seed=20240502, replication=r) for r in range(30)]
    monkeypatch.undo()
    assert _disagreements(wrong, e, runs, k=3.5), f"{plant.__name__} went unnoticed"


def test_hazard_tables_by_hand(full):
    """Hand-computed hazards of transition a.work (rate 0.05) in compiled.hazard_table.

    bands [0,6): x2.0, [6,18): x1.0, [18,inf): x0.3; youth x3.0; lever x0.3 from 2021-04-01 (month 15)
    to 2022-01-01 (month 24); guided contacts 20 x productivity / 50 against a reference of 0.2, to
    the power 0.5: sqrt(0.4 / 0.2) = sqrt(2); productivity x0.25 from 2022-04-01 (month 27) to
    2023-01-01 (month 36): sqrt(0.1 / 0.2) = sqrt(0.5); unguided: sqrt(0.05 / 0.2) = 0.5.
    """
    _, c, _, _ = full
    a = c.index("a")
    work = [tr.name for tr in c.states[a].transitions].index("work")
    youth = c.attributes.profiles.index((c.attributes.levels[0].index("youth"),))
    adult = c.attributes.profiles.index((c.attributes.levels[0].index("adult"),))
    seg = {t: c.segment(t) for t in (0.0, 15.0, 24.0, 27.0, 36.0)}
    assert len(set(seg.values())) == 5  # the lever and productivity windows start new segments
    guided = c.hazard_table(a, GUIDED, adult)
    assert guided[seg[0.0], 0, work] == pytest.approx(0.05 * 2.0 * np.sqrt(2), rel=1e-12)
    assert guided[seg[0.0], 1, work] == pytest.approx(0.05 * np.sqrt(2), rel=1e-12)
    assert guided[seg[0.0], 2, work] == pytest.approx(0.05 * 0.3 * np.sqrt(2), rel=1e-12)
    assert guided[seg[15.0], 1, work] == pytest.approx(0.05 * 0.3 * np.sqrt(2), rel=1e-12)
    assert guided[seg[27.0], 1, work] == pytest.approx(0.05 * np.sqrt(0.5), rel=1e-12)
    assert c.hazard_table(a, GUIDED, youth)[seg[0.0], 1, work] == pytest.approx(0.05 * 3.0 * np.sqrt(2), rel=1e-12)
    assert c.hazard_table(a, UNGUIDED, adult)[seg[0.0], 1, work] == pytest.approx(0.05 * 0.5, rel=1e-12)
    assert c.hazard_table(a, NO_TEAM, adult)[seg[36.0], 1, work] == pytest.approx(0.05, rel=1e-12)


def test_covariate_factors_by_hand(full):
    """The WW series is 5,000 in 2020, 7,000 from 2021 (month 12), 4,000 from July 2022 (month 30), against a
    reference of 5,000: inflow x (x / 5000) and b.placement (rate 0.03) x (x / 5000) ** -1.5."""
    _, c, _, _ = full
    b = c.index("b")
    k = [tr.name for tr in c.states[b].transitions].index("placement")
    for t, x in ((0.0, 5000), (12.0, 7000), (30.0, 4000)):
        assert c.hazard_table(b, NO_TEAM, 0)[c.segment(t), 0, k] == pytest.approx(0.03 * (x / 5000) ** -1.5, rel=1e-12)
    inflow = dict(c.inflow)
    assert inflow[13.0] == pytest.approx(30 * 1.1 * 7000 / 5000, rel=1e-12)  # February 2021: seasonal 1.1 x 7000/5000


def test_compiled_model_is_immutable(full):
    _, c, _, _ = full
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.horizon = 1.0
    with pytest.raises(ValueError):
        c.base[1][0, 0, 0] = 1.0
