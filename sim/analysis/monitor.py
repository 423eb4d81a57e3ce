"""A scenario's monitors: the indicators its programmes report on, computed from simulated replications.

Two kinds, declared under ``[monitors.<name>]`` in the scenario (docs/scenarios.md):

* ``movements``: movements towards work (the four core indicators plaatsing,
  scholing, deeltijdwerk and uitstroom naar werk) that start from the states a
  programme covers, per quarter from its start, against the base value (regular
  service) and the target path, with the published realisation beside them.
  Utrecht's Werkbeweging counts arrangement 3 (docs/scenarios.md).
* ``outflow_rate``: a flow per year over the average caseload (an
  ``uitstroompercentage``), and the goal that one year's percentage lies above
  that of the years it is compared with, with the share of replications in
  which it does.

The reference values (base, target, published figures, goal years) are
scenario data with their sources; the simulated counts come from the engine.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.model.schema import MOVEMENTS, MovementsMonitor, OutflowMonitor  # noqa: E402

INDICATORS = MOVEMENTS


def movement_monitors(scenario) -> dict[str, MovementsMonitor]:
    return {n: m for n, m in scenario.monitors.items() if isinstance(m, MovementsMonitor)}


def first_movements(scenario) -> tuple[str, MovementsMonitor] | None:
    """The scenario's first movements monitor (name, monitor), or None."""
    return next(iter(movement_monitors(scenario).items()), None)


def monitored_quarters(scenario, start: dt.date) -> int:
    """Whole quarters from ``start`` that ``scenario`` simulates (0: none)."""
    m0 = (start.year - scenario.start.year) * 12 + (start.month - scenario.start.month)
    months = 12 * scenario.years
    return max(0, (months - m0) // 3) if 0 <= m0 < months else 0


QUARTERS_AFTER = 4  # quarters shown after the programme's target quarter


def monitor_table(arm, monitor: MovementsMonitor | None = None, start: dt.date | None = None) -> pd.DataFrame:
    """One row per whole quarter from the monitor's start (or ``start``) to a year after its target
    (``QUARTERS_AFTER``) or the horizon: indicator means, movements and their
    cumulative count with a 5-95% band, the base and target paths, the extra movements above base, and the
    published extra where the scenario gives it. Empty when the scenario does not reach the start or has no
    movements monitor.

    Args:
        arm: a :class:`sim.analysis.compare.Arm` (``movements`` is [replication, month, state, indicator]).
        monitor: the monitor (default: the arm's scenario's first movements monitor).
        start: first day of the first monitored quarter (default: the monitor's start).
    """
    if monitor is None:
        found = first_movements(arm.scenario)
        if found is None:
            return pd.DataFrame()
        monitor = found[1]
    start = start or monitor.start
    if start.day != 1 or (start.month - 1) % 3:
        raise ValueError(f"monitor start {start} is not the first day of a quarter")
    labels = arm.months
    first = f"{start.year:04d}-{start.month:02d}"
    if first not in labels:
        return pd.DataFrame()
    m0 = labels.index(first)
    # the programme's quarters and a year after its target, to show whether the extra movements last; beyond
    # that the count against a base value of years before says little about the programme
    end = (monitor.start.year * 12 + monitor.start.month - 1) + 3 * (monitor.quarters + QUARTERS_AFTER)
    n_quarters = min((len(labels) - m0) // 3, (end - (start.year * 12 + start.month - 1)) // 3)
    if n_quarters <= 0:
        return pd.DataFrame()
    names = arm.compiled.state_names()
    states = [names.index(s) for s in monitor.states]
    kinds = [INDICATORS.index(i) for i in monitor.indicators]
    moves = arm.movements[:, m0 : m0 + 3 * n_quarters][:, :, states][:, :, :, kinds].sum(axis=2)  # [rep, month, ind]
    per_q = moves.reshape(moves.shape[0], n_quarters, 3, len(kinds)).sum(axis=2)  # [rep, quarter, indicator]
    total = per_q.sum(axis=2)
    cumulative = np.cumsum(total, axis=1)
    n = np.arange(1, n_quarters + 1)
    base_q = monitor.base_per_year.value / 4
    target_q = (monitor.quarters * base_q + monitor.extra_target.value) / monitor.quarters
    quarters = [_quarter(start, q) for q in range(n_quarters)]
    frame = pd.DataFrame({"quarter": quarters})
    for i, k in enumerate(kinds):
        frame[INDICATORS[k]] = per_q[:, :, i].mean(axis=0)
    frame["movements"] = total.mean(axis=0)
    frame["movements_p5"], frame["movements_p95"] = np.percentile(total, [5, 95], axis=0)
    frame["base_quarter"] = base_q
    frame["cumulative"] = cumulative.mean(axis=0)
    frame["cumulative_p5"], frame["cumulative_p95"] = np.percentile(cumulative, [5, 95], axis=0)
    frame["cumulative_base"] = base_q * n
    frame["cumulative_target"] = np.where(n <= monitor.quarters, target_q * n, np.nan)
    extra = cumulative - base_q * n
    frame["extra_vs_base"] = extra.mean(axis=0)
    frame["extra_p5"], frame["extra_p95"] = np.percentile(extra, [5, 95], axis=0)
    frame["published_extra"] = [_published(monitor, start, q) for q in range(n_quarters)]
    return frame.round(1)


def _published(monitor: MovementsMonitor, start: dt.date, q: int) -> float:
    """The published cumulative extra at the end of quarter ``q`` (NaN where none is published)."""
    if monitor.published is None:
        return float("nan")
    first = start.month - 1 + 3 * q
    end = dt.date(start.year + (first + 2) // 12, (first + 2) % 12 + 1, 1)  # the quarter's last month
    for date, value in monitor.published.values.items():
        if (date.year, date.month) == (end.year, end.month):
            return float(value)
    return float("nan")


def outflow_table(arm, monitor: OutflowMonitor, name: str | None = None) -> pd.DataFrame:
    """One row per simulated year: the outflow percentage (mean and 5-95%), and the goal's verdict.

    The percentage is ``100 x flow / caseload_mean`` per replication, over the monitor's states when it
    names some (the annual table's ``monitor_<name>_pct``; ``name`` defaults to the monitor's key in the
    arm's scenario). The verdict compares the goal year with every year it must exceed: ``goal_met_share``
    is the share of replications in which it exceeds them all (so the model's own uncertainty about the
    goal is visible, not only the means). A monitor without a goal gets no verdict.
    """
    annual = arm.annual
    if "municipality" in annual:
        annual = annual[annual["municipality"] == "total"]
    if name is None:
        scenario = getattr(arm, "scenario", None)
        name = next((n for n, m in getattr(scenario, "monitors", {}).items() if m is monitor), None)
    column = f"monitor_{name}_pct"
    if column in annual:
        rate = annual[column].rename("rate")
    elif monitor.states:
        raise ValueError(f"{column}: the annual table has no column for this monitor's states")
    else:
        flow = annual["exits_work"] + annual["exits_other"] if monitor.flow == "exits" else annual[monitor.flow]
        rate = (100 * flow / annual["caseload_mean"]).rename("rate")
    wide = pd.concat([annual[["replication", "year"]], rate], axis=1).pivot(index="replication", columns="year", values="rate")
    rows = [{"year": int(y), "outflow_pct": wide[y].mean(), "outflow_pct_p5": wide[y].quantile(0.05),
             "outflow_pct_p95": wide[y].quantile(0.95)} for y in wide.columns]  # fmt: skip
    frame = pd.DataFrame(rows)
    years = [monitor.goal_year, *monitor.above]
    if monitor.goal_year is not None and all(y in wide.columns for y in years):
        met = (wide[monitor.goal_year].to_numpy()[:, None] > wide[monitor.above].to_numpy()).all(axis=1)
        frame["goal"] = ["goal year" if y == monitor.goal_year else "compared" if y in monitor.above else "" for y in frame["year"]]
        frame.attrs["goal_met_share"] = float(met.mean())
        frame.attrs["verdict"] = verdict(monitor, wide, met)
    return frame.round(3)


def verdict(monitor: OutflowMonitor, wide: pd.DataFrame, met: np.ndarray) -> str:
    """The goal in words with what the simulation says of it."""
    goal = wide[monitor.goal_year].mean()
    others = ", ".join(f"{y}: {wide[y].mean():.1f}%" for y in monitor.above)
    return (
        f"{monitor.label}: {monitor.goal_year} {goal:.1f}% against {others}; the goal (above all of them) is met "
        f"in {100 * met.mean():.0f}% of {len(met)} replications"
    )


def monitor_chart(frame: pd.DataFrame, path: Path, title: str, indicators=INDICATORS) -> None:
    """Stacked indicators per quarter with the base line; cumulative extra above base against the target
    and the published figures."""
    x = np.arange(len(frame))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7.5), sharex=True)
    bottom_of = np.zeros(len(frame))
    colours = ("#1f4e79", "#2e75b6", "#c55a11", "#548235")
    for name, colour in zip(indicators, colours):
        if name in frame:
            top.bar(x, frame[name], bottom=bottom_of, color=colour, label=name, width=0.7)
            bottom_of += frame[name].to_numpy()
    base_q = float(frame["base_quarter"].iloc[0])
    top.axhline(base_q, color="#222", linestyle="--", linewidth=1, label=f"base value ({base_q:,.0f} a quarter)")
    top.set_ylim(0, 1.35 * max(float(bottom_of.max()), base_q))  # room for the legend
    top.set_ylabel("movements a quarter (mean)")
    top.set_title(title)
    top.legend(loc="upper left", ncol=3, fontsize=8, frameon=False)
    bottom.fill_between(x, frame["extra_p5"], frame["extra_p95"], facecolor="none", edgecolor="#1f4e79", hatch="///",
                        linewidth=0.5)  # fmt: skip
    bottom.plot(x, frame["extra_vs_base"], color="#1f4e79", label="simulated extra above base (mean, 5-95% band)")
    bottom.plot(x, frame["cumulative_target"] - frame["cumulative_base"], color="#c00000", linestyle=":",
                label="target path")  # fmt: skip
    published = frame["published_extra"].notna()
    if published.any():
        bottom.scatter(x[published], frame.loc[published, "published_extra"], color="black", zorder=5,
                       label="published extra (progress report)")  # fmt: skip
    bottom.axhline(0, color="#555", linewidth=0.8)
    bottom.set_ylabel("cumulative extra movements")
    bottom.set_xticks(x, frame["quarter"], rotation=45, fontsize=8)
    bottom.legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _quarter(start: dt.date, offset: int) -> str:
    q = (start.month - 1) // 3 + offset
    return f"{start.year + q // 4}Q{q % 4 + 1}"
