from pathlib import Path

import pytest

from sim import compile_scenario, load_scenario

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="session")
def three_states():
    return compile_scenario(load_scenario(DATA / "three_states.toml"))


def scenario_from_text(text: str):
    """Validate a scenario given as TOML text (no file, so no ``extends``)."""
    import tomllib

    from sim.model.loader import validate

    return validate(tomllib.loads(text))


def scenario_from(tmp_path: Path, text: str, name: str = "s.toml"):
    """Write a scenario file and load it (for small hand-made test scenarios)."""
    path = tmp_path / name
    path.write_text(text)
    return load_scenario(path)


# Tests in files other developers own that assert the old behaviour this branch changes on purpose.
# Each is marked xfail (not strict, so the owner's fix does not break the run) until its owner updates it;
# listed in the report of issue 14.
HANDED_OVER = {
    "tests/test_budget_ledger.py::test_budget_references_are_checked": (
        "issue 14: budget cross-references are now refused by scenario validation (scenario_from raises), "
        "not when the ledger starts; move scenario_from inside pytest.raises"
    ),
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        reason = HANDED_OVER.get(item.nodeid.split("[")[0])
        if reason:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=False))
