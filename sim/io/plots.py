"""Charts of a run folder, and the drawing rules every chart of the package follows.

* Bands are told apart by hatching and dashed outlines, not stacked transparency.
* Counts and amounts start their axis at zero; stocks (balances) and yearly flows
  get separate axes.
* Legends sit below the plot, so no line runs through their text.
* Labels come from the scenario (state ``label``, ``name``) and the language
  catalogue (:mod:`sim.util.i18n`), never from file keys.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a screen
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.legend_handler import HandlerTuple  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

COLOURS = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#a61b1b", "#555555", "#1f9e9e")
HATCHES = ("////", "\\\\\\\\", "xxx", "...", "---", "+++", "|||", "ooo", "***")
DPI = 120


def band(ax, x, lo, mid, hi, i: int, label: str):
    """Line ``mid`` with a hatched, outlined band ``lo``-``hi``; returns ``(handle, label)`` for :func:`legend`."""
    colour, hatch = COLOURS[i % len(COLOURS)], HATCHES[i % len(HATCHES)]
    ax.fill_between(x, lo, hi, facecolor="none", edgecolor=colour, hatch=hatch, linewidth=0)
    ax.plot(x, lo, color=colour, linewidth=0.7, linestyle=(0, (2, 2)))
    ax.plot(x, hi, color=colour, linewidth=0.7, linestyle=(0, (2, 2)))
    (line,) = ax.plot(x, mid, color=colour, linewidth=1.8)
    return (Patch(facecolor="white", edgecolor=colour, hatch=hatch, linewidth=0.7), line), label


def fan(ax, x, samples: np.ndarray, i: int, label: str):
    """Median with a 5-95% band across replications (``samples`` is [replication, time])."""
    lo, mid, hi = np.percentile(samples, [5, 50, 95], axis=0)
    return band(ax, x, lo, mid, hi, i, label)


def legend(ax, handles, below: float = 0.1, ncol: int = 3) -> None:
    """A legend under the axes (line and band drawn as one entry)."""
    handles = [(h, label) for h, label in handles if h is not None]
    if handles:
        ax.legend([h for h, _ in handles], [label for _, label in handles], loc="upper left",
                  bbox_to_anchor=(0.0, -below), ncol=min(ncol, len(handles)), frameon=False, fontsize=8,
                  handler_map={tuple: HandlerTuple(ndivide=1)})  # fmt: skip


def date_axis(ax) -> None:
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))


def save(fig, path: Path, note: str = "") -> None:
    """Footnote what lines and bands are (when given), save with the legend included, close."""
    if note:
        fig.text(0.01, -0.02, note, fontsize=8, color="#555")
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)


def _t(lang: str | None):
    from sim.util.i18n import Texts

    return Texts(lang or "nl")


def caseload_fan_chart(monthly: pd.DataFrame, path: Path, title: str, labels: dict[str, str] | None = None,
                       lang: str | None = None) -> None:  # fmt: skip
    """Total caseload and each on-caseload state: median with a 5-95% band across replications.

    Args:
        monthly: Columns ``replication, period, state, on_caseload, stock``.
        labels: State name -> the scenario's state ``label`` (the legend never shows file keys).
    """
    t = _t(lang)
    labels = labels or {}
    on = monthly[monthly["on_caseload"]]
    dates = pd.to_datetime(sorted(on["period"].unique())) + pd.offsets.MonthEnd(0)
    states = list(dict.fromkeys(on["state"]))
    total = on.groupby(["replication", "period"], observed=True)["stock"].sum().unstack("period").to_numpy()
    n = monthly["replication"].nunique()
    fig, (ax_total, ax_states) = plt.subplots(2, 1, figsize=(9, 9), sharex=True, height_ratios=[1, 1.3])
    fan(ax_total, dates, total, 0, t("chart.caseload_title"))
    ax_total.set_ylabel(t("chart.caseload_axis"))
    ax_total.set_title(title)
    ax_total.set_ylim(bottom=0)
    handles = []
    for i, state in enumerate(states):
        series = on[on["state"] == state].pivot(index="replication", columns="period", values="stock").to_numpy()
        handles.append(fan(ax_states, dates, series, i + 1, labels.get(state, state)))
    ax_states.set_ylabel(t("chart.states_axis"))
    ax_states.set_ylim(bottom=0)
    date_axis(ax_states)
    legend(ax_states, handles, ncol=2)
    save(fig, path, t("chart.note_fan", n=n))


def i_deel_risk_chart(annual: pd.DataFrame, path: Path, title: str, lang: str | None = None) -> None:
    """The yearly I-deel result across replications, and P(deficit) with its 90% Wilson interval and n."""
    from sim.io.tables import deficit_probability

    t = _t(lang)
    years = sorted(annual["year"].unique())
    n = annual["replication"].nunique()
    data = [annual.loc[annual["year"] == y, "i_deel_result"].to_numpy() / 1e6 for y in years]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True, height_ratios=[1.4, 1])
    top.boxplot(data, positions=range(len(years)), widths=0.6, whis=(5, 95), showfliers=False)
    rng = np.random.default_rng(0)  # jitter only, for the dots
    for i, values in enumerate(data):
        top.scatter(i + rng.uniform(-0.18, 0.18, len(values)), values, s=8, color=COLOURS[0], alpha=0.6)
    top.axhline(0.0, color="#a61b1b", linewidth=1, linestyle="--")
    top.set_ylabel(t("chart.ideel_axis"))
    top.set_title(title)
    risk = deficit_probability(annual).set_index("year").loc[years]
    p, lo, hi = (100 * risk[c].to_numpy() for c in ("mean", "p5", "p95"))
    bottom.errorbar(range(len(years)), p, yerr=[p - lo, hi - p], fmt="o", color=COLOURS[6], capsize=4)
    for i, value in enumerate(p):
        bottom.annotate(t.percent(value / 100), (i + 0.06, value), ha="left", va="center", fontsize=8)
    bottom.set_ylim(-3, 103)
    bottom.set_ylabel(t("chart.deficit_axis"))
    bottom.set_title(f"{t('chart.deficit_title')} (n = {n})")
    bottom.set_xticks(range(len(years)), [str(y) for y in years])
    save(fig, path, t("chart.note_risk", n=n))


# (column, catalogue key): yearly flows and year-end stocks go on separate axes
BUDGET_FLOWS = (
    ("i_deel_grant", "budget.i_deel_grant"), ("benefit_cost", "budget.benefit_cost"), ("lks_cost", "budget.lks_cost"),
    ("participatiebudget_spent", "budget.participatiebudget_spent"), ("programme_spent", "budget.programme_spent"),
    ("staff_cost", "budget.staff_cost"),
)  # fmt: skip
BUDGET_STOCKS = (
    ("reserve_balance", "budget.reserve_balance"), ("revolving_fund_balance", "budget.revolving_fund_balance"),
)  # fmt: skip


def budgets_chart(annual: pd.DataFrame, path: Path, title: str, lang: str | None = None) -> None:
    """Yearly money flows (top) and year-end balances (bottom), median with a 5-95% band, from zero."""
    t = _t(lang)
    years = sorted(annual["year"].unique())
    fig, axes = plt.subplots(2, 1, figsize=(9, 9), sharex=True)
    panels = ((axes[0], BUDGET_FLOWS, "chart.flows_axis"), (axes[1], BUDGET_STOCKS, "chart.stocks_axis"))
    for ax, series, axis in panels:
        handles = []
        for i, (column, key) in enumerate(s for s in series if s[0] in annual):
            samples = annual.pivot(index="replication", columns="year", values=column)[years].to_numpy() / 1e6
            handles.append(fan(ax, years, samples, i, t(key)))
        ax.set_ylabel(t(axis))
        ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))  # amounts from zero (a balance may still go below)
        legend(ax, handles, below=0.08 if ax is axes[0] else 0.14)
    axes[0].set_title(title)
    axes[1].set_xticks(years, [str(y) for y in years])
    fig.subplots_adjust(hspace=0.45)
    save(fig, path, t("chart.note_fan", n=annual["replication"].nunique()))


def budget_charts(annual: pd.DataFrame, folder: Path, name: str, lang: str | None = None) -> None:
    """``i_deel_risk.png`` and ``budgets.png`` when the run has a budget section (else nothing); for a region
    (a ``municipality`` column) the charts show its total rows."""
    if "i_deel_result" not in annual:
        return
    if "municipality" in annual:
        annual = annual[annual["municipality"] == "total"].drop(columns="municipality")
    t = _t(lang)
    i_deel_risk_chart(annual, Path(folder) / "i_deel_risk.png", f"{name}: {t('chart.ideel_title')}", lang)
    budgets_chart(annual, Path(folder) / "budgets.png", f"{name}: {t('chart.budgets_title')}", lang)
