"""Charts for people who would rather look than read: fan charts with uncertainty bands."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a screen
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def fan(ax, x, samples: np.ndarray, color: str, label: str) -> None:
    """Median line with a 5-95% band; ``samples`` is [replication, time]."""
    lo, mid, hi = np.percentile(samples, [5, 50, 95], axis=0)
    ax.fill_between(x, lo, hi, color=color, alpha=0.25, linewidth=0)
    ax.plot(x, mid, color=color, label=label, linewidth=1.6)


def save_figure(fig, path: Path, note: str) -> None:
    """Footnote what the lines and bands are, save and close (every chart ends this way)."""
    fig.text(0.01, 0.005, note, fontsize=8, color="#555")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def save_fan_figure(fig, path: Path, replications: int) -> None:
    save_figure(fig, path, f"Lines: median; bands: 5-95% of {replications} replications.")


def caseload_fan_chart(monthly: pd.DataFrame, path: Path, title: str) -> None:
    """Total caseload and each on-caseload state: median with a 5-95% band across replications."""
    on = monthly[monthly["on_caseload"]]
    dates = pd.to_datetime(sorted(on["period"].unique()))
    states = list(dict.fromkeys(on["state"]))
    total = on.groupby(["replication", "period"])["stock"].sum().unstack("period").to_numpy()

    fig, (ax_total, ax_states) = plt.subplots(2, 1, figsize=(9, 8), sharex=True, height_ratios=[1, 1.3])
    fan(ax_total, dates, total, "#1f4e79", "households on bijstand")
    ax_total.set_ylabel("households")
    ax_total.set_title(title)
    ax_total.legend(loc="upper left", frameon=False)
    colours = plt.get_cmap("tab10")
    for i, state in enumerate(states):
        series = on[on["state"] == state].pivot(index="replication", columns="period", values="stock").to_numpy()
        fan(ax_states, dates, series, colours(i % 10), state)
    ax_states.set_ylabel("households by state")
    ax_states.legend(loc="upper left", ncol=4, fontsize=8, frameon=False)
    ax_states.xaxis.set_major_locator(mdates.YearLocator())
    ax_states.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    save_fan_figure(fig, path, monthly["replication"].nunique())


def i_deel_risk_chart(annual: pd.DataFrame, path: Path, title: str) -> None:
    """Distribution of the yearly I-deel result across replications, with P(deficit) per year."""
    years = sorted(annual["year"].unique())
    data = [annual.loc[annual["year"] == y, "i_deel_result"].to_numpy() / 1e6 for y in years]
    fig, ax = plt.subplots(figsize=(9, 5))
    ax.boxplot(data, positions=range(len(years)), widths=0.6, whis=(5, 95), showfliers=False)
    rng = np.random.default_rng(0)  # jitter only, for the dots
    for i, values in enumerate(data):
        ax.scatter(i + rng.uniform(-0.18, 0.18, len(values)), values, s=8, color="#1f4e79", alpha=0.5)
        p = float(np.mean(values < 0))
        ax.annotate(f"P(deficit)\n{p:.0%}", (i, 1.0), xycoords=("data", "axes fraction"), ha="center",
                    va="top", fontsize=8, color="#a61b1b" if p >= 0.5 else "#333")  # fmt: skip
    ax.axhline(0.0, color="#a61b1b", linewidth=1, linestyle="--")
    ax.set_xticks(range(len(years)), [str(y) for y in years])
    ax.set_ylabel("I-deel result (grant - benefits - LKS), EUR million")
    ax.set_title(title, pad=28)
    n = annual["replication"].nunique()
    fig.text(0.01, 0.005, f"Boxes: 25-75%, whiskers 5-95% of {n} replications; below the dashed line is a deficit.",
             fontsize=8, color="#555")  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


BUDGET_SERIES = (
    ("i_deel_grant", "I-deel grant", "#1f4e79"),
    ("benefit_cost", "benefit cost", "#a61b1b"),
    ("lks_cost", "LKS cost", "#d98c1f"),
    ("reserve_balance", "reserve Werk en Inkomen", "#2b7a3d"),
    ("revolving_fund_balance", "Revolverend Fonds", "#7a2b7a"),
    ("participatiebudget_spent", "Participatiebudget pots spent", "#555555"),
    ("programme_spent", "programme budgets spent", "#1f9e9e"),
)


def budgets_chart(annual: pd.DataFrame, path: Path, title: str) -> None:
    """Yearly money flows and balances: median with a 5-95% band across replications."""
    years = sorted(annual["year"].unique())
    fig, (ax_big, ax_small) = plt.subplots(2, 1, figsize=(9, 8), sharex=True)
    for column, label, colour in BUDGET_SERIES:
        if column not in annual:
            continue
        samples = annual.pivot(index="replication", columns="year", values=column)[years].to_numpy() / 1e6
        big = column in ("i_deel_grant", "benefit_cost")
        fan(ax_big if big else ax_small, years, samples, colour, label)
    ax_big.set_ylabel("EUR million a year")
    ax_big.set_title(title)
    ax_small.set_ylabel("EUR million")
    for ax in (ax_big, ax_small):
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax_small.set_xticks(years, [str(y) for y in years])
    save_fan_figure(fig, path, annual["replication"].nunique())


def budget_charts(annual: pd.DataFrame, folder: Path, name: str) -> None:
    """``i_deel_risk.png`` and ``budgets.png`` when the run has a budget section (else nothing)."""
    if "i_deel_result" not in annual:
        return
    i_deel_risk_chart(annual, Path(folder) / "i_deel_risk.png", f"{name}: I-deel result per year")
    budgets_chart(annual, Path(folder) / "budgets.png", f"{name}: budgets")
