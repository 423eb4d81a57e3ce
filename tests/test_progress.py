"""Progress on stderr: a line per 10% when stderr is not a terminal, nothing with --quiet."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


class Clock:
    """A stand-in for the time module whose monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Progress's clock, moved by hand (the note's timer still runs on real time)."""
    from sim.util import progress

    fake = Clock()
    monkeypatch.setattr(progress, "time", fake)
    return fake


def test_a_slow_start_is_explained_once_and_left_out_of_the_eta(clock):
    import threading

    stream = io.StringIO()
    with Progress(10, "run", stream=stream) as bar:
        bar.note_if_slow("compiling", after=0.01)
        bar.note_if_slow("a second note", after=0.01)  # one note per Progress
        for thread in threading.enumerate():  # the timer, and nothing finished meanwhile
            if isinstance(thread, threading.Timer):
                thread.join(5)
        clock.now += 30.0  # the wait: 30 s before the first unit
        bar.update()
        clock.now += 1.0  # then a unit a second
        bar.update()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "run: compiling", lines
    # the 10% line comes at the first unit: no pace yet past the wait, so no guess (not 4:30 from 30 s / unit)
    assert lines[1].startswith("run:  10% (1/10 rep) elapsed 00:30, ETA ?"), lines
    # 8 units left at one a second, not 8 x 15.5 s
    assert lines[2].startswith("run:  20% (2/10 rep) elapsed 00:31, ETA 00:08"), lines
    assert "a second note" not in stream.getvalue()


def test_no_note_when_work_finishes_in_time_and_no_eta_change(clock):
    stream = io.StringIO()
    with Progress(10, "run", stream=stream) as bar:
        bar.note_if_slow("compiling", after=60.0)
        for _ in range(2):
            clock.now += 2.0
            bar.update()
    lines = stream.getvalue().splitlines()
    assert "compiling" not in stream.getvalue()
    assert lines[-1].startswith("run:  20% (2/10 rep) elapsed 00:04, ETA 00:16"), lines  # 2 s a unit from the start


def test_reused_units_do_not_speed_up_the_eta(clock):
    stream = io.StringIO()
    with Progress(10, "run", stream=stream, initial=5) as bar:  # a resume: 5 replications kept
        clock.now += 3.0
        bar.update()
    assert stream.getvalue().startswith("run:  60% (6/10 rep) elapsed 00:03, ETA 00:12"), stream.getvalue()


def test_runs_that_may_compile_the_engine_ask_for_the_note():
    from sim.engines.backends import run_replications
    from sim.engines.select import FIRST_RUN_NOTE
    from sim.model import load_scenario

    class Recording(Progress):
        def note_if_slow(self, text, after=None):
            self.notes.append(text)

    scenario = load_scenario(Path(__file__).parent / "data" / "three_states.toml")
    for kernel, expected in (("auto", [FIRST_RUN_NOTE]), ("compiled", [FIRST_RUN_NOTE]), ("simpy", [])):
        bar = Recording(2, "x", lines=False)
        bar.notes = []
        run_replications(scenario, 1, 2, progress=bar, kernel=kernel)
        assert bar.notes == expected, kernel


def test_a_run_folder_asks_for_the_note_when_the_compiled_engine_runs(tmp_path, monkeypatch):
    from sim.engines.select import FIRST_RUN_NOTE
    from sim.io import runfolder
    from sim.model import load_scenario

    notes = []

    class Recording(Progress):
        def note_if_slow(self, text, after=None):
            notes.append(text)

    monkeypatch.setattr(runfolder, "Progress", Recording)
    scenario = load_scenario(Path(__file__).parent / "data" / "three_states.toml")
    for kernel, expected in (("compiled", [FIRST_RUN_NOTE]), ("simpy", [])):
        notes.clear()
        settings = runfolder.RunSettings(replications=2, seed=1, kernel=kernel, progress=False)
        runfolder.run_to_folder(scenario, settings, tmp_path / kernel)
        assert notes == expected, kernel
