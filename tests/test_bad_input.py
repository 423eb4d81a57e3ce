"""The hostile-input corpus: every broken scenario exits 2 with an error naming the problem.

``tests/data/bad/expected.toml`` pairs each file with the words its error must
contain. Each file is run through ``validate`` and ``run``; neither may print a
traceback, take 10 seconds, or leave a file or folder behind. Hostile inputs
that are not scenario files (devices, FIFOs, huge generated files, command-line
options, missing paths) are tests below.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from sim import compile_scenario
from sim.cli import main
from sim.model import ScenarioError, load_scenario
from sim.model.limits import MAX_LEVERS, MAX_REPLICATIONS, MAX_SCENARIO_NAME
from sim.model.loader import BUNDLED, MAX_BYTES

BAD = Path(__file__).parent / "data" / "bad"
DATA = Path(__file__).parent / "data"
EXPECTED = tomllib.loads((BAD / "expected.toml").read_text())
# Refused by the lead's checks in the compiled model (effective rates, overflow); until they land these
# pass validation, so only `validate` is tried (a `run` of e.g. a x1000 inflow would take minutes).
# cases refused by the compiled model's checks (rates after every factor): only `validate` is tried, because
# a `run` of some would first spend minutes in an unrefused earlier version
COMPILED_MODEL = {
    "band_multiplier_huge", "levers_stacked", "inflow_lever_x1000", "caseload_norm_tiny", "elasticity_huge",
    "elasticity_negative_no_productivity", "fte_huge",
}  # fmt: skip
SECONDS = 10  # acceptance 1 of issue 14: every hostile case is refused within 10 s


def _cases():
    for name in sorted(EXPECTED):
        for command in ("validate", "run"):
            yield pytest.param(name, command)


def assert_one_clean_error(err: str, *words: str) -> None:
    """stderr is ``error:`` lines only, no traceback, and names every word (case-insensitive)."""
    lines = err.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), err
    assert "Traceback" not in err
    for word in words:
        assert word.lower() in err.lower(), f"{word!r} not in {err!r}"


def test_corpus_is_complete():
    files = {p.stem for p in BAD.glob("*.toml")} - {"expected"}
    assert files == set(EXPECTED), "every corpus file needs expected words, and every entry a file"
    assert len(files) >= 60
    for part in ("base", "budget", "team"):  # the bases are valid: each failure is the file's own
        load_scenario(BAD / "parts" / f"{part}.toml")


@pytest.mark.parametrize(("name", "command"), list(_cases()))
def test_bad_file_exits_2_naming_the_problem(name, command, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a default output folder would appear here
    path = BAD / f"{name}.toml"
    out = tmp_path / "out"
    args = [command, str(path)] + (["--out", str(out), "-r", "1", "-q"] if command == "run" else [])
    started = time.monotonic()
    code = main(args)
    assert time.monotonic() - started < SECONDS
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert captured.out == ""
    assert_one_clean_error(captured.err, *EXPECTED[name])
    assert list(tmp_path.iterdir()) == []  # no output folder, nothing under runs/


def test_oversized_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text("# padding\n" * (MAX_BYTES // 10 + 1))
    with pytest.raises(ScenarioError, match="more than"):
        load_scenario(path)


def test_extends_through_a_symlink_cannot_escape(tmp_path):
    outside = tmp_path / "outside.toml"
    outside.write_text((BAD / "parts" / "base.toml").read_text())
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "link.toml").symlink_to(outside)
    (folder / "child.toml").write_text('extends = "link.toml"\n')
    with pytest.raises(ScenarioError, match="outside the scenario folder"):
        load_scenario(folder / "child.toml")


@pytest.mark.parametrize("name", ["extends_escape", "not_utf8", "bomb_deep_arrays", "years_bool"])
def test_real_process_prints_no_traceback(name, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(BAD / f"{name}.toml"), "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2
    assert_one_clean_error(proc.stderr)
    assert list(tmp_path.iterdir()) == []


# --- files that are not regular files, or too big to keep in the repository -------------------------


@pytest.mark.parametrize("kind", ["device", "fifo", "folder"])
def test_only_regular_files_are_read(kind, tmp_path, capsys):
    if kind == "device":
        path = Path("/dev/zero")  # reading it whole would exhaust memory
    elif kind == "fifo":
        path = tmp_path / "pipe.toml"
        os.mkfifo(path)  # reading it would block forever: no writer
    else:
        path = tmp_path / "folder.toml"
        path.mkdir()
    started = time.monotonic()
    assert main(["validate", str(path)]) == 2
    assert time.monotonic() - started < SECONDS
    assert_one_clean_error(capsys.readouterr().err, str(path), "folder" if kind == "folder" else "not a regular file")


def test_a_fifo_as_sweep_parameters_or_targets_is_refused(tmp_path, capsys):
    fifo = tmp_path / "p.toml"
    os.mkfifo(fifo)
    assert main(["sweep", str(DATA / "three_states.toml"), "--params", str(fifo), "--out", str(tmp_path / "o")]) == 2
    assert_one_clean_error(capsys.readouterr().err, "not a regular file")
    assert main(["calibrate", str(fifo), "--free", "inflow.rate", "--out", str(tmp_path / "c.toml")]) == 2
    assert_one_clean_error(capsys.readouterr().err, "not a regular file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.toml"]


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (DATA / "three_states.toml").read_bytes())  # as Windows Notepad saves it
    assert load_scenario(path) == load_scenario(DATA / "three_states.toml")


def test_nine_thousand_levers_are_refused_with_the_limit(tmp_path, capsys):
    levers = "".join(
        f'[levers.l{i}]\ntarget = "hazard.a.work"\nfrom = 2021-01-01\nmultiply = 0.99\nsource = "x"\n' for i in range(9000)
    )
    path = tmp_path / "s.toml"
    path.write_text((BAD / "parts" / "base.toml").read_text().split("[levers.shock]")[0] + levers)
    assert path.stat().st_size < MAX_BYTES  # the size cap is not what refuses it
    started = time.monotonic()
    assert main(["validate", str(path)]) == 2
    assert time.monotonic() - started < SECONDS
    assert_one_clean_error(capsys.readouterr().err, "levers", f"at most {MAX_LEVERS}")


def test_a_990000_character_name_is_refused_with_the_limit(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text('extends = "base.toml"\nname = "' + "x" * 990_000 + '"\n')
    (tmp_path / "base.toml").write_text((BAD / "parts" / "base.toml").read_text())
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "-q"]) == 2
    assert_one_clean_error(capsys.readouterr().err, "name", f"at most {MAX_SCENARIO_NAME} characters")
    assert not (tmp_path / "o").exists()


# --- no silent substitution ------------------------------------------------------------------------


def test_a_missing_path_never_runs_the_bundled_scenario_of_that_name(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for given in ("/some/missing/wassenaar_region.toml", "wassenaar_region.toml", "sub/wassenaar_region"):
        assert main(["run", given, "-r", "1", "-q"]) == 2
        assert_one_clean_error(capsys.readouterr().err, given, "no such file")
    assert list(tmp_path.iterdir()) == []  # nothing ran, so no runs/ folder


def test_bundled_scenarios_by_bare_name_and_paths_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_scenario("wassenaar_region").name == load_scenario(BUNDLED / "wassenaar_region.toml").name
    mine = tmp_path / "wassenaar_region.toml"
    mine.write_text((DATA / "three_states.toml").read_text())
    assert load_scenario("wassenaar_region.toml").name == "three states"  # a path is a path, even if a name matches
    assert load_scenario("wassenaar_region").name != "three states"  # a bare name is the bundled scenario
    with pytest.raises(ScenarioError, match="no bundled scenario of that name"):
        load_scenario("no_such_name")


def test_extends_a_bundled_scenario_by_name_from_any_folder(tmp_path):
    # issue 13: a variant outside the repository extends the baseline by its name
    variant = tmp_path / "elsewhere" / "variant.toml"
    variant.parent.mkdir()
    variant.write_text('extends = "utrecht_baseline"\nname = "my variant"\nyears = 3\n')
    scenario = load_scenario(variant)
    baseline = load_scenario("utrecht_baseline")
    assert (scenario.name, scenario.years) == ("my variant", 3)
    assert scenario.states == baseline.states and scenario.budget == baseline.budget
    out = tmp_path / "run"  # and it runs (data files the baseline names are found beside the baseline)
    assert main(["validate", str(variant)]) == 0
    assert main(["run", str(variant), "-r", "1", "--years", "1", "-q", "-w", "1", "--out", str(out)]) == 0
    assert (out / "annual.csv").is_file()
    # a path-like extends stays relative to the file: there is no utrecht_baseline.toml next to it
    variant.write_text('extends = "utrecht_baseline.toml"\nname = "my variant"\n')
    with pytest.raises(ScenarioError, match='not found.*extends = "utrecht_baseline"'):
        load_scenario(variant)
    variant.write_text('extends = "no_such_bundle"\n')
    with pytest.raises(ScenarioError, match="not a bundled scenario"):
        load_scenario(variant)


# --- command-line options --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["run", "--seed", "-1"], ["argument --seed", ">= 0"]),
        (["run", "-r", str(10**12)], ["argument --replications/-r", f"<= {MAX_REPLICATIONS}"]),
        (["run", "-r", "3.5"], ["argument --replications/-r", "whole number"]),
        (["run", "--years", "0"], ["argument --years", ">= 1"]),
        (["run", "--years", "101", "-r", "1"], ["years", "<= 100"]),
        (["run", "-r", "10000", "--years", "100"], ["--replications 10000", "limit of 1,200,000"]),
        (["run", "--engine", "dask", "--scheduler", "not an address"], ["argument --scheduler", "tcp://host:8786"]),
        (["run", "--scheduler", "tcp://localhost:8786"], ["--scheduler needs --engine dask"]),
        (["compare", "utrecht_baseline", "werkbeweging", "--monitor-from", "2019-08-01"], ["--monitor-from", "quarter"]),
        (["goal-seek", "utrecht_baseline", "--lever", "x", "--target", "movements=inf"], ["--target", "finite"]),
        (["monitor", "utrecht_baseline", "--start", "2040-01-01"], ["whole quarter from 2040-01-01"]),
        (["sweep", "utrecht_baseline", "--params", "p.toml", "-w", "100000"], ["argument --workers/-w", "<= 256"]),
    ],
)
def test_bad_options_name_the_option_and_write_nothing(args, words, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    started = time.monotonic()
    assert main(args) == 2
    assert time.monotonic() - started < SECONDS
    captured = capsys.readouterr()
    assert_one_clean_error(captured.err, *words)
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_scheduler_leaves_no_folder(tmp_path, capsys):
    out = tmp_path / "o"
    started = time.monotonic()
    code = main(["run", str(DATA / "three_states.toml"), "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9",
                 "--out", str(out), "-r", "1", "-q"])  # fmt: skip
    assert time.monotonic() - started < SECONDS
    assert code == 2
    assert_one_clean_error(capsys.readouterr().err, "tcp://127.0.0.1:9")
    assert not out.exists()


def test_compare_refuses_names_that_would_share_a_sheet_before_any_work(tmp_path, capsys):
    base = (DATA / "three_states.toml").read_text()
    a, b = tmp_path / "a_very_long_scenario_name_x.toml", tmp_path / "a_very_long_scenario_name_y.toml"
    a.write_text(base)
    b.write_text(base)
    started = time.monotonic()
    assert main(["compare", str(a), str(b), "--out", str(tmp_path / "o")]) == 2
    assert time.monotonic() - started < SECONDS
    assert_one_clean_error(capsys.readouterr().err, "share the short name", "a_very_long_scenario_na")
    assert not (tmp_path / "o").exists()


def test_compare_accepts_brackets_in_a_file_name(tmp_path):
    # '[' is not allowed in an Excel sheet name: the key is made safe before the work, not after it
    base = (DATA / "three_states.toml").read_text()
    (tmp_path / "base.toml").write_text(base)
    (tmp_path / "alt[2].toml").write_text(base.replace("value = 0.05,", "value = 0.06,", 1))
    out = tmp_path / "o"
    assert main(["compare", str(tmp_path / "base.toml"), str(tmp_path / "alt[2].toml"), "-r", "2", "--years", "1",
                 "--out", str(out)]) == 0  # fmt: skip
    from openpyxl import load_workbook

    assert "Parameters" in load_workbook(out / "comparison.xlsx").sheetnames
    assert "alt_2_" in set(pd.read_csv(out / "comparison.csv")["scenario"])  # the safe key of alt[2]


# --- errors of the operating system, pipes and signals ---------------------------------------------


def test_broken_pipe_is_one_error_line():
    proc = subprocess.run(
        f"{sys.executable} -m sim scenarios | head -1", shell=True, capture_output=True, text=True, timeout=60,
        executable="/bin/bash",
    )  # fmt: skip
    assert len(proc.stdout.splitlines()) == 1
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    assert proc.stderr == "" or proc.stderr.startswith("error: ")
    # a reader that is gone before anything is written: the exit code says so
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "sim", "scenarios"], stdout=write, stderr=subprocess.PIPE,
                              text=True, timeout=60)  # fmt: skip
    finally:
        os.close(write)
    assert proc.returncode == 141, proc.stderr
    assert proc.stderr.splitlines() == ["error: output closed before it was all written (broken pipe)"]


def test_a_name_too_long_is_an_error_naming_it(tmp_path, capsys):
    out = tmp_path / ("x" * 300)
    assert main(["run", str(DATA / "three_states.toml"), "--out", str(out), "-r", "1", "-q"]) == 74
    assert_one_clean_error(capsys.readouterr().err, "x" * 300, "file name too long")


@pytest.mark.parametrize(("errno_name", "words"), [("EROFS", "read-only file system"), ("ENOSPC", "no space left")])
def test_os_errors_while_writing_are_one_line_and_leave_nothing(errno_name, words, tmp_path, capsys, monkeypatch):
    import errno

    import sim.io.runfolder as runfolder

    def fail(result, path, *args, **kwargs):
        code = getattr(errno, errno_name)
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(runfolder, "result_to_npz", fail)  # the first replication file cannot be written
    out = tmp_path / "o"
    assert main(["run", str(DATA / "three_states.toml"), "--out", str(out), "-r", "2", "--years", "1", "-q", "-w", "1"]) == 74
    assert_one_clean_error(capsys.readouterr().err, "rep-000000.npz", words)
    assert not out.exists()  # the folder this run made is removed again


def test_an_unexpected_error_is_one_line_without_traceback(capsys, monkeypatch):
    import sim.model.compiled as compiled  # validate imports it when it runs (a light --help)

    monkeypatch.setattr(compiled, "compile_scenario", lambda s: 1 / 0)
    assert main(["validate", str(DATA / "three_states.toml")]) == 70
    assert_one_clean_error(capsys.readouterr().err, "internal error", "ZeroDivisionError", "CASELOAD_SIM_DEBUG")


def test_a_seventh_attribute_does_not_reuse_the_intake_column(tmp_path):
    """With 7 attributes the 7th was drawn from column 6, the loonwaarde/intake draw (``N_ATTR = 6``): the row
    is now sized from the compiled model, so the attribute columns end before the intake columns begin."""
    from sim.model import streams

    text = (DATA / "three_states.toml").read_text()
    extra = "".join(
        f'[attributes.a{i}]\nlevels = {{ values = {{ x = 0.5, y = 0.5 }}, source = "assumption" }}\n' for i in range(6)
    )
    (tmp_path / "seven.toml").write_text(text.replace("[inflow]", extra + "[inflow]", 1))
    c = compile_scenario(load_scenario(tmp_path / "seven.toml"))
    assert len(c.attributes.names) == 7 and c.layout.n_attributes == 7 and c.layout.intake0 == 7
    s = streams.Streams(seed=1, replication=0, layout=c.layout)
    values, _, _ = s.client(streams.Stream.INITIAL, 0, c.attributes.cdfs)
    width = c.layout.width
    rows = [values[i * width : (i + 1) * width] for i in range(streams.BLOCK)]
    seventh = [s.client(streams.Stream.INITIAL, i, c.attributes.cdfs)[2] % 2 for i in range(streams.BLOCK)]
    intake_high = [int(row[c.layout.intake0] >= 0.5) for row in rows]
    assert seventh != intake_high  # independent draws agree on ~half of 512 clients, never on all
    assert 150 < sum(a == b for a, b in zip(seventh, intake_high)) < 362  # about half: 256 +- 5 SD
