"""The tables are built for many replications at once, and their CSV bytes do not depend on the grouping.

A run folder turns its saved replications into table rows ``TABLE_CHUNK`` at a
time (memory stays bounded, pandas works on whole blocks). Whatever the chunk
size, ``monthly.csv``, ``annual.csv``, ``groups.csv`` and ``summary.csv`` must be
the very same bytes as one replication at a time; a region (rows per
municipality, sorted inside each month) is the case a chunk could reorder.
"""

from __future__ import annotations

import io

import pytest

from sim import compile_scenario, load_scenario, simulate
from sim.io import runfolder
from sim.io.runfolder import RunSettings, run_to_folder
from sim.io.tables import annual_table, group_table, monthly_table
from tests.conftest import DATA


def _csv(frames) -> str:
    out = io.StringIO()
    for i, frame in enumerate(frames):
        frame.to_csv(out, index=False, header=i == 0)
    return out.getvalue()


@pytest.fixture(scope="module", params=["utrecht_baseline", "three_states", "region"])
def results(request):
    name = request.param
    scenario = load_scenario(name if name == "utrecht_baseline" else DATA / f"{name}.toml", overrides={"years": 3})
    c = compile_scenario(scenario)
    return c, [simulate(c, seed=5, replication=r) for r in range(5)]


@pytest.mark.parametrize("table", [monthly_table, annual_table, group_table])
def test_the_tables_for_many_replications_write_the_bytes_of_one_at_a_time(results, table):
    c, runs = results
    one_at_a_time = _csv(table(c, [r]) for r in runs)
    assert one_at_a_time.count("\n") > len(runs)  # rows for every replication, not an empty table
    assert _csv(table(c, runs[i : i + 2]) for i in range(0, 5, 2)) == one_at_a_time
    assert _csv([table(c, runs)]) == one_at_a_time


def test_a_run_folder_does_not_depend_on_how_replications_are_grouped(tmp_path, monkeypatch):
    scenario = load_scenario(DATA / "region.toml", overrides={"years": 2})
    run_to_folder(scenario, RunSettings(replications=5, progress=False), tmp_path / "a")
    monkeypatch.setattr(runfolder, "TABLE_CHUNK", 2)
    run_to_folder(scenario, RunSettings(replications=5, progress=False), tmp_path / "b")
    for name in ("monthly.csv", "annual.csv", "groups.csv", "summary.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
