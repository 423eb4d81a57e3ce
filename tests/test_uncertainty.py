"""Parameter uncertainty: one parameter draw per replication, paired across the scenarios compared."""

from __future__ import annotations

import pandas as pd
import pytest

from sim import ScenarioError, load_scenario
from sim.analysis.compare import independent_interval, paired_interval, run_arm
from sim.cli import main
from sim.model.ensemble import compiled_for, draw_index
from sim.model.uncertainty import band_note
from tests.conftest import DATA

DRAWS = "hazard.a.work,states.b.transitions.up.rate\n0.02,0.005\n0.05,0.010\n0.09,0.020\n"


@pytest.fixture
def folder(tmp_path):
    text = (DATA / "three_states.toml").read_text()
    (tmp_path / "draws.csv").write_text(DRAWS)
    base = text + '\n[uncertainty]\ndraws = "draws.csv"\nsource = "assumption: three parameter sets for the test"\n'
    (tmp_path / "base.toml").write_text(base)
    alt = base.replace('rate = { value = 0.015, source = "assumption" }', 'rate = { value = 0.03, source = "assumption" }')
    assert alt != base
    (tmp_path / "alt.toml").write_text(alt)
    return tmp_path


def test_each_replication_runs_one_draw_and_scenarios_share_it(folder):
    base, alt = load_scenario(folder / "base.toml"), load_scenario(folder / "alt.toml")
    assert len(base.uncertainty.values) == 3 and len(base.uncertainty.digest) == 64
    drawn = [draw_index(base, 7, r) for r in range(30)]
    assert set(drawn) == {0, 1, 2}  # 30 uniform draws of 3 miss one value with probability ~3 x (2/3)^30
    assert drawn == [draw_index(alt, 7, r) for r in range(30)]  # the same draw in the same replication
    for r in range(6):
        c, a = compiled_for(base, 7, r), compiled_for(alt, 7, r)
        expected = base.uncertainty.values[drawn[r]]["states.a.transitions.work.rate"]
        k = [t.name for t in c.states[c.index("a")].transitions].index("work")
        assert c.base[c.index("a")][0, 0, k] == pytest.approx(expected)
        assert a.base[a.index("a")][0, 0, k] == pytest.approx(expected)
    assert "parameter uncertainty (3 parameter draws" in band_note(base)


def test_total_band_is_wider_and_differences_stay_paired(folder):
    """With job finding drawn from 0.02-0.09 a month the caseload's spread over replications is far wider than
    simulation noise alone; yet the paired difference to a variant (exits from b doubled) stays narrower than
    an independent comparison, because both arms run the same draw in the same replication."""
    base, alt = load_scenario(folder / "base.toml"), load_scenario(folder / "alt.toml")
    fixed = base.model_copy(update={"uncertainty": None})
    n = 16
    total = run_arm("base", base, 3, n).caseload[:, -1]
    noise = run_arm("fixed", fixed, 3, n).caseload[:, -1]
    assert total.std(ddof=1) > 2 * noise.std(ddof=1), (total.std(ddof=1), noise.std(ddof=1))
    other = run_arm("alt", alt, 3, n).caseload[:, -1]
    _, low, high = paired_interval(other, total)
    independent = run_arm("alt", alt, 3 + 1000, n).caseload[:, -1]
    _, ilow, ihigh = independent_interval(independent, total)
    assert (high - low) < 0.5 * (ihigh - ilow), ((low, high), (ilow, ihigh))


def test_summary_says_what_its_bands_cover_and_the_switch_turns_draws_off(folder, tmp_path):
    out = tmp_path / "run"
    assert main(["run", str(folder / "base.toml"), "-r", "3", "--years", "1", "--out", str(out), "-q", "-w", "1"]) == 0
    assert pd.read_csv(out / "summary.csv")["band_covers"].str.contains("parameter uncertainty").all()
    out2 = tmp_path / "fixed"
    assert main(["run", str(folder / "base.toml"), "-r", "3", "--years", "1", "--out", str(out2), "-q", "-w", "1",
                 "--no-parameter-uncertainty"]) == 0  # fmt: skip
    assert pd.read_csv(out2 / "summary.csv")["band_covers"].str.contains("simulation noise only").all()


@pytest.mark.parametrize(("text", "words"), [
    ("hazard.a.nope\n0.1\n", "column 'hazard.a.nope'"),
    ("hazard.a.work\nabc\n", "row 2, column states.a.transitions.work.rate: 'abc' is not a number"),
    ("hazard.a.work\n", "no draws"),
])  # fmt: skip
def test_a_bad_draws_file_names_row_and_column(folder, text, words):
    (folder / "draws.csv").write_text(text)
    with pytest.raises(ScenarioError, match=words.replace(".", r"\.").replace("(", r"\(")):
        load_scenario(folder / "base.toml")


def test_report_and_workbook_say_what_the_intervals_cover(folder, tmp_path):
    out = tmp_path / "cmp"
    args = ["compare", str(folder / "base.toml"), str(folder / "alt.toml"), "-r", "2", "--years", "1", "-q", "-w", "1",
            "--lang", "en"]  # fmt: skip
    assert main([*args, "--out", str(out)]) == 0
    assert "uncertainty of the fitted parameters" in (out / "report.html").read_text()
    from openpyxl import load_workbook

    cells = [str(c.value) for row in load_workbook(out / "comparison.xlsx")["Metadata"].iter_rows() for c in row]
    assert any("3 parameter sets" in c for c in cells)
    fixed = tmp_path / "fixed"
    assert main([*args, "--out", str(fixed), "--no-parameter-uncertainty"]) == 0
    assert "randomness of the simulation only" in (fixed / "report.html").read_text()


@pytest.mark.parametrize(("text", "words"), [
    ("hazard.a.work\n0.1,0.2\n", "row 2 has 2 values for 1 columns"),
    ("hazard.a.work\ninf\n", "is not finite"),
    ("", "empty"),
])  # fmt: skip
def test_a_draws_file_must_be_a_table_of_numbers(folder, text, words):
    (folder / "draws.csv").write_text(text)
    with pytest.raises(ScenarioError, match=words):
        load_scenario(folder / "base.toml")
    (folder / "draws.csv").unlink()
    with pytest.raises(ScenarioError, match="no such draws file"):
        load_scenario(folder / "base.toml")
