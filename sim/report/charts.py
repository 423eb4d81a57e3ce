"""Comparison charts that cannot mislead, with captions that say what they show.

* Bands are told apart by hatching and outlines, not by stacked transparency
  (two transparent bands over each other make a third colour no legend explains).
* A rolling mean is pandas' centred ``rolling(3, center=True, min_periods=2)``: at
  the first and last month it averages the two months there are, instead of
  dividing by three as ``np.convolve(mode="same")`` did (which halved the ends).
* Counts and amounts start their axis at zero; legends sit outside the plot so no
  line runs through their text.
* Every label comes from the scenario (``name``, state ``label``) or the
  language catalogue, never from file keys.

Each function returns a :class:`Chart`: the file, its caption and every text
drawn on it (so tests can check the language without reading pixels).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from scipy import stats  # noqa: E402

from sim.analysis.compare import Arm  # noqa: E402
from sim.analysis.monitor import monitor_table  # noqa: E402
from sim.io.plots import COLOURS, DPI, band, date_axis, legend  # noqa: E402
from sim.io.tables import deficit_probability  # noqa: E402

MARKERS = ("o", "s", "^", "D", "v", "P")


@dataclass
class Chart:
    """A chart written to ``path``, its caption and the texts drawn on it."""

    path: Path
    caption: str
    texts: list[str] = field(default_factory=list)


def percentiles(samples: np.ndarray):
    """5%, 50% and 95% across replications (axis 0)."""
    lo, mid, hi = np.percentile(samples, [5, 50, 95], axis=0)
    return lo, mid, hi


def centred_mean(samples: np.ndarray, window: int = 3) -> np.ndarray:
    """Centred rolling mean per replication; the ends average the months available (no edge collapse)."""
    frame = pd.DataFrame(np.asarray(samples, dtype=float).T)
    return frame.rolling(window, center=True, min_periods=window // 2 + 1).mean().to_numpy().T


def month_ends(arm: Arm) -> pd.DatetimeIndex:
    """End-of-month dates: stocks are counted at the end of the month."""
    return pd.to_datetime(arm.months) + pd.offsets.MonthEnd(0)


def observed_points(path: str | None) -> tuple[list[dt.date], list[float], list[str]]:
    """Observed year-end caseloads (``stock_end`` of ``on_caseload``) from a targets file, with their sources."""
    if not path:
        return [], [], []
    from sim.analysis.calibration.targets import load_targets

    dates, values, sources = [], [], []
    for target in load_targets(path):
        if target.measure == "stock_end" and target.states == "on_caseload" and "/" not in target.period:
            year, month = (int(p) for p in target.period.split("-"))
            dates.append(pd.Timestamp(year, month, 1) + pd.offsets.MonthEnd(0))
            values.append(target.value)
            sources.append(target.source)
    return dates, values, list(dict.fromkeys(sources))


def caseload_chart(arms: list[Arm], path: Path, t) -> Chart:
    """Households on the caseload per scenario, with observed year-end figures when the base names them."""
    x = month_ends(arms[0])
    fig, ax = plt.subplots(figsize=(9, 4.8))
    handles = [band(ax, x, *percentiles(a.caseload), i, a.scenario.name) for i, a in enumerate(arms)]
    dates, values, sources = observed_points(arms[0].scenario.observed)
    first, last = x[0] - pd.offsets.MonthBegin(1), x[-1]
    shown = [(d, v) for d, v in zip(dates, values) if first <= d <= last]
    if shown:
        dot = ax.scatter(*zip(*shown), color="black", zorder=5, s=28, marker="o")
        handles.append((dot, t("chart.observed")))
    ax.set_title(t("chart.caseload_title"))
    ax.set_ylabel(t("chart.caseload_axis"))
    ax.set_ylim(bottom=0)
    date_axis(ax)
    _legend(fig, ax, handles)
    caption = t("chart.caption_caseload", n=arms[0].caseload.shape[0])
    if shown:
        caption += t("chart.caption_observed", source="; ".join(sources))
    return _save(fig, path, caption)


def exits_chart(arms: list[Arm], path: Path, t) -> Chart:
    """Exits to work per month, centred 3-month mean, per scenario."""
    x = pd.to_datetime(arms[0].months)
    fig, ax = plt.subplots(figsize=(9, 4.8))
    handles = [band(ax, x, *percentiles(centred_mean(a.exits_work)), i, a.scenario.name) for i, a in enumerate(arms)]
    ax.set_title(t("chart.exits_title"))
    ax.set_ylabel(t("chart.exits_axis"))
    ax.set_ylim(bottom=0)
    date_axis(ax)
    _legend(fig, ax, handles)
    return _save(fig, path, t("chart.caption_exits", n=arms[0].caseload.shape[0]))


def difference_chart(arms: list[Arm], path: Path, t) -> Chart:
    """Paired difference to the base per month: mean with its 95% interval."""
    base = arms[0]
    x = month_ends(base)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    handles = []
    for i, arm in enumerate(arms[1:], start=1):
        for ax, diff in ((top, arm.caseload - base.caseload),
                         (bottom, np.cumsum(arm.exits_work - base.exits_work, axis=1))):  # fmt: skip
            n = diff.shape[0]
            mean = diff.mean(axis=0)
            half = stats.t.ppf(0.975, n - 1) * diff.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else 0 * mean
            handle = band(ax, x, mean - half, mean, mean + half, i, arm.scenario.name)
        handles.append(handle)
    for ax in (top, bottom):
        ax.axhline(0, color="#333", linewidth=0.9)
    top.set_title(t("chart.difference_title", base=base.scenario.name))
    top.set_ylabel(t("chart.difference_caseload_axis"))
    bottom.set_ylabel(t("chart.difference_exits_axis"))
    date_axis(bottom)
    _legend(fig, bottom, handles)
    return _save(fig, path, t("chart.caption_difference", base=base.scenario.name, n=base.caseload.shape[0]))


def ideel_chart(arms: list[Arm], path: Path, t) -> Chart | None:
    """I-deel result per year (median, 5-95%) and P(deficit) with its 90% Wilson interval and n."""
    if not all("i_deel_result" in a.annual for a in arms):
        return None
    years = sorted(int(y) for y in arms[0].annual["year"].unique())
    n = arms[0].caseload.shape[0]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    width = 0.8 / len(arms)
    for i, arm in enumerate(arms):
        offset = (i - (len(arms) - 1) / 2) * width
        colour, marker = COLOURS[i % len(COLOURS)], MARKERS[i % len(MARKERS)]
        pivot = arm.annual.pivot(index="replication", columns="year", values="i_deel_result")[years].to_numpy() / 1e6
        lo, mid, hi = percentiles(pivot)
        pos = np.arange(len(years)) + offset
        top.errorbar(pos, mid, yerr=[mid - lo, hi - mid], fmt=marker, color=colour, capsize=3, linewidth=1.2)
        risk = deficit_probability(arm.annual).set_index("year").loc[years]
        p, p_lo, p_hi = (100 * risk[c].to_numpy() for c in ("mean", "p5", "p95"))
        bottom.errorbar(pos, p, yerr=[p - p_lo, p_hi - p], fmt=marker, color=colour, capsize=3, linewidth=1.2)
    top.axhline(0, color="#a61b1b", linewidth=1, linestyle="--")
    top.set_title(t("chart.ideel_title"))
    top.set_ylabel(t("chart.ideel_axis"))
    bottom.set_title(f"{t('chart.deficit_title')} (n = {n})")
    bottom.set_ylabel(t("chart.deficit_axis"))
    bottom.set_ylim(-3, 103)  # markers at 0% and 100% stay visible
    bottom.set_xticks(range(len(years)), [str(y) for y in years])
    bottom.set_xlabel(t("chart.year"))
    _legend(fig, bottom, [(plt.Line2D([], [], color=COLOURS[i % len(COLOURS)], marker=MARKERS[i % len(MARKERS)],
                                      linestyle="none"), a.scenario.name) for i, a in enumerate(arms)])  # fmt: skip
    return _save(fig, path, t("chart.caption_ideel", n=n))


def monitor_chart(arms: list[Arm], path: Path, t, start: dt.date | None) -> Chart | None:
    """Cumulative movements towards work per scenario against the base value and target paths."""
    frames = [(a, monitor_table(a, start=start)) for a in arms]
    frames = [(a, f) for a, f in frames if not f.empty]
    if not frames:
        return None
    fig, ax = plt.subplots(figsize=(9, 4.8))
    handles = []
    quarters = frames[0][1]["quarter"].tolist()
    x = np.arange(len(quarters))
    for arm, frame in frames:
        handles.append(band(ax, x, frame["cumulative_p5"], frame["cumulative"], frame["cumulative_p95"],
                            arms.index(arm), arm.scenario.name))  # fmt: skip
    reference = frames[0][1]
    (base_line,) = ax.plot(x, reference["cumulative_base"], color="#222", linestyle="--", linewidth=1)
    (target_line,) = ax.plot(x, reference["cumulative_target"], color="#c00000", linestyle=":", linewidth=1.5)
    handles += [(base_line, t("chart.monitor_base")), (target_line, t("chart.monitor_target"))]
    ax.set_xticks(x, quarters, rotation=45, fontsize=8)
    first = quarters[0]
    ax.set_title(t("chart.monitor_title", start=first))
    ax.set_ylabel(t("chart.monitor_axis"))
    ax.set_ylim(bottom=0)
    _legend(fig, ax, handles, below=0.2)  # below the rotated quarter labels
    return _save(fig, path, t("chart.caption_monitor", start=first, n=arms[0].caseload.shape[0]))


def figure_texts(fig) -> list[str]:
    """Every non-empty text on a figure: titles, axis labels, tick labels, legend entries."""
    return [txt.get_text() for txt in fig.findobj(Text) if txt.get_text().strip()]


def _legend(fig, ax, handles, below: float = 0.1) -> None:
    legend(ax, handles, below=below if ax.get_xlabel() == "" else below + 0.08)


def _save(fig, path: Path, caption: str) -> Chart:
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    texts = figure_texts(fig)  # after drawing: tick labels exist only then
    plt.close(fig)
    return Chart(Path(path), caption, texts)
