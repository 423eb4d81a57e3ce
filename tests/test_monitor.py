"""Werkbeweging monitor: quarters, cumulative counts, base value and target path (known answers)."""

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pytest

from sim.analysis.monitor import monitor_chart, monitor_table


def _arm(months=36, start=(2019, 1), per_month=(100, 20, 10, 30)):
    labels = [f"{start[0] + (start[1] - 1 + m) // 12}-{(start[1] - 1 + m) % 12 + 1:02d}" for m in range(months)]
    moves = np.tile(np.array(per_month, dtype=np.int64), (2, months, 1))
    moves[1] *= 2  # replication 1 moves twice as much
    return SimpleNamespace(months=labels, movements=moves)


def test_quarters_from_q3_2019_with_base_and_target(tmp_path):
    frame = monitor_table(_arm())
    assert frame["quarter"].tolist()[:3] == ["2019Q3", "2019Q4", "2020Q1"]
    assert len(frame) == 10  # 2019Q3 .. 2021Q4: 30 months of 36
    # per quarter: 3 months x (100, 20, 10, 30) in rep 0 and twice that in rep 1 -> mean 1.5 x 480 = 720
    assert frame["plaatsing"].iloc[0] == 450 and frame["uitstroom"].iloc[0] == 135
    assert frame["movements"].iloc[0] == 720
    assert frame["cumulative"].iloc[-1] == 7200
    # base value 1,838.7 a year (001_192052d875f1edab.txt:847-853); end target 6,597 after 10 quarters (:853-854)
    assert frame["base_quarter"].iloc[0] == pytest.approx(459.7, abs=0.05)
    assert frame["cumulative_target"].iloc[-1] == pytest.approx(6596.8, abs=0.1)
    assert frame["extra_vs_base"].iloc[-1] == pytest.approx(7200 - 4596.8, abs=0.1)
    monitor_chart(frame, tmp_path / "m.png", "test")
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"


def test_scenario_before_the_monitor_period_gives_an_empty_table():
    assert monitor_table(_arm(months=12, start=(2015, 1))).empty
    with pytest.raises(ValueError, match="quarter"):
        monitor_table(_arm(), start=dt.date(2019, 8, 1))
