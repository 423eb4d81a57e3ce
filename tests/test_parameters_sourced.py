"""Every number in a bundled scenario carries a source, and the docs' parameter tables match the scenarios."""

from pathlib import Path

import pytest

from sim.model import bundled_names, load_scenario
from sim.model.parameters import markdown, parameter_table
from tests.citations import citation_problems, load_bibliography

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("name", bundled_names())
def test_every_source_cites_the_bibliography_or_is_an_assumption(name):
    """As resolved (a variant inherits its base's sources); the form is checked in tests/test_citations.py."""
    table = parameter_table(load_scenario(name))
    assert len(table) > 10
    bib = load_bibliography()
    problems = [p for row in table.itertuples() for p in citation_problems(f"{name}: {row.parameter}", row.source, bib)]
    assert problems == []


DOCUMENTED = sorted(p.stem for p in (ROOT / "docs" / "parameters").glob("*.md"))


def test_the_baselines_and_the_municipal_scenarios_have_parameter_tables():
    wanted = {"utrecht_baseline", "wassenaar_region", "wassenaar_region_continue", "wassenaar_region_no_regional",
              "wassenaar_region_voorschoten_leaves", "zwolle", "zwolle_nazorg"}  # fmt: skip
    assert wanted <= set(DOCUMENTED)
    assert set(DOCUMENTED) <= set(bundled_names()), "a table in docs/parameters/ for a scenario that is not bundled"


@pytest.mark.parametrize("name", DOCUMENTED)
def test_docs_parameter_tables_are_in_sync(name):
    expected = markdown(load_scenario(name), name)
    path = ROOT / "docs" / "parameters" / f"{name}.md"
    assert path.read_text() == expected, f"regenerate: caseload-sim parameters {name} > {path.relative_to(ROOT)}"
