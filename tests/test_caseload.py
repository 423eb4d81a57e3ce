"""Starting from a municipality's own caseload extract (sim/model/caseload.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from sim import ScenarioError, compile_scenario, expected, load_scenario, simulate
from tests.conftest import DATA, ROOT

EXAMPLE = DATA / "caseload_example.csv"


def test_first_month_stock_is_the_file_minus_exits_plus_entries():
    """Acceptance: the first month's stock per state = the file's count - that month's departures + its entries."""
    scenario = load_scenario("utrecht_baseline", overrides={"years": 1}, caseload=EXAMPLE)
    c = compile_scenario(scenario)
    counts = Counter(line.split(",")[0] for line in EXAMPLE.read_text().splitlines()[1:])
    result = simulate(c, seed=3, replication=0, log_events=True)
    first = [ev for ev in result.events if ev.time < 1.0]
    for s, st in enumerate(c.states):
        if st.name == "intake":  # every spell starts with an arrival record there (new applications and returns)
            entries = sum(1 for ev in first if ev.kind == "arrival" and ev.transition == "arrival")
        else:
            entries = sum(1 for ev in first if ev.to_state == st.name != ev.state and ev.kind != "queue")
        departures = sum(1 for ev in first if ev.state == st.name and ev.to_state not in ("", st.name))
        assert result.stock[0, s] == counts.get(st.name, 0) - departures + entries, st.name
    assert result.stock[0].sum() > 3000  # the file's 3,900 households, less the first month's net outflow


def test_spell_starts_set_the_duration_structure():
    """Households keep the spell start the file gives them: the share on benefit longer than one year at the
    first year end is at least the file's share of spells begun before 1 January 2014 that are still there."""
    scenario = load_scenario("utrecht_baseline", overrides={"years": 1}, caseload=EXAMPLE)
    c = compile_scenario(scenario)
    result = simulate(c, seed=1, replication=0)
    lines = EXAMPLE.read_text().splitlines()[1:]
    assert result.durations[0, 0] > 0.5 * sum(1 for line in lines if line.split(",")[1] < "2014-01-01")


@pytest.mark.parametrize(("row", "words"), [
    ("nowhere,2014-01-01,adult", "row 3, column state: unknown state 'nowhere'"),
    ("arr1,2014-13-01,adult", "row 3, column spell_start: '2014-13-01' is not a date"),
    ("arr1,2016-01-01,adult", "row 3, column spell_start: 2016-01-01 is after the scenario start"),
    ("arr1,2014-01-01,ancient", "row 3, column age_band: 'ancient' is not a level of 'age_band'"),
])  # fmt: skip
def test_a_malformed_extract_exits_2_naming_row_and_column(tmp_path, row, words):
    bad = tmp_path / "caseload.csv"
    bad.write_text("state,spell_start,age_band\narr1,2014-02-01,adult\n" + row + "\n")
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "sim", "run", "utrecht_baseline", "--caseload", str(bad), "--out", str(out), "-q"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_an_extract_with_personal_columns_is_refused(tmp_path):
    bad = tmp_path / "caseload.csv"
    bad.write_text("bsn,state,spell_start\n123456782,arr1,2014-02-01\n")
    with pytest.raises(ScenarioError, match="column 'bsn' is not used by the model"):
        load_scenario("utrecht_baseline", caseload=bad)


def test_counts_layout_and_the_markov_model_agree(tmp_path):
    """The counts layout (uniform and open-ended duration bands, a fixed attribute level) gives the same
    expected stocks in the engine and in the independent Markov model (within 3 SE, 40 replications)."""
    counts = tmp_path / "counts.csv"
    counts.write_text(
        "state,count,months_from,months_to,age_band\n"
        "a,200,0,6,youth\n"
        "a,150,6,24,\n"
        "b,300,12,,adult\n"
        "b,100,0,0,\n"
    )
    scenario = load_scenario(DATA / "three_states.toml", caseload=counts)
    c = compile_scenario(scenario)
    runs = np.stack([simulate(c, seed=9, replication=r).stock for r in range(40)])
    exact = expected(scenario).stock
    for month in (0, 11, 30):
        mean = runs[:, month].mean(axis=0)
        se = runs[:, month].std(axis=0, ddof=1) / np.sqrt(len(runs))
        assert (np.abs(mean - exact[month]) <= 3 * np.maximum(se, 1e-9)).all(), (month, mean, exact[month], se)
    assert runs[:, 0, c.index("a")].mean() == pytest.approx(350, abs=40)


def test_the_run_folder_keeps_counts_not_households(tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "sim", "run", "utrecht_baseline", "--caseload", str(EXAMPLE), "--years", "1",
         "-r", "1", "--out", str(out), "-q"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    saved = json.loads((out / "scenario.json").read_text())
    assert "groups" not in saved["initial_population"] and len(saved["initial_population"]["digest"]) == 64
    assert "spell_start" not in (out / "scenario.json").read_text()


@pytest.mark.parametrize(("text", "words"), [
    ("a,b\n1,2\n", "header needs 'state' and 'spell_start'"),
    ("state,count,months_from\na,two,0\n", "row 2, column count: 'two' is not a whole number"),
    ("state,count,months_from\na,0,0\n", "row 2, column count: '0' must be at least 1"),
    ("state,count,months_from,months_to\na,5,12,6\n", "row 2, column months_to: 6 is below months_from 12"),
    ("state,count,months_from\na,5,-1\n", "row 2, column months_from: '-1' must be a number >= 0"),
    ("state,count,months_from\n", "no households"),
])  # fmt: skip
def test_a_malformed_counts_table_names_row_and_column(tmp_path, text, words):
    bad = tmp_path / "counts.csv"
    bad.write_text(text)
    with pytest.raises(ScenarioError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_scenario(DATA / "three_states.toml", caseload=bad)


def test_a_missing_or_binary_extract_is_refused(tmp_path):
    with pytest.raises(ScenarioError, match="no such caseload file"):
        load_scenario(DATA / "three_states.toml", caseload=tmp_path / "missing.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"state,spell_start\n\xff\xfe\n")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(DATA / "three_states.toml", caseload=binary)


def test_a_fifo_or_folder_as_extract_is_refused_without_blocking(tmp_path):
    """The extract is read like every other input (sim.util.inputs): a FIFO would block a plain read forever."""
    import os

    fifo = tmp_path / "extract.csv"
    os.mkfifo(fifo)
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_scenario(DATA / "three_states.toml", caseload=fifo)
    with pytest.raises(ScenarioError, match="is a folder"):
        load_scenario(DATA / "three_states.toml", caseload=tmp_path)
