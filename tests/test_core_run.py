"""`caseload-sim run`: the files it writes, and byte-identical reruns (same seed, any worker count)."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import DATA


def _run(out, *extra):
    cmd = [sys.executable, "-m", "sim", "run", *extra, "--seed", "1", "--out", str(out), "--quiet"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    # the bundled default (no scenario argument), shortened to keep CI fast
    return _run(tmp_path_factory.mktemp("run") / "out", "--replications", "4", "--years", "3", "--workers", "2")


def test_run_writes_every_promised_file(default_run):
    for name in ("monthly.csv", "annual.csv", "summary.csv", "charts/caseload.png", "manifest.json"):
        assert (default_run / name).is_file(), name
    monthly = pd.read_csv(default_run / "monthly.csv")
    for column in ("replication", "month", "state", "stock", "inflow", "exits_work", "exits_other", "movements"):
        assert column in monthly.columns
    annual = pd.read_csv(default_run / "annual.csv")
    assert {"replication", "year", "caseload_end", "inflow", "exits_work", "exits_other", "movements"} <= set(annual)
    assert sorted(annual["year"].unique()) == [2015, 2016, 2017]
    summary = pd.read_csv(default_run / "summary.csv")
    assert {"metric", "year", "mean", "p5", "p50", "p95"} <= set(summary.columns)
    manifest = json.loads((default_run / "manifest.json").read_text())
    for key in ("scenario_sha256", "seed", "replications", "version", "wall_seconds", "simpy_events", "clients_simulated"):
        assert key in manifest
    assert manifest["clients_simulated"] > 4 * 10_000  # the initial caseload alone is ~10k a replication


def test_monthly_stocks_add_up_to_annual_caseload(default_run):
    monthly = pd.read_csv(default_run / "monthly.csv")
    annual = pd.read_csv(default_run / "annual.csv")
    december = monthly[(monthly["month"] % 12 == 0) & monthly["on_caseload"]]
    totals = december.groupby(["replication", "month"])["stock"].sum().to_numpy()
    assert (totals == annual.sort_values(["replication", "year"])["caseload_end"].to_numpy()).all()


def test_same_seed_gives_byte_identical_annual_csv_on_any_worker_count(default_run, tmp_path):
    one = _run(tmp_path / "one", "--replications", "4", "--years", "3", "--workers", "1")
    again = _run(tmp_path / "again", "--replications", "4", "--years", "3", "--workers", "1")
    reference = (default_run / "annual.csv").read_bytes()  # made with --workers 2
    assert (one / "annual.csv").read_bytes() == reference
    assert (again / "annual.csv").read_bytes() == reference
    assert (one / "monthly.csv").read_bytes() == (default_run / "monthly.csv").read_bytes()


def test_a_different_seed_gives_different_numbers(default_run, tmp_path):
    other = tmp_path / "other"
    cmd = [sys.executable, "-m", "sim", "run", "--replications", "4", "--years", "3", "--seed", "2", "--out", str(other), "-q"]
    assert subprocess.run(cmd, capture_output=True, timeout=600).returncode == 0
    assert (other / "annual.csv").read_bytes() != (default_run / "annual.csv").read_bytes()


def test_validate_names_the_key_and_exits_2(tmp_path):
    text = (DATA / "three_states.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("rate = { value = 0.05,", "rate = { value = -0.05,").replace("[states.b]", "[states.b]\ncolour = 'red'"))
    done = subprocess.run([sys.executable, "-m", "sim", "validate", str(bad)], capture_output=True, text=True)
    assert done.returncode == 2
    assert "states.a.transitions.work.rate.value: must be >= 0" in done.stderr
    assert "states.b.colour: unknown key" in done.stderr
    assert "Traceback" not in done.stderr
    ok = subprocess.run([sys.executable, "-m", "sim", "validate", str(DATA / "three_states.toml")], capture_output=True)
    assert ok.returncode == 0
