"""Progress on stderr: a line per 10% when stderr is not a terminal, nothing with --quiet."""

import io
import os
import subprocess
import sys

from sim.cli.options import default_workers
from sim.util.progress import Progress


def test_a_line_per_ten_percent_when_not_a_terminal():
    stream = io.StringIO()
    with Progress(40, "compare", stream=stream) as bar:
        for _ in range(40):
            bar.update()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10, lines
    assert lines[0].startswith("compare:  10% (4/40 rep)") and "ETA" in lines[0]
    assert lines[-1].startswith("compare: 100% (40/40 rep)")


def test_quiet_and_library_mode_print_nothing():
    for kwargs in ({"quiet": True}, {"lines": False}):
        stream = io.StringIO()
        with Progress(10, "x", stream=stream, **kwargs) as bar:
            bar.update(10)
        assert stream.getvalue() == ""


def test_growing_total_and_finish():
    stream = io.StringIO()
    bar = Progress(10, "goal-seek", stream=stream)
    bar.update(10)
    bar.grow(10)  # Brent needed more evaluations
    bar.update(2)
    bar.finish()
    assert stream.getvalue().splitlines()[-1].startswith("goal-seek: 100% (20/20 rep)")


def test_workers_default_to_the_cores():
    from sim.cli.main import build_parser

    parser = build_parser()
    for argv in (["run"], ["compare", "a", "b"], ["monitor"], ["goal-seek", "s", "--lever", "x", "--target", "m=1"],
                 ["experiment", "d"], ["sweep", "s", "--params", "p"],
                 ["calibrate", "t", "--free", "x", "--out", "o"]):  # fmt: skip
        assert parser.parse_args(argv).workers == default_workers() == (os.cpu_count() or 1), argv


def test_compare_prints_progress_lines_to_a_file_and_none_when_quiet(tmp_path):
    # acceptance 1 of issue 13: stderr redirected to a file (not a terminal)
    base = [sys.executable, "-m", "sim", "compare", "utrecht_baseline", "corona_2020", "-r", "8", "--years", "1"]
    for quiet in (False, True):
        err = tmp_path / f"err{quiet}"
        with open(err, "w") as stderr:
            done = subprocess.run([*base, "--out", str(tmp_path / f"out{quiet}"), *(["--quiet"] if quiet else [])],
                                  stderr=stderr, stdout=subprocess.PIPE, text=True, timeout=600)  # fmt: skip
        text = err.read_text()
        assert done.returncode == 0, text
        lines = [line for line in text.splitlines() if "%" in line and "ETA" in line]
        if quiet:
            assert lines == [], text
        else:
            assert len(lines) == 10, text  # 2 scenarios x 8 replications, a line per 10%
            assert "(16/16 rep)" in lines[-1]
