"""Every number in a bundled scenario carries a source, and the docs' parameter tables match the scenarios."""

import re
from pathlib import Path

import pytest

from sim.model import bundled_names, load_scenario
from sim.model.parameters import markdown, parameter_table

ROOT = Path(__file__).parents[1]
SEEDS = {  # the seed documents in ../shared/seeds/
    "000_a12b49461e3ec2d0.txt", "001_192052d875f1edab.txt", "002_6605c097c13c0fe9.txt",
    "003_55befc48317aa70b.txt", "004_70f15cbf87062377.txt",
}  # fmt: skip
OUTSIDE = ("assumption", "DOMAIN.md", "Divosa", "CBS", "calibrated", "Utrecht Monitor", "CPB", "test")


@pytest.mark.parametrize("name", bundled_names())
def test_every_source_names_a_seed_an_outside_source_or_assumption(name):
    table = parameter_table(load_scenario(name))
    assert len(table) > 10
    for row in table.itertuples():
        cited = set(re.findall(r"\d{3}_[0-9a-f]{16}\.txt", row.source))
        assert cited <= SEEDS, f"{row.parameter}: unknown seed {cited - SEEDS}"
        assert cited or any(word in row.source for word in OUTSIDE), f"{row.parameter}: source {row.source!r}"


@pytest.mark.parametrize("name", ["utrecht_baseline", "wassenaar"])
def test_docs_parameter_tables_are_in_sync(name):
    expected = markdown(load_scenario(name), name)
    path = ROOT / "docs" / "parameters" / f"{name}.md"
    assert path.read_text() == expected, f"regenerate: caseload-sim parameters {name} > {path.relative_to(ROOT)}"
