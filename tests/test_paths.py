"""One parameter-path syntax for sweep, goal-seek, calibrate and lever targets (sim.model.paths)."""

import pytest

from sim.model import paths
from sim.model.loader import load_raw, resolve_path


@pytest.fixture(scope="module")
def raw():
    return load_raw(resolve_path("utrecht_baseline"))


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("werkmatchers.opstap.fte", "werkmatchers.opstap.fte"),
        ("werkmatchers.opstap.fte.value", "werkmatchers.opstap.fte"),
        ("hazard.arr1.work", "states.arr1.transitions.work.rate"),
        ("hazard.arr1.work.value", "states.arr1.transitions.work.rate"),
        ("places.werktraining", "states.werktraining.places"),
        ("inflow.covariates.ww.elasticity.value", "inflow.covariates.ww.elasticity"),
        ("budget.i_deel.grant.values.2015-01-01", "budget.i_deel.grant.values.2015-01-01"),
    ],
)
def test_value_is_optional_and_lever_targets_are_paths(raw, short, long):
    assert paths.canonical(short) == long
    assert paths.get(raw, short) == paths.get(raw, long)


def test_get_and_set(raw):
    assert paths.get(raw, "werkmatchers.opstap.fte") == 12.0
    changed = paths.set(raw, "werkmatchers.opstap.fte", 27)
    assert changed["werkmatchers"]["opstap"]["fte"]["value"] == 27.0
    assert changed["werkmatchers"]["opstap"]["fte"]["source"] == raw["werkmatchers"]["opstap"]["fte"]["source"]
    assert raw["werkmatchers"]["opstap"]["fte"]["value"] == 12  # a copy, not in place
    assert paths.set(raw, "places.werktraining", 300.6)["states"]["werktraining"]["places"]["value"] == 301


def test_missing_values_and_bad_paths(raw):
    assert paths.get(raw, "werkmatchers.opstap.productivity", default=1.0) == 1.0
    created = paths.set(raw, "werkmatchers.opstap.productivity", 0.8, source="goal-seek")
    assert created["werkmatchers"]["opstap"]["productivity"] == {"value": 0.8, "source": "goal-seek"}
    for bad, words in [("budget.i_deel.grant", "dated values; name one date"), ("hazard.*.work", "wildcards"),
                       ("states.nope.initial", "no 'nope'"), ("werkmatchers.opstap.productivity", "no 'productivity'"),
                       ("name", "not a number")]:  # fmt: skip
        with pytest.raises(paths.PathError, match=words):
            paths.set(raw, bad, 1.0)


def test_the_example_sweep_file_uses_paths_and_is_no_scenario(raw):
    from sim.analysis.sweep import _check_paths, load_parameters
    from sim.model import bundled_names

    example = resolve_path("utrecht_baseline").parent / "sweeps" / "utrecht_example.toml"
    params = load_parameters(example)
    _check_paths(raw, params)  # every path names a number of the baseline
    assert "utrecht_example" not in bundled_names()
