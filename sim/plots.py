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
    n = monthly["replication"].nunique()
    fig.text(0.01, 0.005, f"Lines: median; bands: 5-95% of {n} replications.", fontsize=8, color="#555")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
