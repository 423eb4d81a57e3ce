"""Property: however a valid scenario is mutated, the loader and the compiled model's checks accept it or
raise ScenarioError (what `caseload-sim validate` runs).

Never another exception: a mutated file must not crash the CLI with a traceback.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model import Scenario, ScenarioError, load_scenario
from sim.model.compiled import compile_scenario
from sim.model.loader import load_raw, validate

DATA = Path(__file__).parent / "data"
BASES = [load_raw(DATA / "three_states.toml"), load_raw(DATA / "bad" / "parts" / "base.toml")]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["a", "b", "out", "intake", "employed", "hazard.a.work", "inflow", "assumption", "2020-01-01"]),
    st.dates(),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)


def _paths(data, prefix=()):
    """Every key path in nested dicts and lists."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


def _mutate(data: dict, draw) -> dict:
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = list(_paths(data))
        path = draw(st.sampled_from(paths))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["drop", "replace", "add", "scale"]))
        key = path[-1]
        if action == "drop":
            del parent[key]
        elif action == "replace":
            parent[key] = draw(values)
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = draw(values)
        elif action == "scale" and isinstance(parent[key], int | float) and not isinstance(parent[key], bool):
            parent[key] = parent[key] * draw(st.sampled_from([-1, 0, 1e-300, 1.5, 1e300, 10**30]))
    return data


EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", 300))  # raise locally to search harder


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_scenarios_are_valid_or_scenario_errors(data):
    base = data.draw(st.sampled_from(BASES))
    mutated = _mutate(base, data.draw)
    try:
        scenario = validate(mutated)
        assert isinstance(scenario, Scenario)
        # what `caseload-sim validate` (and every command) does next: the compiled model's checks, e.g. a
        # multiplier scaled by 1e300 that makes an effective rate 7.5e298 a month (found here), refuse it the same way
        compile_scenario(scenario)
    except ScenarioError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_arbitrary_bytes_load_or_raise_scenario_error(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("blob") / "s.toml"
    path.write_bytes(blob)
    try:
        load_scenario(path)
    except ScenarioError:
        return
    raise AssertionError("random bytes made a valid scenario")  # pragma: no cover


def test_mutation_strategy_reaches_the_loader_errors():
    # guard against a vacuous property: a known mutation must be rejected
    data = copy.deepcopy(BASES[0])
    data["states"]["a"]["transitions"]["work"]["rate"]["value"] = True
    try:
        validate(data)
    except ScenarioError as exc:
        assert "must be a number" in exc.problems[0]
    else:  # pragma: no cover
        raise AssertionError("bool rate accepted")
