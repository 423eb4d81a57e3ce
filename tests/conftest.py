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
