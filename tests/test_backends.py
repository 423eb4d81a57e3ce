"""Every backend and worker count gives the same results (streams come from the replication index)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.engines.backends import LocalBackend, iter_replications, make_backend, run_replications
from sim.model import load_scenario

DATA = Path(__file__).parent / "data"
SCENARIO = str(DATA / "three_states.toml")
ARGS = ["run", SCENARIO, "--years", "2", "-r", "6", "--seed", "7", "-q"]


def test_annual_identical_on_every_backend(tmp_path):
    outs = {
        "local1": ["--engine", "local", "--workers", "1"],
        "local2": ["--engine", "local", "--workers", "2"],
        "dask": ["--engine", "dask", "--workers", "2"],  # a LocalCluster with 2 processes, closed after
    }
    for name, extra in outs.items():
        assert main([*ARGS, *extra, "--out", str(tmp_path / name)]) == 0
    texts = {name: (tmp_path / name / "annual.csv").read_text() for name in outs}
    assert texts["local1"] == texts["local2"] == texts["dask"]
    monthly = {name: (tmp_path / name / "monthly.csv").read_bytes() for name in outs}
    assert monthly["local1"] == monthly["local2"] == monthly["dask"]
    assert len(texts["local1"].splitlines()) == 1 + 6 * 2  # header + replications x years


def test_results_stream_in_any_order_but_match_by_index():
    scenario = load_scenario(SCENARIO, overrides={"years": 1})
    # more replications than the in-flight window of 2 workers, so the window refills
    with LocalBackend(2) as backend:
        parallel = {r.replication: r for r in backend.map(scenario, 3, range(12))}
        again = {r.replication: r for r in backend.map(scenario, 3, [11, 4])}  # pool reused
    serial = {r.replication: r for r in iter_replications(scenario, 3, list(range(12)), workers=1)}
    assert sorted(parallel) == list(range(12))
    for r, res in serial.items():
        assert (res.stock == parallel[r].stock).all() and (res.flows == parallel[r].flows).all()
    assert (again[11].flows == serial[11].flows).all()
    assert run_replications(scenario, 3, 2, workers=2)[1].clients == serial[1].clients


def test_seed_changes_results():
    scenario = load_scenario(SCENARIO, overrides={"years": 1})
    a, b = (run_replications(scenario, seed, 1)[0] for seed in (1, 2))
    assert (a.flows != b.flows).any()


def test_unknown_engine_and_stray_scheduler_are_refused():
    with pytest.raises(ValueError, match="unknown engine"):
        make_backend("spark")
    with pytest.raises(ValueError, match="--scheduler needs --engine dask"):
        make_backend("local", scheduler="tcp://localhost:8786")
