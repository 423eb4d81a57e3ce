"""Monitors: movements from a programme's states per quarter, and an outflow percentage with its goal."""

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.analysis.monitor import monitor_chart, monitor_table, outflow_table
from sim.model.schema import MovementsMonitor, OutflowMonitor

SOURCE = "assumption"
MONITOR = MovementsMonitor(
    kind="movements", label="test", states=["arr3"], start=dt.date(2019, 7, 1), quarters=10,
    base_per_year={"value": 1838.7, "source": SOURCE}, extra_target={"value": 2000, "source": SOURCE},
    published={"values": {dt.date(2020, 3, 31): 615, dt.date(2021, 3, 31): 415}, "source": SOURCE},
)  # fmt: skip


def _arm(months=36, start=(2019, 1), per_month=(100, 20, 10, 30)):
    """Two states: 'arr3' moves per_month a month (twice that in replication 1), 'arr1' 1,000 of each."""
    labels = [f"{start[0] + (start[1] - 1 + m) // 12}-{(start[1] - 1 + m) % 12 + 1:02d}" for m in range(months)]
    moves = np.zeros((2, months, 2, 4), dtype=np.int64)
    moves[:, :, 0, :] = 1000  # arr1: outside the monitor, must not count
    moves[:, :, 1, :] = per_month
    moves[1, :, 1] *= 2
    compiled = SimpleNamespace(state_names=lambda: ["arr1", "arr3"])
    return SimpleNamespace(months=labels, movements=moves, compiled=compiled, scenario=SimpleNamespace(monitors={"w": MONITOR}))


def test_the_table_ends_a_year_after_the_target():
    """A long horizon (2019-2026) shows the 10 programme quarters and 4 after, not the years beyond."""
    frame = monitor_table(_arm(months=96), MONITOR)
    assert len(frame) == 14 and frame["quarter"].iloc[-1] == "2022Q4"
    assert monitor_table(_arm(months=96), MONITOR, start=dt.date(2022, 10, 1))["quarter"].tolist() == ["2022Q4"]
    assert monitor_table(_arm(months=96), MONITOR, start=dt.date(2023, 1, 1)).empty


def test_quarters_from_the_programme_start_count_only_its_states(tmp_path):
    frame = monitor_table(_arm(), MONITOR)
    assert frame["quarter"].tolist()[:3] == ["2019Q3", "2019Q4", "2020Q1"]
    assert len(frame) == 10  # 2019Q3 .. 2021Q4: 30 months of 36
    # per quarter: 3 months x (100, 20, 10, 30) in rep 0 and twice that in rep 1 -> mean 1.5 x 480 = 720;
    # arr1's 1,000 a month of each indicator is not counted (the monitor covers arr3 only)
    assert frame["plaatsing"].iloc[0] == 450 and frame["uitstroom"].iloc[0] == 135
    assert frame["movements"].iloc[0] == 720
    assert frame["cumulative"].iloc[-1] == 7200
    # base value 1,838.7 a year: 459.675 a quarter; end target 6,596.75 after 10 quarters
    assert frame["base_quarter"].iloc[0] == pytest.approx(459.7, abs=0.05)
    assert frame["cumulative_target"].iloc[-1] == pytest.approx(6596.8, abs=0.1)
    assert frame["extra_vs_base"].iloc[2] == pytest.approx(3 * 720 - 3 * 459.675, abs=0.1)
    # published figures sit at the ends of their quarters
    assert frame.set_index("quarter")["published_extra"].dropna().to_dict() == {"2020Q1": 615.0, "2021Q1": 415.0}
    monitor_chart(frame, tmp_path / "m.png", "test")
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"


def test_scenario_before_the_monitor_period_gives_an_empty_table():
    assert monitor_table(_arm(months=12, start=(2015, 1)), MONITOR).empty
    with pytest.raises(ValueError, match="quarter"):
        monitor_table(_arm(), MONITOR, start=dt.date(2019, 8, 1))


def test_outflow_percentage_and_its_goal():
    """Exits to work / average caseload: replication r has 100 + 10 r exits on 1,000 households in 2022 and
    100 in 2020 and 2021, so the goal (2022 above both) is met in the replications with r >= 1: 3 of 4."""
    rows = [
        {"replication": r, "year": y, "exits_work": 100 + (10 * r if y == 2022 else 0), "exits_other": 0,
         "caseload_mean": 1000.0}
        for r in range(4) for y in (2020, 2021, 2022)
    ]  # fmt: skip
    arm = SimpleNamespace(annual=pd.DataFrame(rows))
    goal = OutflowMonitor(kind="outflow_rate", label="uitstroompercentage", goal_year=2022, above=[2020, 2021],
                          source=SOURCE)  # fmt: skip
    frame = outflow_table(arm, goal)
    assert frame.set_index("year")["outflow_pct"].to_dict() == {2020: 10.0, 2021: 10.0, 2022: 11.5}
    assert frame.attrs["goal_met_share"] == 0.75
    assert "met in 75% of 4 replications" in frame.attrs["verdict"]


def test_a_group_outflow_monitor_adds_paired_annual_columns():
    """An outflow-rate monitor over some states: its yearly flow, the states' average stock and the
    percentage, per municipality and in total; the flow is the one the monthly flows by state give."""
    from sim import compile_scenario, load_scenario, simulate
    from sim.io.tables import annual_columns, annual_table
    from sim.model.records import FLOW_INDEX

    from .conftest import DATA

    group = {"kind": "outflow_rate", "label": "ready group to work", "states": ["ready"], "source": SOURCE}
    scenario = load_scenario(DATA / "region.toml", overrides={"monitors": {"ready_work": group}})
    c = compile_scenario(scenario)
    result = simulate(c, seed=3, replication=0)
    annual = annual_table(c, [result], scenario.monitors)
    assert {"monitor_ready_work_flow", "monitor_ready_work_mean", "monitor_ready_work_pct"} <= set(annual_columns(c, scenario.monitors))
    total = annual[annual["municipality"] == "total"].set_index("year")
    ready = c.index("ready")
    for y, year in enumerate(total.index):
        months = slice(12 * y, 12 * y + 12)
        assert total.loc[year, "monitor_ready_work_flow"] == result.flows[months, ready, FLOW_INDEX["exits_work"]].sum()
        mean = result.person_months[months, ready].sum() / 12
        assert total.loc[year, "monitor_ready_work_mean"] == pytest.approx(mean, abs=1e-5)
        assert total.loc[year, "monitor_ready_work_pct"] == pytest.approx(100 * total.loc[year, "monitor_ready_work_flow"] / mean)
    parts = annual[annual["municipality"] != "total"].groupby("year")["monitor_ready_work_flow"].sum()
    assert parts.to_dict() == total["monitor_ready_work_flow"].to_dict()
    arm = SimpleNamespace(annual=annual, scenario=scenario)
    frame = outflow_table(arm, scenario.monitors["ready_work"])
    assert frame["outflow_pct"].tolist() == pytest.approx(total["monitor_ready_work_pct"].tolist(), abs=1e-3)
    assert "verdict" not in frame.attrs  # no goal, no verdict


@pytest.mark.parametrize(("change", "words"), [
    ({"goal_year": 2025}, "goal_year and above go together"),
    ({"states": ["nowhere"]}, "unknown state 'nowhere'"),
])  # fmt: skip
def test_outflow_monitor_problems(change, words):
    from sim import ScenarioError, load_scenario

    from .conftest import DATA

    group = {"kind": "outflow_rate", "label": "x", "source": SOURCE} | change
    with pytest.raises(ScenarioError, match=words):
        load_scenario(DATA / "region.toml", overrides={"monitors": {"m": group}})
