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


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]  # fmt: skip


def chromium_path() -> str | None:
    """Debian's Chromium (``.ci/run`` installs it when missing); None when no browser can be had."""
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium driven by playwright (its own browser download is not used)."""
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium; .ci/run does it when root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
