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


# what may differ between two run folders of the same scenario and seed: when and how long, and the engine
VOLATILE = {"created", "wall_seconds", "kernel", "kernel_requested", "kernel_reason"}


def test_a_run_folder_is_the_same_on_either_kernel(tmp_path):
    """``--kernel simpy`` and ``--kernel compiled`` write the same bytes: tables, charts, scenario, every
    replication's arrays; the manifest differs only in its kernel fields and times (the region: money and
    rows per municipality, groups.csv)."""
    import json

    import numpy as np

    from sim.io.workfolder import STAMP

    region = str(DATA / "region.toml")
    folders = {}
    for kernel in ("simpy", "compiled"):
        folders[kernel] = tmp_path / kernel
        args = ["run", region, "--years", "2", "-r", "3", "--seed", "7", "-w", "2", "-q", "--kernel", kernel]
        assert main([*args, "--out", str(folders[kernel])]) == 0
    files = {k: sorted(p.relative_to(f).as_posix() for p in f.rglob("*") if p.is_file()) for k, f in folders.items()}
    assert files["simpy"] == files["compiled"]
    assert {"monthly.csv", "annual.csv", "summary.csv", "groups.csv", "charts/caseload.png"} <= set(files["simpy"])
    a, b = folders["simpy"], folders["compiled"]
    for name in files["simpy"]:
        if name == "manifest.json":
            manifests = [json.loads((f / name).read_text()) for f in (a, b)]
            assert manifests[0]["kernel"] == "simpy" and manifests[1]["kernel"] == "compiled"
            assert {k: v for k, v in manifests[0].items() if k not in VOLATILE} == {
                k: v for k, v in manifests[1].items() if k not in VOLATILE}  # fmt: skip
        elif name.endswith(".npz"):  # every array but the wall time and the stamp's checksum of it
            with np.load(a / name) as x, np.load(b / name) as y:
                assert x.files == y.files
                for field in x.files:
                    if field not in ("wall_seconds", STAMP):
                        assert np.array_equal(x[field], y[field]), (name, field)
        elif not name.startswith("."):  # the marker and lock files are the folder's own
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
