"""Goal-seek: the lever value at which a metric reaches a target, with its uncertainty.

Every evaluation runs the same replications with the same seed (common random
numbers, :mod:`sim.streams`), so the mean response to the lever is a smooth-ish,
nearly noise-free curve and a bracketing root-finder (Brent's method) can
follow it. The uncertainty comes from the replication spread at the root,
carried through the local slope: a 95% t-interval of the metric mean, divided
by ``|d metric / d lever|`` (estimated from paired runs either side of the root).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize, stats

from sim.analysis.compare import arm_from_results, metric_values
from sim.engines.backends import run_replications
from sim.io.tables import annual_columns
from sim.model import paths
from sim.model.compiled import compile_scenario
from sim.model.ensemble import without_paths
from sim.model.loader import deep_merge, load_raw, resolve_path, validate
from sim.util.progress import Progress

LEVEL = 0.95
ESTIMATED_EVALUATIONS = 12  # two bounds, ~8 Brent steps, two slope points: the progress total to start from


class GoalSeekError(ValueError):
    """The target cannot be reached within the lever range."""


@dataclass
class GoalSeekResult:
    lever: str
    metric: str
    year: int | None
    target: float
    value: float  # the lever value found
    ci_low: float
    ci_high: float
    achieved_mean: float  # metric mean at ``value``
    achieved_half_width: float  # 95% half-width of that mean (replication spread)
    slope: float  # d metric / d lever at the root
    replications: int
    seed: int
    evaluations: list[tuple[float, float]] = field(default_factory=list)  # (lever value, metric mean)

    def summary(self) -> str:
        when = f" in {self.year}" if self.year else " over the horizon"
        return (
            f"{self.lever} = {self.value:.4g} (95% CI {self.ci_low:.4g} to {self.ci_high:.4g}) "
            f"gives {self.metric}{when} = {self.achieved_mean:,.1f} +/- {self.achieved_half_width:,.1f} "
            f"(target {self.target:,.1f}; slope {self.slope:.4g} per unit; {self.replications} replications, "
            f"{len(self.evaluations)} evaluations)"
        )


def set_lever(data: dict[str, Any], path: str, value: float) -> dict[str, Any]:
    """A copy of raw scenario data with the number at parameter ``path`` set to ``value``.

    ``path`` is a parameter path (:mod:`sim.model.paths`: ``werkmatchers.opstap.fte``, its
    ``.value`` optional, or ``levers.caseload_125.add``). A sourced value the file leaves out
    (e.g. a team's ``productivity``) is created with the source ``goal-seek``.
    """
    try:
        return paths.set(data, path, value, source="goal-seek")
    except paths.PathError as exc:
        raise GoalSeekError(f"--lever {exc}") from None


def lever_value(data: dict[str, Any], path: str, default: float = 1.0) -> float:
    """The lever's current value; ``default`` when the file leaves it out (productivity is 1)."""
    try:
        return paths.get(data, path, default=default)
    except paths.PathError as exc:
        raise GoalSeekError(f"--lever {exc}") from None


def check_request(raw: dict[str, Any], name, lever: str, metric: str, year: int | None, bounds: tuple[float, float]) -> None:
    """Refuse a lever, metric, year or range that cannot work, before any replication runs.

    Raises:
        GoalSeekError: The metric is not an annual column or the year is not simulated.
        sim.model.ScenarioError: The scenario is invalid at either end of the range.
    """
    for x in bounds:
        sc = validate(set_lever(raw, lever, float(x)), origin=f"{name} with {lever}={x}")
    columns = annual_columns(compile_scenario(sc), sc.monitors)
    if metric not in columns:
        raise GoalSeekError(f"--target: unknown metric {metric!r} (annual columns: {', '.join(columns)})")
    first, last = sc.start.year, sc.start.year + sc.years - 1
    if year is not None and not first <= year <= last:
        raise GoalSeekError(f"--year {year}: outside the simulated years {first}-{last}")


def goal_seek(
    scenario: str | Path,
    lever: str,
    metric: str,
    target: float,
    year: int | None = None,
    bounds: tuple[float, float] | None = None,
    replications: int = 10,
    seed: int = 1,
    workers: int = 1,
    years: int | None = None,
    xtol: float | None = None,
    progress: Progress | None = None,
    kernel: str = "auto",
) -> GoalSeekResult:
    """Find the ``lever`` value at which the mean of ``metric`` (in ``year``, or summed) equals ``target``.

    Args:
        scenario: scenario file or bundled name.
        lever: dotted path of a number in the scenario, e.g. ``werkmatchers.opstap.fte``.
        metric: a column of the annual table, e.g. ``exits_work`` or ``movements``.
        target: the value to reach.
        year: calendar year of the metric; None sums it over all simulated years.
        bounds: lever range searched (default: half to twice the scenario's value).
        replications, seed, workers: the CRN runs of every evaluation.
        years: horizon override.
        xtol: root-finder tolerance on the lever (default 0.1% of the range).
        progress: counts replications; its total is an estimate (see ``ESTIMATED_EVALUATIONS``)
            and grows when the root-finder needs more evaluations.
        kernel: the engine (:mod:`sim.engines.select`).

    Raises:
        GoalSeekError: when the target is not between the metric at the two bounds.
    """
    raw = load_raw(resolve_path(scenario))
    if years:
        raw = deep_merge(raw, {"years": years})
    x0 = lever_value(raw, lever)
    lo, hi = bounds if bounds else (0.5 * x0, 2.0 * x0) if x0 > 0 else (0.0, 1.0)
    if not lo < hi:
        raise GoalSeekError(f"--range: low {lo} must be below high {hi}")
    check_request(raw, scenario, lever, metric, year, (lo, hi))
    cache: dict[float, np.ndarray] = {}

    def values(x: float) -> np.ndarray:
        if x not in cache:
            sc = validate(set_lever(raw, lever, float(x)), origin=f"{scenario} with {lever}={x}")
            sc = without_paths(sc, [paths.canonical(lever)])  # parameter draws vary the rest, never the lever
            if progress is not None and progress.done + replications > progress.total:
                progress.grow(replications)  # Brent needed more evaluations than estimated
            runs = run_replications(sc, seed, replications, workers, progress=progress or False, kernel=kernel)
            cache[x] = metric_values(arm_from_results("goal", sc, runs, seed), metric, year)
        return cache[x]

    def gap(x: float) -> float:
        return float(values(x).mean()) - target

    g_lo, g_hi = gap(lo), gap(hi)
    if g_lo == 0:
        root = lo
    elif g_hi == 0:
        root = hi
    elif g_lo * g_hi > 0:
        raise GoalSeekError(
            f"target {metric}={target:g} not reached for {lever} in [{lo:g}, {hi:g}]: "
            f"the mean goes from {g_lo + target:,.1f} to {g_hi + target:,.1f} (widen --range)"
        )
    else:
        root = optimize.brentq(gap, lo, hi, xtol=xtol or 1e-3 * (hi - lo), maxiter=40)
    at = values(root)
    n = len(at)
    tq = stats.t.ppf(0.5 + LEVEL / 2, n - 1) if n > 1 else math.inf
    half = tq * at.std(ddof=1) / math.sqrt(n) if n > 1 else math.inf
    step = 0.05 * (hi - lo)
    left, right = max(lo, root - step), min(hi, root + step)
    slope = float((values(right) - values(left)).mean() / (right - left))  # paired: CRN cancels noise
    half_x = half / abs(slope) if slope != 0 else math.inf
    return GoalSeekResult(
        lever=lever,
        metric=metric,
        year=year,
        target=target,
        value=float(root),
        ci_low=float(root - half_x),
        ci_high=float(root + half_x),
        achieved_mean=float(at.mean()),
        achieved_half_width=float(half),
        slope=slope,
        replications=replications,
        seed=seed,
        evaluations=sorted((x, float(v.mean())) for x, v in cache.items()),
    )


def check_at(
    result: GoalSeekResult, scenario: str | Path, seed: int, workers: int = 1, years: int | None = None,
    progress: Progress | None = None, kernel: str = "auto",
):  # fmt: skip
    """Re-run at the found lever value with another seed: (mean, 95% half-width) of the metric."""
    raw = load_raw(resolve_path(scenario))
    if years:
        raw = deep_merge(raw, {"years": years})
    sc = without_paths(validate(set_lever(raw, result.lever, result.value)), [paths.canonical(result.lever)])
    runs = run_replications(sc, seed, result.replications, workers, progress=progress or False, kernel=kernel)
    arm = arm_from_results("check", sc, runs, seed)
    v = metric_values(arm, result.metric, result.year)
    half = stats.t.ppf(0.5 + LEVEL / 2, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v))
    return float(v.mean()), float(half)
