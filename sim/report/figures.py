"""Key figures of a comparison: the numbers a council letter quotes, with how sure we are.

Everything comes from the arms' annual tables (the same ``annual.csv`` columns
``run`` writes): per replication the figures of each scenario, and for an
alternative the paired difference to the base with its 95% t-interval
(:func:`sim.analysis.compare.paired_interval`). Money columns that a scenario
does not produce (no ``[budget]``, or ``staff_cost`` not yet in the ledger) are
left out, not shown as zero.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pydantic import BaseModel

from sim.analysis.compare import Arm, metric_values, paired_interval, ratio_interval
from sim.io.tables import deficit_probability
from sim.model.values import DatedValues

# (measure, unit): the order of the key-figure table
MEASURES = (
    ("caseload_end", "count"),
    ("exits_work", "count"),
    ("i_deel_cost", "eur"),
    ("i_deel_result", "eur"),
    ("staff_cost", "eur"),
    ("programme_spent", "eur"),
    ("net_result", "eur"),  # benefits saved minus what the policy cost: the payback (sim.io.tables.policy_columns)
)
POLICY_COSTS = ("policy_cost",)  # what an extra exit to work is paid with (sim.io.tables.policy_columns)
LAST_YEARS = 3


@dataclass
class Figure:
    """One scenario's figure: its mean, and for an alternative the paired difference to the base."""

    mean: float
    diff: float | None = None
    low: float | None = None
    high: float | None = None
    n: int = 0

    @property
    def clear(self) -> bool:
        """The 95% interval of the difference excludes zero."""
        return self.low is not None and (self.low > 0 or self.high < 0)


@dataclass
class Row:
    """One line of the key-figure table: a measure in a year, a figure per scenario (None: not shown)."""

    year: int
    measure: str
    unit: str  # count | eur | share | eur_per_exit
    figures: list[Figure | None] = field(default_factory=list)


def with_derived(annual: pd.DataFrame) -> pd.DataFrame:
    """The annual table with ``i_deel_cost`` = benefit cost + LKS cost (when the run has a budget)."""
    out = annual.copy()
    if "benefit_cost" in out:
        out["i_deel_cost"] = out["benefit_cost"] + (out["lks_cost"] if "lks_cost" in out else 0.0)
    return out


def measures(arms: list[Arm]) -> list[tuple[str, str]]:
    """The measures every arm's annual table has."""
    tables = [with_derived(a.annual) for a in arms]
    return [(m, unit) for m, unit in MEASURES if all(m in t for t in tables)]


def values(arm: Arm, measure: str, years: list[int]) -> np.ndarray:
    """Per replication: ``measure`` summed over ``years`` (one year: its value)."""
    table = with_derived(arm.annual)
    table = table[table["year"].isin(years)]
    return table.groupby("replication")[measure].sum().sort_index().to_numpy(dtype=float)


def figure(base: Arm, arm: Arm, measure: str, years: list[int]) -> Figure:
    a = values(arm, measure, years)
    if arm is base:
        return Figure(mean=float(a.mean()), n=len(a))
    diff, low, high = paired_interval(a, values(base, measure, years))
    return Figure(mean=float(a.mean()), diff=diff, low=low, high=high, n=len(a))


def key_figures(arms: list[Arm], years: list[int]) -> list[Row]:
    """The rows of the key-figure table for ``years``; ``arms[0]`` is the base."""
    base = arms[0]
    present = measures(arms)
    costs = [m for m in POLICY_COSTS if all(m in a.annual for a in arms)]  # not a table row, but what an exit costs
    rows = []
    for year in years:
        for measure, unit in present:
            rows.append(Row(year, measure, unit, [figure(base, arm, measure, [year]) for arm in arms]))
        if costs and len(arms) > 1 and "exits_work" in dict(present):
            per_exit = [cost_per_extra_exit(base, arm, costs, year) for arm in arms[1:]]
            if any(f is not None for f in per_exit):  # a row of dashes only would say nothing
                rows.append(Row(year, "cost_per_extra_exit", "eur_per_exit", [None, *per_exit]))
        if "i_deel_result" in dict(present):
            rows.append(Row(year, "p_deficit", "share", [deficit(arm, year) for arm in arms]))
    return rows


def cost_per_extra_exit(base: Arm, arm: Arm, costs: list[str], year: int) -> Figure | None:
    """Extra policy cost divided by extra exits to work in ``year``; None unless the extra exits are clear."""
    exits = figure(base, arm, "exits_work", [year])
    if not (exits.clear and exits.diff > 0):
        return None
    extra = sum(figure(base, arm, c, [year]).diff for c in costs)
    if extra == 0:  # the cost columns do not move: the policy's cost is not in the model, not zero
        return None
    cost = sum(metric_values(arm, c, year) - metric_values(base, c, year) for c in costs)
    more = metric_values(arm, "exits_work", year) - metric_values(base, "exits_work", year)
    ratio, low, high = ratio_interval(cost, more)
    return Figure(mean=ratio, diff=ratio, low=low, high=high, n=exits.n)


def deficit(arm: Arm, year: int) -> Figure | None:
    """P(I-deel deficit) in ``year`` with the summary's 90% Wilson interval (``p5``/``p95``)."""
    table = deficit_probability(arm.annual)
    row = table[table["year"] == year]
    if row.empty:
        return None
    r = row.iloc[0]
    return Figure(mean=float(r["mean"]), low=float(r["p5"]), high=float(r["p95"]), n=int(r["n"]))


def simulated_years(arm: Arm) -> list[int]:
    return sorted(int(y) for y in arm.annual["year"].unique())


def default_years(arms: list[Arm]) -> list[int]:
    """The years in which an alternative's levers or dated values differ from the base, else the last 3."""
    available = simulated_years(arms[0])
    years: set[int] = set()
    for arm in arms[1:]:
        years |= policy_years(arms[0].scenario, arm.scenario, available)
    chosen = sorted(years & set(available))
    return chosen or available[-LAST_YEARS:]


def policy_years(base, alt, available: list[int]) -> set[int]:
    """Calendar years touched by a lever that differs, or by dated values that differ."""
    last = available[-1] if available else base.start.year
    years: set[int] = set()
    for name in set(base.levers) | set(alt.levers):
        mine, theirs = alt.levers.get(name), base.levers.get(name)
        if mine == theirs:
            continue
        for lever in (mine, theirs):
            if lever is not None:
                end = (lever.end - dt.timedelta(days=1)).year if lever.end else last
                years.update(range(lever.start.year, end + 1))
    for a, b in _dated_pairs(base, alt):
        years.update(y for y in available if _differ_in(a, b, y))
    return years


def _differ_in(a: DatedValues | None, b: DatedValues | None, year: int) -> bool:
    if a is None or b is None:
        return True
    moments = {dt.date(year, 1, 1)} | {d for d in (*a.values, *b.values) if d.year == year}
    return any(a.at(m) != b.at(m) for m in moments)


def _dated_pairs(a, b):
    """Pairs of dated values at the same place in two scenarios (one side None where it is absent)."""
    if isinstance(a, DatedValues) or isinstance(b, DatedValues):
        if a != b:
            yield a if isinstance(a, DatedValues) else None, b if isinstance(b, DatedValues) else None
        return
    if isinstance(a, BaseModel) and type(a) is type(b):
        for name in type(a).model_fields:
            yield from _dated_pairs(getattr(a, name), getattr(b, name))
    elif isinstance(a, dict) and isinstance(b, dict):
        for key in set(a) | set(b):
            yield from _dated_pairs(a.get(key), b.get(key))


def summary(arms: list[Arm], years: list[int], t) -> list[str]:
    """One paragraph per alternative in plain words: what changes, by how much, how sure we are."""
    base = arms[0]
    n = base.caseload.shape[0]
    if len(arms) == 1:
        return [t("summary.only_base")]
    present = dict(measures(arms))
    last = years[-1]
    span = t("summary.in_year", year=last) if len(years) == 1 else t("summary.period", years=t.years(years))
    paragraphs = []
    for arm in arms[1:]:
        parts, clear, unclear = [], [], []
        items = [("caseload_end", [last], "summary.caseload", t("summary.at_end", year=last), t.number),
                 ("exits_work", years, "summary.exits", span, t.number)]  # fmt: skip
        if "i_deel_cost" in present:
            items.append(("i_deel_cost", years, "summary.cost", span, t.euro))
        for measure, period, key, when, fmt in items:
            f = figure(base, arm, measure, period)
            value = t("summary.interval", value=fmt(f.diff, sign=True), low=fmt(f.low, sign=True),
                      high=fmt(f.high, sign=True))  # fmt: skip
            parts.append(t(key, when=when, value=value))
            (clear if f.clear else unclear).append(t(f"short.{measure}"))
        text = f"{t('summary.intro', base=base.scenario.name, alt=arm.scenario.name)} {t.join(parts)}. "
        if not unclear:
            text += t("summary.sure_all")
        elif not clear:
            text += t("summary.sure_none")
        else:
            text += t("summary.sure_some", clear=t.join(clear), unclear=t.join(unclear))
        if "i_deel_result" in present:
            mine, theirs = deficit(arm, last), deficit(base, last)
            if mine is not None and theirs is not None:
                text += " " + t("summary.deficit", year=last, alt_p=t.percent(mine.mean), low=t.percent(mine.low),
                                high=t.percent(mine.high), base_p=t.percent(theirs.mean), n=mine.n)  # fmt: skip
        paragraphs.append(text + " " + t("summary.basis", n=n))
    return paragraphs


def is_finite(x) -> bool:
    return x is not None and math.isfinite(x)
