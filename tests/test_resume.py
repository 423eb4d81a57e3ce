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
    # the SimPy engine: on the compiled one all 30 replications can finish between the poll that sees 4 and
    # the SIGINT landing, and the interruption this test is about would not happen
    args = ["run", SCENARIO, "--years", "2", "-r", str(REPS), "--kernel", "simpy", "-q", "--out", str(out), *extra]
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
    assert "refusing to resume in it" in capsys.readouterr().err
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
    assert "not a folder caseload-sim made" in capsys.readouterr().err
    assert (tmp_path / "thesis.tex").exists()


def _corrupt(reps: Path) -> dict[str, str]:
    """Damage four saved replications in four ways; returns file name -> how."""
    flipped = bytearray((reps / "rep-000003.npz").read_bytes())
    middle = len(flipped) // 2
    flipped[middle : middle + 4] = bytes(b ^ 0xFF for b in flipped[middle : middle + 4])
    (reps / "rep-000003.npz").write_bytes(bytes(flipped))
    (reps / "rep-000005.npz").write_bytes((reps / "rep-000005.npz").read_bytes()[:1000])
    (reps / "rep-000007.npz").write_bytes(b"")
    (reps / "rep-000009.npz").write_bytes((reps / "rep-000002.npz").read_bytes())  # a valid file of replication 2
    return {"rep-000003.npz": "flipped", "rep-000005.npz": "truncated", "rep-000007.npz": "empty",
            "rep-000009.npz": "copied"}  # fmt: skip


def test_resume_names_sets_aside_and_recomputes_corrupted_replications(tmp_path):
    """Acceptance 3 of issue 14: a damaged file is named, kept aside, recomputed; the tables are byte-identical."""
    reference, damaged = tmp_path / "reference", tmp_path / "damaged"
    args = ["run", SCENARIO, "--years", "1", "-r", "12", "-q"]
    assert main([*args, "--out", str(reference)]) == 0
    assert main([*args, "--out", str(damaged)]) == 0
    reps = damaged / "replications"
    how = _corrupt(reps)
    untouched = {p.name: p.stat().st_mtime_ns for p in reps.glob("rep-*.npz") if p.name not in how}
    proc = subprocess.run([sys.executable, "-m", "sim", *args, "--out", str(damaged), "--resume"],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    warnings = proc.stderr.splitlines()
    assert len(warnings) == len(how) and all(w.startswith("warning: ") for w in warnings), proc.stderr
    for name in how:
        assert any(name in w and f"set aside as {name}.bad" in w for w in warnings), (name, proc.stderr)
        assert (reps / f"{name}.bad").exists()  # set aside, not deleted
    assert "written for replication 2" in proc.stderr  # the copied file is caught by its stamp
    for name in OUTPUTS:
        assert (damaged / name).read_bytes() == (reference / name).read_bytes(), name
    manifest = json.loads((damaged / "manifest.json").read_text())
    assert (manifest["replications_reused"], manifest["replications_computed"]) == (12 - len(how), len(how))
    assert {n: (reps / n).stat().st_mtime_ns for n in untouched} == untouched  # good files were reused
    assert main([*args, "--out", str(damaged), "--force"]) == 0  # the .bad files are ours: --force clears them
    assert not list(reps.glob("*.bad"))


def test_a_replication_of_another_scenario_or_version_is_not_reused(tmp_path, monkeypatch):
    from sim.io.workfolder import BadUnit

    result = run_replications(load_scenario(SCENARIO, overrides={"years": 1}), 1, 1)[0]
    path = tmp_path / "rep-000000.npz"
    result_to_npz(result, path, {"scenario_sha256": "abc", "seed": 1})
    assert result_from_npz(path, {"scenario_sha256": "abc", "replication": 0}).clients == result.clients
    with pytest.raises(BadUnit, match="written for scenario_sha256 'abc'"):
        result_from_npz(path, {"scenario_sha256": "def"})
    with pytest.raises(BadUnit, match="version"):
        result_from_npz(path, {"version": "99.0"})
    np.savez(path, stock=result.stock)  # a plain npz without a stamp (e.g. from an older version)
    with pytest.raises(BadUnit, match="carries no checksum"):
        result_from_npz(path)


def test_replication_files_are_fsynced_before_the_rename(tmp_path, monkeypatch):
    import sim.io.safety as safety

    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(safety.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(safety.os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    result = run_replications(load_scenario(SCENARIO, overrides={"years": 1}), 1, 1)[0]
    result_to_npz(result, tmp_path / "rep-000000.npz")
    assert calls[:2] == ["fsync", "replace"]  # the data is on disk before the name points at it


def _children(pid: int) -> set[int]:
    out = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            pass
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_pool_workers_end_when_run_is_killed(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "run", SCENARIO, "--years", "5", "-r", "60", "-w", "2", "-q",
                             "--out", str(out)], stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while time.monotonic() < deadline and len(workers) < 2:
            workers = _children(proc.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, "the pool did not start"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.05)
        assert not any(_alive(w) for w in workers), "pool workers outlived their SIGKILLed parent"
    finally:
        proc.kill()
        for w in workers if "workers" in locals() else ():
            try:
                os.kill(w, signal.SIGKILL)
            except ProcessLookupError:
                pass
    # the lock of the killed run is stale: --resume takes it over and finishes the run
    assert main(["run", SCENARIO, "--years", "5", "-r", "60", "-q", "--out", str(out), "--resume"]) == 0
