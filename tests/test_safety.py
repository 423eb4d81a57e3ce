"""The output-safety rule (issue 14): nothing outside a command's own folder is ever deleted or overwritten.

Every writing command is tried with ``--force`` on a folder holding a user's
file; the file must survive, byte for byte, and nothing may be added. A second
writer of the same folder fails at once naming the lock; a lock left by a dead
process is taken over; ``--force`` replaces a folder of ours.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli import main
from sim.io.safety import (
    LOCK,
    MARKER,
    LockError,
    OutputError,
    check_new_file,
    claim_folder,
    file_is_ours,
    marker_data,
    merge_into,
    new_folder,
    read_marker,
    write_new_file,
)
from tests.conftest import DATA, ROOT

SCENARIO = str(DATA / "three_states.toml")
THESIS = b"PK\x03\x04 four years of work"  # what a .docx starts with, and what must never be lost
TARGETS = ROOT / "calibration" / "targets" / "utrecht.csv"


@pytest.fixture
def inputs(tmp_path):
    """A second scenario for compare and a sweep parameters file, outside the target folders."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "alt.toml").write_text(Path(SCENARIO).read_text().replace("value = 0.05,", "value = 0.06,", 1))
    (folder / "p.toml").write_text('[parameters."inflow.rate.value"]\nlow = 30\nhigh = 50\n')
    return folder


def writing_commands(inputs: Path, out: Path) -> dict[str, list[str]]:
    """Every command that writes a folder, with the cheapest arguments that would otherwise work."""
    short = ["-r", "1", "--years", "1"]
    return {
        "run": ["run", SCENARIO, *short, "-q"],
        "compare": ["compare", SCENARIO, str(inputs / "alt.toml"), *short],
        "sweep": ["sweep", SCENARIO, "--params", str(inputs / "p.toml"), "--method", "lhs", "--n", "10", *short],
        "monitor": ["monitor", SCENARIO, "--start", "2020-01-01", *short],
        "experiment": ["experiment", "weten-wat-werkt", "-r", "1"],
        "calibrate": ["calibrate", str(TARGETS), "--free", "inflow.rate", "--out", str(out / "cal.toml")],
    }


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("command", ["run", "compare", "sweep", "monitor", "experiment", "calibrate"])
@pytest.mark.parametrize("planted", ["thesis only", "a foreign manifest.json", "our marker and a thesis"])
def test_a_users_file_survives_every_writing_command_with_force(command, planted, inputs, tmp_path, capsys):
    out = tmp_path / "target"
    out.mkdir()
    (out / "thesis.docx").write_bytes(THESIS)
    if planted == "a foreign manifest.json":
        (out / "manifest.json").write_text('{"mine": true}')
    if planted == "our marker and a thesis":  # a folder we made, into which the user saved a file
        kind = {"calibrate": "calibration"}.get(command, command)
        (out / MARKER).write_text(json.dumps(marker_data(kind)))
    before = _listing(out)
    args = writing_commands(inputs, out)[command]
    target = out.with_name("target.fit") if command == "calibrate" else out
    if command == "calibrate":  # its folder is <out stem>.fit next to the --out file
        args[args.index("--out") + 1] = str(out.with_name("target.toml"))
        out.rename(target)
    else:
        args += ["--out", str(out)]
    started = time.monotonic()
    assert main([*args, "--force"]) == 2
    assert time.monotonic() - started < 10  # refused before any work
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.splitlines()) == 1, err
    assert ("not a folder caseload-sim made" in err) or ("did not write (" in err and "thesis.docx" in err), err
    assert _listing(target) == before  # not a byte changed, nothing added
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["inputs", target.name])


@pytest.mark.parametrize("command", ["goal-seek", "calibrate"])
def test_a_users_file_survives_as_an_output_file_with_force(command, tmp_path, capsys):
    thesis = tmp_path / "thesis.docx"
    thesis.write_bytes(THESIS)
    if command == "goal-seek":
        args = ["goal-seek", SCENARIO, "--lever", "inflow.rate", "--target", "inflow=500", "-r", "1", "--years", "1"]
    else:
        thesis = thesis.rename(tmp_path / "thesis.toml")  # calibrate writes a .toml
        args = ["calibrate", str(TARGETS), "--free", "inflow.rate"]
    assert main([*args, "--out", str(thesis), "--force"]) == 2
    assert "was not written by caseload-sim" in capsys.readouterr().err
    assert thesis.read_bytes() == THESIS
    assert sorted(p.name for p in tmp_path.iterdir()) == [thesis.name]


def test_calibrate_never_writes_over_its_own_inputs(tmp_path, capsys):
    base = tmp_path / "base.toml"
    base.write_text('extends = "parent.toml"\n')
    (tmp_path / "parent.toml").write_text((ROOT / "scenarios" / "utrecht_baseline.toml").read_text())
    draws = "utrecht_baseline.draws.csv"  # the parent's parameter draws, named relative to its folder
    (tmp_path / draws).write_bytes((ROOT / "scenarios" / draws).read_bytes())
    original = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for out in (base, tmp_path / "parent.toml", tmp_path / "." / "base.toml"):
        args = ["calibrate", str(TARGETS), "--scenario", str(base), "--free", "inflow.rate"]
        assert main([*args, "--out", str(out), "--force"]) == 2
        assert "is an input of this command" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == original


def test_calibrate_refuses_an_existing_file_without_force(tmp_path, capsys):
    out = tmp_path / "cal.toml"
    out.write_text("# mine\n")
    assert main(["calibrate", str(TARGETS), "--free", "inflow.rate", "--out", str(out)]) == 2
    assert "exists (use --force" in capsys.readouterr().err
    assert out.read_text() == "# mine\n"


def test_force_replaces_a_run_folder_of_ours_and_only_our_files(tmp_path):
    out = tmp_path / "run"
    args = ["run", SCENARIO, "-r", "2", "--years", "1", "-q", "--out", str(out)]
    assert main(args) == 0
    assert read_marker(out)["kind"] == "run" and not (out / LOCK).exists()
    first = (out / "annual.csv").read_bytes()
    (out / "replications" / "rep-000001.npz").write_bytes(b"stale")
    assert main([*args, "--force"]) == 0
    assert (out / "annual.csv").read_bytes() == first  # the same run again
    assert (out / "replications" / "rep-000001.npz").read_bytes() != b"stale"


def test_a_second_writer_fails_fast_naming_the_lock(tmp_path, capsys):
    """Acceptance 2 of issue 14: while one process writes a folder, another is refused at once."""
    out = tmp_path / "run"
    args = ["run", SCENARIO, "-r", "2", "--years", "1", "-q", "--out", str(out)]
    assert main(args) == 0
    before = _listing(out)
    with claim_folder(out, "run", resume=True):  # this test process is the first writer
        started = time.monotonic()
        assert main([*args, "--force", "--seed", "2"]) == 2
        assert time.monotonic() - started < 10  # refused at once, not after waiting or simulating
        err = capsys.readouterr().err
        assert err.startswith("error: ") and f"{LOCK}: locked by process {os.getpid()}" in err
        # a second process sees the same lock (the pid in it is alive)
        other = subprocess.run([sys.executable, "-m", "sim", *args, "--resume"], capture_output=True, text=True,
                               timeout=120)  # fmt: skip
        assert other.returncode == 2 and f"locked by process {os.getpid()}" in other.stderr, other.stderr
        assert "Traceback" not in other.stderr
    assert {k: v for k, v in _listing(out).items() if k != MARKER} == {k: v for k, v in before.items() if k != MARKER}


def test_two_real_runs_into_one_folder_never_mix(tmp_path):
    out = tmp_path / "run"
    slow = [sys.executable, "-m", "sim", "run", SCENARIO, "-r", "40", "--years", "3", "-q", "--out", str(out)]
    first = subprocess.Popen(slow, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "replications").is_dir() and time.monotonic() < deadline:
            time.sleep(0.02)
        second = subprocess.run([*slow[:-2], "--out", str(out), "--force", "--seed", "2"], capture_output=True,
                                text=True, timeout=300)  # fmt: skip
    finally:
        _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    if second.returncode == 0:  # only possible if the first had already finished: then the second replaced it
        assert manifest["seed"] == 2
    else:
        assert second.returncode == 2 and "locked by process" in second.stderr, second.stderr
        assert manifest["seed"] == 1
    assert manifest["replications"] == 40 and len(list((out / "replications").glob("rep-*.npz"))) == 40
    assert not (out / LOCK).exists()


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    out = tmp_path / "run"
    with claim_folder(out, "run"):
        pass
    (out / LOCK).write_text(f"{dead.stdout.strip()} {os.uname().nodename} 0\n")  # as a SIGKILLed run leaves it
    with claim_folder(out, "run", resume=True) as claim:
        assert (out / LOCK).read_text().split()[0] == str(os.getpid())
        with pytest.raises(LockError, match=f"locked by process {os.getpid()}"):
            claim_folder(out, "run", resume=True)  # held by a live process: refused
    assert not (out / LOCK).exists()
    assert claim.path == out


def test_a_lock_of_another_machine_is_never_taken_over(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / MARKER).write_text(json.dumps(marker_data("run")))
    (out / LOCK).write_text("1 some-other-host 0\n")
    with pytest.raises(LockError, match="process 1 on some-other-host"):
        claim_folder(out, "run", resume=True)


def test_a_failed_command_removes_the_folder_it_made_but_an_interrupted_one_keeps_it(tmp_path):
    made = tmp_path / "made"
    with pytest.raises(RuntimeError), claim_folder(made, "run") as claim:
        (claim.path / "annual.csv").write_text("half")
        raise RuntimeError("boom")
    assert not made.exists()
    with pytest.raises(KeyboardInterrupt), claim_folder(made, "run") as claim:
        (claim.path / "annual.csv").write_text("half")
        raise KeyboardInterrupt
    assert (made / "annual.csv").exists() and not (made / LOCK).exists()  # kept for --resume
    mine = tmp_path / "mine"
    mine.mkdir()
    with pytest.raises(RuntimeError), claim_folder(mine, "run") as claim:  # the user's empty folder
        (claim.path / "annual.csv").write_text("half")
        raise RuntimeError("boom")
    assert mine.is_dir() and list(mine.iterdir()) == []  # emptied of our files, the folder itself stays


def test_a_target_that_is_a_file_or_a_link_is_refused(tmp_path):
    (tmp_path / "file").write_bytes(THESIS)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    for name in ("file", "link"):
        with pytest.raises(OutputError, match="exists and is not a folder"):
            claim_folder(tmp_path / name, "run", force=True)
    assert (tmp_path / "file").read_bytes() == THESIS


def test_force_on_a_folder_of_another_kind_is_refused(tmp_path):
    out = tmp_path / "cmp"
    with claim_folder(out, "compare") as claim:
        (claim.path / "comparison.csv").write_text("x")
    with pytest.raises(OutputError, match="a caseload-sim compare folder, not a run folder"):
        claim_folder(out, "run", force=True)
    assert (out / "comparison.csv").read_text() == "x"


def test_a_symlink_inside_our_folder_is_not_followed(tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "a.png").write_bytes(THESIS)
    out = tmp_path / "run"
    with claim_folder(out, "run"):
        pass
    (out / "charts").symlink_to(precious)  # charts/ is ours by name, but this one points elsewhere
    with pytest.raises(OutputError, match="did not write"):
        claim_folder(out, "run", force=True)
    assert (precious / "a.png").read_bytes() == THESIS


def test_new_folders_get_a_fresh_name_when_taken(tmp_path):
    with new_folder("run", "x", base=tmp_path) as a, new_folder("run", "x", base=tmp_path) as b:
        assert a.path != b.path and a.path.parent == b.path.parent == tmp_path


def test_file_outputs_need_force_and_our_marker(tmp_path):
    path = tmp_path / "result.json"
    write_new_file(path, json.dumps({"caseload_sim": marker_data("goal-seek")}).encode(), force=False)
    assert file_is_ours(path)
    with pytest.raises(OutputError, match="exists"):
        write_new_file(path, b"{}", force=False)
    write_new_file(path, b'{"caseload_sim": {"package": "caseload-sim", "format": 1}, "v": 2}', force=True)
    assert json.loads(path.read_text())["v"] == 2
    (tmp_path / "notes.json").write_text('{"mine": 1}')
    with pytest.raises(OutputError, match="not written by caseload-sim"):
        check_new_file(tmp_path / "notes.json", force=True)
    with pytest.raises(OutputError, match="not a regular file"):
        check_new_file(tmp_path, force=True)


def test_publishing_outputs_merges_and_never_removes_other_files(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "charts").mkdir(parents=True)
    (src / "charts" / "a.png").write_bytes(b"new")
    (src / "annual.csv").write_bytes(b"new")
    (dst / "charts").mkdir(parents=True)
    (dst / "charts" / "a.png").write_bytes(b"old")
    (dst / "charts" / "b.png").write_bytes(b"other")
    merge_into(src, dst)
    assert _listing(dst) == {"annual.csv": b"new", "charts/a.png": b"new", "charts/b.png": b"other"}


def test_monitor_writes_into_its_own_new_folder_not_the_current_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "monitor_programme.csv").write_text("the user's own monitor")
    assert main(["monitor", SCENARIO, "--start", "2020-01-01", "-r", "1", "--years", "1"]) == 0
    folder = Path(capsys.readouterr().out.splitlines()[-1])
    written = {"monitor_programme.csv", "monitor_programme.png", "manifest.json"}
    assert folder.parent == Path("runs") and written <= set(os.listdir(folder))
    assert (tmp_path / "monitor_programme.csv").read_text() == "the user's own monitor"
    assert sorted(os.listdir(tmp_path)) == ["monitor_programme.csv", "runs"]


def test_goal_seek_out_is_a_new_file_and_force_replaces_only_its_own(tmp_path, capsys):
    out = tmp_path / "g.json"
    args = ["goal-seek", SCENARIO, "--lever", "inflow.rate", "--target", "inflow=500", "--year", "2020",
            "--range", "30", "60", "-r", "1", "--years", "1", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    data = json.loads(out.read_text())
    assert data["caseload_sim"]["kind"] == "goal-seek" and 30 <= data["value"] <= 60
    assert main(args) == 2 and "exists (use --force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


def test_the_calibration_script_replaces_tracked_files_only_when_asked(tmp_path):
    """calibrate_utrecht.sh writes a new folder; only --install copies over calibration/report/."""
    repo = tmp_path / "repo"
    (repo / "calibration" / "report" / "utrecht_calibrated.fit").mkdir(parents=True)
    script = repo / "calibration" / "calibrate_utrecht.sh"
    script.write_bytes((ROOT / "calibration" / "calibrate_utrecht.sh").read_bytes())
    script.chmod(0o755)
    tracked = repo / "calibration" / "report" / "utrecht_calibrated.toml"
    tracked.write_text("# the committed calibration\n")
    (tracked.parent / "utrecht_calibrated.fit" / "fit.csv").write_text("committed\n")
    (repo / "scenarios").mkdir()
    (repo / "scenarios" / "corona_2020.toml").write_text('extends = "utrecht_baseline.toml"\n')
    baseline = repo / "scenarios" / "utrecht_baseline.toml"
    baseline.write_text("# the committed baseline\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "caseload-sim"  # stands in for the real fit (minutes): writes what calibrate and backtest write
    stub.write_text('#!/usr/bin/env bash\ncmd="$1"\nwhile [ "$1" != "--out" ]; do shift; done\nout="$2"\n'
                    'if [ "$cmd" = backtest ]; then mkdir -p "$out"; for f in validation.csv validation.png manifest.json; '
                    'do echo new > "$out/$f"; done; exit 0; fi\n'
                    'mkdir -p "${out%.toml}.fit"\necho "# new" > "$out"\necho new > "${out%.toml}.draws.csv"\n'
                    'for f in fit.csv covariance.csv correlations.csv manifest.json fit.png; do echo new > "${out%.toml}.fit/$f"; done\n'
                    'printf "parameter,scale,fitted,posterior_sd\\ninflow.rate,log,1.0,0.1\\n" > "${out%.toml}.fit/identifiability.csv"\n'
                    'printf "parameter,start,fitted\\ninflow.rate,1.0,1.0\\n" > "${out%.toml}.fit/parameters.csv"\n')  # fmt: skip
    stub.chmod(0o755)
    env = os.environ | {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run([str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert tracked.read_text() == "# the committed calibration\n"  # untouched without --install
    assert (tracked.parent / "utrecht_calibrated.fit" / "fit.csv").read_text() == "committed\n"
    assert baseline.read_text() == "# the committed baseline\n"
    [new] = list((repo / "runs").iterdir())
    assert (new / "utrecht_calibrated.toml").read_text() == "# new\n"
    time.sleep(1.1)  # the next run gets its own timestamped folder
    done = subprocess.run([str(script), "--install"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert tracked.read_text() == "# new\n"
    assert (tracked.parent / "utrecht_calibrated.fit" / "fit.csv").read_text() == "new\n"
    assert baseline.read_text() == "# new\n" and (repo / "scenarios" / "utrecht_baseline.draws.csv").read_text() == "new\n"
    assert (repo / "calibration" / "validation" / "pseudo_2019" / "validation.csv").read_text() == "new\n"
    assert subprocess.run([str(script), "--bogus"], cwd=tmp_path, env=env, capture_output=True).returncode == 2


def test_the_backtest_follows_the_same_rule(tmp_path, capsys):
    out = tmp_path / "target"
    out.mkdir()
    (out / "thesis.docx").write_bytes(THESIS)
    assert main(["backtest", "--scenario", SCENARIO, "--targets", str(TARGETS), "--out", str(out), "--force"]) == 2
    assert "not a folder caseload-sim made" in capsys.readouterr().err
    assert _listing(out) == {"thesis.docx": THESIS}
    done = subprocess.run([sys.executable, "-m", "sim", "backtest", "--scenario", SCENARIO,
                           "--targets", str(TARGETS), "--out", str(out), "--force"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2 and done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert _listing(out) == {"thesis.docx": THESIS}
