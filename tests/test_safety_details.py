"""Edge cases of the safety modules: markers, locks, temporaries, input files, option types, exit codes."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from sim.cli import main, options
from sim.io import safety
from sim.io.safety import LOCK, MARKER, OutputError, claim_folder, file_is_ours, marker_data, merge_into, read_marker
from sim.io.workfolder import BadUnit, WorkFolder
from sim.util.inputs import InputError, read_input, read_input_text
from tests.conftest import DATA

SCENARIO = str(DATA / "three_states.toml")


@pytest.mark.parametrize(
    "text",
    ["not json", "[1, 2]", json.dumps(marker_data("run") | {"package": "other"}),
     json.dumps(marker_data("run") | {"format": 99}), json.dumps(marker_data("run") | {"kind": "thesis"})],
)  # fmt: skip
def test_a_marker_we_did_not_write_is_not_trusted(text, tmp_path):
    (tmp_path / MARKER).write_text(text)
    (tmp_path / "annual.csv").write_text("theirs")
    assert read_marker(tmp_path) is None
    with pytest.raises(OutputError, match="not a folder caseload-sim made"):
        claim_folder(tmp_path, "run", force=True)
    assert (tmp_path / "annual.csv").read_text() == "theirs"


def test_unknown_kind_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError, match="unknown output kind"):
        claim_folder(tmp_path / "x", "thesis")


def test_temporaries_of_an_interrupted_writer_are_removed_on_the_next_start(tmp_path):
    out = tmp_path / "run"
    with claim_folder(out, "run"):
        (out / ".tmp-outputs-abc").mkdir()
        (out / ".tmp-outputs-abc" / "annual.csv").write_text("half")
        (out / "replications").mkdir()
        (out / "replications" / ".tmp-xyz").write_bytes(b"half")
    with claim_folder(out, "run", resume=True):
        assert not (out / ".tmp-outputs-abc").exists() and not (out / "replications" / ".tmp-xyz").exists()


def test_an_empty_lock_is_stale_only_when_old(tmp_path):
    out = tmp_path / "run"
    with claim_folder(out, "run"):
        pass
    (out / LOCK).write_text("")  # a writer that died between creating and filling its lock
    with pytest.raises(safety.LockError, match="another process"):
        claim_folder(out, "run", resume=True)
    old = time.time() - 3600
    os.utime(out / LOCK, (old, old))
    with claim_folder(out, "run", resume=True):
        assert (out / LOCK).read_text().split()[0] == str(os.getpid())


def test_file_markers(tmp_path):
    toml = tmp_path / "cal.toml"
    toml.write_text(f"{safety.FILE_MARKER_TOML} calibrate 0.1.0\nname = 'x'\n")
    assert file_is_ours(toml)
    toml.write_text("name = 'x'\n")
    assert not file_is_ours(toml)
    broken = tmp_path / "g.json"
    broken.write_text("{ not json")
    assert not file_is_ours(broken)
    assert not file_is_ours(tmp_path / "missing.json")
    link = tmp_path / "link.toml"
    link.symlink_to(toml)
    with pytest.raises(OutputError, match="not a regular file"):
        safety.check_new_file(link, force=True)


def test_merging_refuses_to_put_a_file_where_a_folder_is(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    (src / "charts").write_text("a file")
    (dst / "charts").mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match="a folder where caseload-sim writes a file"):
        merge_into(src, dst)
    (src / "charts").unlink()
    (src / "charts").mkdir()
    (src / "charts" / "a.png").write_text("png")
    (dst / "charts").rmdir()
    (dst / "charts").write_text("a stray file of ours in the way")
    merge_into(src, dst)
    assert (dst / "charts" / "a.png").read_text() == "png"


def test_a_file_that_appears_while_writing_is_not_overwritten(tmp_path, monkeypatch):
    def appeared(path, data, replace=True):
        raise FileExistsError(path)

    monkeypatch.setattr(safety, "atomic_write_bytes", appeared)
    with pytest.raises(OutputError, match="another process wrote it meanwhile"):
        safety.write_new_file(tmp_path / "x.json", b"{}", force=False)


# --- input files -----------------------------------------------------------------------------------


def test_input_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_input(tmp_path / "missing.toml")
    big = tmp_path / "big"
    big.write_bytes(b"x" * 100)
    with pytest.raises(InputError, match="more than 10"):
        read_input(big, max_bytes=10)
    (tmp_path / "latin1.toml").write_bytes("naam = 'é'".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_input_text(tmp_path / "latin1.toml")
    locked = tmp_path / "locked.toml"
    locked.write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        read_input(locked / "below")


def test_unreadable_input_is_named(tmp_path, monkeypatch):
    path = tmp_path / "s.toml"
    path.write_text("x = 1")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(InputError, match="permission denied"):
        read_input(path)


# --- work folders ----------------------------------------------------------------------------------


def test_work_folder_identity_and_bad_units(tmp_path, capsys):
    folder = WorkFolder(tmp_path, {"seed": 1}, sub="points", unit="point", suffix=".json")
    folder.open(resume=False)
    (tmp_path / "run.json").write_text("not json")
    with pytest.raises(ValueError, match="unreadable"):
        folder.open(resume=True)
    for i in (0, 1):
        folder.path(i).write_text("{}")
    (folder.dir / "point-000000.json.bad").write_text("an earlier bad copy")

    def check(path, index):
        if index == 0:
            raise BadUnit(f"{path}: broken")

    assert folder.reusable(range(2), check) == {1}
    assert (folder.dir / "point-000000.json.bad-2").exists()  # the earlier .bad is kept too
    assert "set aside as point-000000.json.bad-2" in capsys.readouterr().err


def test_a_damaged_sweep_point_is_recomputed(tmp_path):
    from sim.analysis.sweep import load_point, save_point

    path = tmp_path / "point-000000.json"
    save_point(path, {"point": 0, "outputs": {"x": 1.0}}, {"version": "v"})
    assert load_point(path, {"point": 0, "version": "v"})["outputs"] == {"x": 1.0}
    data = json.loads(path.read_text())
    data["outputs"]["x"] = 2.0
    path.write_text(json.dumps(data))
    with pytest.raises(BadUnit, match="checksum"):
        load_point(path, {})
    path.write_text("{")
    with pytest.raises(BadUnit, match="not a readable point file"):
        load_point(path, {})
    save_point(path, {"point": 3}, {"version": "v"})
    with pytest.raises(BadUnit, match="written for point 3"):
        load_point(path, {"point": 0})


# --- option types and exit codes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parse", "text", "words"),
    [
        (options.positive_float, "x", "expected a number"),
        (options.positive_float, "-1", "> 0"),
        (options.positive_float, "nan", "> 0"),
        (options.finite_float, "x", "expected a number"),
        (options.finite_float, "inf", "finite"),
        (options.date, "2020-13-01", "YYYY-MM-DD"),
        (options.date, "next week", "YYYY-MM-DD"),
        (options.quarter_start, "2020-02-01", "first day of a quarter"),
        (options.seed, "1e3", "whole number"),
        (options.replications, "0", ">= 1"),
    ],
)
def test_option_types_say_what_is_wrong(parse, text, words):
    with pytest.raises(argparse.ArgumentTypeError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse(text)


def test_option_types_accept_good_values():
    assert options.positive_float("0.5") == 0.5 and options.finite_float("-2") == -2.0
    assert options.quarter_start("2019-07-01").month == 7 and options.seed("0") == 0


def test_debug_shows_the_traceback_of_an_unexpected_error(capsys, monkeypatch):
    import sim.model.compiled as validate  # the validate command imports compile_scenario when it runs

    monkeypatch.setattr(validate, "compile_scenario", lambda s: 1 / 0)
    monkeypatch.setenv("CASELOAD_SIM_DEBUG", "1")
    assert main(["validate", SCENARIO]) == 70
    err = capsys.readouterr().err
    assert "Traceback" in err and err.splitlines()[-1].startswith("error: internal error")


@pytest.mark.parametrize(("exc", "code", "words"), [(MemoryError(), 74, "out of memory"),
                                                    (KeyboardInterrupt(), 130, "interrupted")])  # fmt: skip
def test_memory_and_interruption_are_one_line(exc, code, words, capsys, monkeypatch):
    import sim.model.compiled as validate  # the validate command imports compile_scenario when it runs

    def fail(scenario):
        raise exc

    monkeypatch.setattr(validate, "compile_scenario", fail)
    assert main(["validate", SCENARIO]) == code
    assert capsys.readouterr().err == f"error: {words}{'; use fewer replications, years or households' if code == 74 else ''}\n"


def test_help_and_version_exit_0(capsys):
    assert main(["--version"]) == 0
    assert "caseload-sim" in capsys.readouterr().out


def test_sigterm_interrupts_a_run_which_can_then_be_resumed(tmp_path):
    out = tmp_path / "run"
    args = [sys.executable, "-m", "sim", "run", SCENARIO, "--years", "3", "-r", "40", "-q", "--out", str(out)]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and len(list(out.glob("replications/rep-*.npz"))) < 2:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:  # the run finished before the signal arrived: nothing to check
        pytest.skip("the run finished first")
    assert proc.returncode == 130, err
    assert err.startswith("error: interrupted") and f"--resume --out {out}" in err and "Traceback" not in err
    assert not (out / LOCK).exists()
    assert main(["run", SCENARIO, "--years", "3", "-r", "40", "-q", "--out", str(out), "--resume"]) == 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_while_a_replication_is_saved_waits_for_the_archive(tmp_path, monkeypatch, signum):
    """A signal that arrives inside np.savez is held until the archive is complete, then raised as the interrupt
    it is: zipfile interrupted half-way raised a ValueError that hid it (a run reported an error, not 'stopped
    for --resume'). Without the hold the signal interrupts the save at once and 'finished' stays False."""
    import numpy as np

    from sim.engines.result import Result
    from sim.io import workfolder

    finished = []
    real = np.savez

    def savez(buffer, **arrays):
        os.kill(os.getpid(), signum)
        for _ in range(1000):  # the interpreter runs a signal's handler between bytecodes, soon after the kill
            pass
        real(buffer, **arrays)
        finished.append(True)

    monkeypatch.setattr(workfolder.np, "savez", savez)
    result = Result(replication=0, stock=np.zeros((2, 2)), flows=np.zeros((2, 2, 2)), person_months=np.zeros((2, 2)),
                    events_processed=0, clients=0, wall_seconds=0.0)  # fmt: skip
    with pytest.raises(KeyboardInterrupt) as caught:
        workfolder.result_to_npz(result, tmp_path / "rep.npz")
    assert finished == [True]
    assert not (tmp_path / "rep.npz").exists()  # nothing half written: the file comes after the archive
    assert str(caught.value) == ("terminated" if signum == signal.SIGTERM else "")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handlers are given back


def test_die_with_parent_in_a_child_process():
    code = ("import os, time\nfrom sim.engines.backends import worker_init\nworker_init()\n"
            "print('ok', flush=True)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr


def test_parameters_and_scenarios_commands(capsys):
    assert main(["parameters", "wassenaar_region"]) == 0
    assert capsys.readouterr().out.startswith("# Parameters:")
    assert main(["scenarios"]) == 0
    assert "utrecht_baseline" in capsys.readouterr().out
