"""Interrupted runs resume to exactly the output of an uninterrupted run, without recomputing."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.engines.backends import run_replications
from sim.engines.simpy_engine import Result
from sim.io.workfolder import result_from_npz, result_to_npz
from sim.model import load_scenario

DATA = Path(__file__).parent / "data"
SCENARIO = str(DATA / "three_states.toml")
REPS = 30
OUTPUTS = ("monthly.csv", "annual.csv", "summary.csv", "scenario.json")


def _command(out: Path, *extra: str) -> list[str]:
    args = ["run", SCENARIO, "--years", "2", "-r", str(REPS), "-q", "--out", str(out), *extra]
    return [sys.executable, "-m", "sim", *args]


def test_sigint_then_resume_matches_uninterrupted_run(tmp_path):
    interrupted, reference = tmp_path / "interrupted", tmp_path / "reference"
    proc = subprocess.Popen(
        _command(interrupted),
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # pytest-xdist may ignore it
    )
    reps = interrupted / "replications"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and len(list(reps.glob("rep-*.npz"))) < 4:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "--resume" in stderr
    assert not (interrupted / "manifest.json").exists()  # incomplete, and visibly so
    saved = {p.name: p.stat().st_mtime_ns for p in reps.glob("rep-*.npz")}
    assert 4 <= len(saved) < REPS
    assert not list(reps.glob(".tmp-*"))  # no half-written replication left behind

    assert main(_command(interrupted, "--resume")[3:]) == 0
    assert main(_command(reference)[3:]) == 0

    for name in OUTPUTS:
        assert (interrupted / name).read_bytes() == (reference / name).read_bytes(), name
    manifest = json.loads((interrupted / "manifest.json").read_text())
    assert manifest["replications_reused"] == len(saved)
    assert manifest["replications_computed"] == REPS - len(saved)
    # nothing finished was recomputed: the saved files were not rewritten
    assert {p: (reps / p).stat().st_mtime_ns for p in saved} == saved


def test_existing_folder_needs_resume_or_force(tmp_path, capsys):
    out = tmp_path / "run"
    base = ["run", SCENARIO, "--years", "1", "-r", "2", "-q", "--out", str(out)]
    assert main(base) == 0
    before = (out / "annual.csv").read_bytes()
    assert main(base) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert main([*base, "--seed", "5", "--resume"]) == 2
    assert "seed" in capsys.readouterr().err
    assert main([*base, "--years", "2", "--resume"]) == 2  # a different (resolved) scenario
    assert "scenario_sha256" in capsys.readouterr().err
    assert (out / "annual.csv").read_bytes() == before  # refused runs touched nothing
    assert main([*base, "-r", "3", "--resume"]) == 0  # extend 2 -> 3 replications
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["replications_reused"], manifest["replications_computed"]) == (2, 1)
    assert main([*base, "--force"]) == 0
    assert (out / "annual.csv").read_bytes() == before
    assert len(list((out / "replications").glob("*.npz"))) == 2


def test_resume_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["run", SCENARIO, "--years", "1", "-r", "1", "-q", "--out", str(tmp_path), "--resume"]) == 2
    assert "not a resumable folder" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_npz_keeps_every_array_field_generically(tmp_path):
    result = run_replications(load_scenario(SCENARIO, overrides={"years": 1}), 1, 1)[0]
    probe = ("probe", np.ndarray, dataclasses.field(default=None))
    Extended = dataclasses.make_dataclass("Extended", [probe], bases=(Result,))
    extended = Extended(**{f.name: getattr(result, f.name) for f in dataclasses.fields(result)}, probe=np.arange(3.5))
    result_to_npz(extended, tmp_path / "x.npz")
    with np.load(tmp_path / "x.npz") as npz:
        assert set(npz.files) >= {"stock", "flows", "person_months", "probe", "clients", "replication"}
        assert npz["probe"].tolist() == [0.0, 1.0, 2.0, 3.0]
    back = result_from_npz(tmp_path / "x.npz")
    assert back.replication == result.replication and back.clients == result.clients
    assert back.flows.dtype == result.flows.dtype and (back.flows == result.flows).all()


@pytest.mark.parametrize("args", [["--resume"], ["--resume", "--force", "--out", "x"], ["--scheduler", "tcp://h:1"]])
def test_contradictory_options_exit_2(args, capsys):
    assert main(["run", SCENARIO, "--years", "1", "-r", "1", "-q", *args]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_force_refuses_a_folder_that_is_not_ours(tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("years of work")
    assert main(["run", SCENARIO, "--years", "1", "-r", "1", "-q", "--out", str(tmp_path), "--force"]) == 2
    assert "not a caseload-sim output folder" in capsys.readouterr().err
    assert (tmp_path / "thesis.tex").exists()
