"""The Werkbeweging monitor: the four core indicators per quarter against the base value and the target.

Utrecht counts "movements towards work" in four core indicators (plaatsing,
scholing, deeltijdwerk, uitstroom naar werk; ``001_192052d875f1edab.txt:62,
68-79``). The base value is the 2017 to mid-2019 average, 1,838.7 a year (460 a
quarter), and the end target after 2.5 years is 2.5 x 1,838.7 + 2,000 = 6,597
movements (``001_192052d875f1edab.txt:847-854``). These are the monitor's
reference lines, not model parameters: the simulated counts come from the
scenario, the reference values from the progress report.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

INDICATORS = ("plaatsing", "scholing", "deeltijdwerk", "uitstroom")
BASE_PER_YEAR = 1838.7  # 001_192052d875f1edab.txt:847-853
EXTRA_TARGET = 2000.0  # 001_192052d875f1edab.txt:15-16, 826-829
TARGET_QUARTERS = 10  # 2.5 years from Q3 2019
START = dt.date(2019, 7, 1)  # 001_192052d875f1edab.txt:23-25 (start of Werkbeweging: July 2019)


def monitored_quarters(scenario, start: dt.date | None = None) -> int:
    """Whole quarters from ``start`` (default Q3 2019) that ``scenario`` simulates (0: none)."""
    start = start or START
    m0 = (start.year - scenario.start.year) * 12 + (start.month - scenario.start.month)
    months = 12 * scenario.years
    return max(0, (months - m0) // 3) if 0 <= m0 < months else 0


def monitor_table(arm, start: dt.date | None = None) -> pd.DataFrame:
    """One row per whole quarter from ``start``: indicator means, cumulative count with a 5-95% band,
    and the base and target paths. Empty when the scenario does not reach ``start``.

    Args:
        arm: a :class:`sim.compare.Arm` (its ``movements`` array is [replication, month, indicator]).
        start: first day of the first monitored quarter (default: Q3 2019, the start of Werkbeweging).
    """
    start = start or START
    if start.day != 1 or (start.month - 1) % 3:
        raise ValueError(f"monitor start {start} is not the first day of a quarter")
    labels = arm.months
    first = f"{start.year:04d}-{start.month:02d}"
    if first not in labels:
        return pd.DataFrame()
    m0 = labels.index(first)
    n_quarters = (len(labels) - m0) // 3
    if n_quarters == 0:
        return pd.DataFrame()
    moves = arm.movements[:, m0 : m0 + 3 * n_quarters, :]
    per_q = moves.reshape(moves.shape[0], n_quarters, 3, len(INDICATORS)).sum(axis=2)  # [rep, quarter, ind]
    total = per_q.sum(axis=2)
    cumulative = np.cumsum(total, axis=1)
    n = np.arange(1, n_quarters + 1)
    base_q = BASE_PER_YEAR / 4
    target_q = (TARGET_QUARTERS * base_q + EXTRA_TARGET) / TARGET_QUARTERS
    frame = pd.DataFrame({"quarter": [_quarter(start, q) for q in range(n_quarters)]})
    for i, name in enumerate(INDICATORS):
        frame[name] = per_q[:, :, i].mean(axis=0)
    frame["movements"] = total.mean(axis=0)
    frame["movements_p5"], frame["movements_p95"] = np.percentile(total, [5, 95], axis=0)
    frame["base_quarter"] = base_q
    frame["cumulative"] = cumulative.mean(axis=0)
    frame["cumulative_p5"], frame["cumulative_p95"] = np.percentile(cumulative, [5, 95], axis=0)
    frame["cumulative_base"] = base_q * n
    frame["cumulative_target"] = np.where(n <= TARGET_QUARTERS, target_q * n, np.nan)
    frame["extra_vs_base"] = frame["cumulative"] - frame["cumulative_base"]
    return frame.round(1)


def monitor_chart(frame: pd.DataFrame, path: Path, title: str) -> None:
    """Stacked indicators per quarter with the base line; cumulative count against base and target."""
    x = np.arange(len(frame))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7.5), sharex=True)
    bottom_of = np.zeros(len(frame))
    colours = ("#1f4e79", "#2e75b6", "#c55a11", "#548235")
    for name, colour in zip(INDICATORS, colours):
        top.bar(x, frame[name], bottom=bottom_of, color=colour, label=name, width=0.7)
        bottom_of += frame[name].to_numpy()
    top.axhline(BASE_PER_YEAR / 4, color="#222", linestyle="--", linewidth=1, label="base value (460 a quarter)")
    top.set_ylim(0, 1.35 * max(float(bottom_of.max()), BASE_PER_YEAR / 4))  # room for the legend
    top.set_ylabel("movements a quarter (mean)")
    top.set_title(title)
    top.legend(loc="upper left", ncol=3, fontsize=8, frameon=False)
    bottom.fill_between(x, frame["cumulative_p5"], frame["cumulative_p95"], color="#1f4e79", alpha=0.25, linewidth=0)
    bottom.plot(x, frame["cumulative"], color="#1f4e79", label="simulated (mean, 5-95% band)")
    bottom.plot(x, frame["cumulative_base"], color="#222", linestyle="--", label="base value path")
    bottom.plot(x, frame["cumulative_target"], color="#c00000", linestyle=":", label="target path (6,597 after 10 quarters)")
    bottom.set_ylabel("cumulative movements")
    bottom.set_xticks(x, frame["quarter"], rotation=45, fontsize=8)
    bottom.legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _quarter(start: dt.date, offset: int) -> str:
    q = (start.month - 1) // 3 + offset
    return f"{start.year + q // 4}Q{q % 4 + 1}"
