"""Scenario comparison with common random numbers and paired differences.

Every scenario is run with the same seed and the same replication indices, and
replication ``r`` of every scenario draws from the same per-client streams
(:mod:`sim.streams`): client ``i`` has the same attributes, intake draws and event
clocks in each scenario. A difference between scenarios in replication ``r``
is then mostly the policy, not noise, and the 95% interval of the mean
paired difference is a t-interval on ``alt_r - base_r``.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.engines.backends import run_replications
from sim.engines.result import Result
from sim.io.tables import TOTAL, annual_table, month_labels
from sim.model import Scenario, load_scenario, resolve_path
from sim.model.compiled import Compiled, compile_scenario
from sim.model.loader import BUNDLED
from sim.model.records import FLOW_INDEX
from sim.util.progress import Progress

LEVEL = 0.95
KEY_METRICS = ("caseload_end", "exits_work", "movements", "inflow", "exits_other")
COLUMNS = ["metric", "year", "scenario", "mean", "diff_vs_base", "diff_ci_low", "diff_ci_high"]


@dataclass
class Arm:
    """One scenario's replications, reduced to what a comparison needs."""

    key: str  # short name (file stem) used in tables and charts
    scenario: Scenario
    compiled: Compiled
    annual: pd.DataFrame  # sim.outputs.annual_table
    caseload: np.ndarray  # end-of-month households on the caseload [replication, month]
    exits_work: np.ndarray  # exits to work per month [replication, month]
    movements: np.ndarray  # movements towards work per month, by state and indicator [replication, month, state, 4]
    seed: int

    @property
    def months(self) -> list[str]:
        return month_labels(self.compiled)


KEY_CHARS = 23  # the report's sheets are named "monitor_<key>" within Excel's 31 characters


def arm_key(name: str | Path) -> str:
    """The short name of a scenario in tables, charts and sheet names: its file stem, made safe.

    Excel refuses ``[ ] : * ? / \\`` in sheet names and file systems some others, so
    anything but letters, digits, ``-`` and ``_`` becomes ``_``.
    """
    stem = Path(str(name)).stem
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "_" for ch in stem) or "scenario"


def load_arms(names: list[str], years: int | None = None, overrides: dict | None = None) -> list[tuple[str, Scenario]]:
    """Scenario files or bundled names -> (key, scenario); ``years`` (and ``overrides``) apply to every one.

    A scenario's ``observed`` targets file is written relative to the scenario file; here, where
    that file is known, it becomes an absolute path (see :func:`resolve_observed`).
    Raises:
        ValueError: Two scenarios whose keys are equal in their first :data:`KEY_CHARS`
            characters (their report sheets would overwrite each other).
    """
    overrides = dict(overrides or {}) | ({"years": years} if years else {})
    out: list[tuple[str, Scenario]] = []
    given: dict[str, str] = {}
    for name in names:
        key = arm_key(name)
        clash = given.get(key[:KEY_CHARS])
        if clash is not None:
            same = "given twice" if clash == str(name) else f"and {clash!r} share the short name {key[:KEY_CHARS]!r}"
            raise ValueError(f"scenario {str(name)!r} {same}; rename one file (names are compared on {KEY_CHARS} characters)")
        given[key[:KEY_CHARS]] = str(name)
        scenario = load_scenario(name, overrides=overrides or None)
        if scenario.observed:
            found = resolve_observed(scenario.observed, resolve_path(name))
            scenario = scenario.model_copy(update={"observed": str(found) if found else None})
        out.append((key, scenario))
    return out


def resolve_observed(observed: str, scenario_file: Path) -> Path | None:
    """The targets file ``observed`` names, relative to ``scenario_file``; None (with a warning) if absent.

    A variant that ``extends`` a bundled scenario inherits its ``observed`` path, written relative
    to the bundled folder, so that folder is tried second.
    """
    for folder in (Path(scenario_file).resolve().parent, BUNDLED):
        candidate = (folder / observed).resolve()
        if candidate.is_file():
            return candidate
    print(f"warning: observed: {observed!r} not found beside {scenario_file}; no observed points", file=sys.stderr)
    return None


def run_arm(
    key: str, scenario: Scenario, seed: int, replications: int, workers: int = 1, progress: Progress | None = None,
    kernel: str = "auto",
) -> Arm:  # fmt: skip
    """Run ``replications`` CRN replications of one scenario on ``kernel`` (:mod:`sim.engines.select`),
    counted on ``progress`` when given."""
    results = run_replications(scenario, seed, replications, workers, progress=progress or False, kernel=kernel)
    return arm_from_results(key, scenario, results, seed)


def arm_from_results(key: str, scenario: Scenario, results: list[Result], seed: int) -> Arm:
    compiled = compile_scenario(scenario)
    on = np.array([s.on_caseload for s in compiled.states])
    indicators = [FLOW_INDEX[m] for m in ("plaatsing", "scholing", "deeltijdwerk", "uitstroom")]
    return Arm(
        key=key,
        scenario=scenario,
        compiled=compiled,
        annual=annual_table(compiled, results, scenario.monitors),
        caseload=np.stack([r.stock[:, on].sum(axis=1) for r in results]),
        exits_work=np.stack([r.flows[:, :, FLOW_INDEX["exits_work"]].sum(axis=1) for r in results]),
        movements=np.stack([r.flows[:, :, indicators] for r in results]),
        seed=seed,
    )


def run_arms(
    scenarios: list[tuple[str, Scenario]],
    seed: int,
    replications: int,
    workers: int = 1,
    independent: bool = False,
    progress: Progress | None = None,
    kernel: str = "auto",
) -> list[Arm]:
    """Run every scenario; with ``independent`` each gets its own seed (no CRN, for comparison).

    ``progress`` counts every replication of every scenario (its total: scenarios x replications).
    """
    return [
        run_arm(key, sc, seed + (1000 * i if independent else 0), replications, workers, progress, kernel)
        for i, (key, sc) in enumerate(scenarios)
    ]


def paired_interval(alt: np.ndarray, base: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean of ``alt - base`` (paired by replication) and its t-interval."""
    d = np.asarray(alt, dtype=float) - np.asarray(base, dtype=float)
    mean = float(d.mean())
    if len(d) < 2:
        return mean, math.nan, math.nan
    half = stats.t.ppf(0.5 + level / 2, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    return mean, mean - half, mean + half


def independent_interval(alt: np.ndarray, base: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Mean difference of two independent samples and its Welch t-interval."""
    a, b = np.asarray(alt, dtype=float), np.asarray(base, dtype=float)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if se > 0 else len(a) + len(b) - 2
    half = stats.t.ppf(0.5 + level / 2, dof) * se
    mean = float(a.mean() - b.mean())
    return mean, mean - half, mean + half


def metric_values(arm: Arm, metric: str, year: int | None = None, municipality: str = TOTAL) -> np.ndarray:
    """Per-replication values of an annual metric in ``year`` (or summed over all years); in a region the
    ``municipality``'s own (default: the region's total)."""
    frame = arm.annual
    if "municipality" in frame:
        frame = frame[frame["municipality"] == municipality]
    frame = frame if year is None else frame[frame["year"] == year]
    if metric not in frame:
        raise ValueError(f"unknown metric {metric!r} (annual columns: {', '.join(arm.annual.columns[2:])})")
    if frame.empty:
        raise ValueError(f"year {year} is not simulated in {arm.key}")
    return frame.groupby("replication")[metric].sum().sort_index().to_numpy(dtype=float)


def comparison_table(arms: list[Arm], metrics: list[str] | None = None) -> pd.DataFrame:
    """``metric, year, scenario, mean, diff_vs_base, diff_ci_low, diff_ci_high``; ``arms[0]`` is the base.

    With money columns, ``cost_per_extra_exit`` rows hold the extra policy cost per extra exit to work
    (an alternative's rows only; see :func:`ratio_interval`). In a region a ``municipality`` column
    holds each municipality's rows and the ``total``.
    """
    base = arms[0]
    region = "municipality" in base.annual
    if metrics is None:
        metrics = [c for c in base.annual.columns if c not in ("replication", "year", "municipality")]
    years = sorted(base.annual["year"].unique())
    places = list(dict.fromkeys(base.annual["municipality"])) if region else [TOTAL]
    rows = []
    for place in places:
        for metric in metrics:
            for year in years:
                b = metric_values(base, metric, year, place)
                if np.isnan(b).all():
                    continue  # a column the total rows do not have (or a municipality's)
                for arm in arms:
                    if metric not in arm.annual:
                        continue
                    a = metric_values(arm, metric, year, place)
                    diff, low, high = (0.0, 0.0, 0.0) if arm is base else paired_interval(a, b)
                    rows.append([metric, int(year), place, arm.key, float(a.mean()), diff, low, high])
        if "policy_cost" in base.annual and "exits_work" in base.annual:
            for year in years:
                for arm in arms[1:]:
                    cost = metric_values(arm, "policy_cost", year, place) - metric_values(base, "policy_cost", year, place)
                    exits = metric_values(arm, "exits_work", year, place) - metric_values(base, "exits_work", year, place)
                    ratio, low, high = ratio_interval(cost, exits)
                    rows.append(["cost_per_extra_exit", int(year), place, arm.key, ratio, ratio, low, high])
    table = pd.DataFrame(rows, columns=["metric", "year", "municipality", *COLUMNS[2:]]).round(3)
    return table if region else table.drop(columns="municipality")


def ratio_interval(num: np.ndarray, den: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Ratio of mean paired differences (e.g. extra cost / extra exits) with a delta-method interval.

    Undefined (nan) unless the denominator's own interval excludes zero: a cost per extra exit means
    nothing when the extra exits might be none.
    """
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    n = len(num)
    _, d_low, d_high = paired_interval(den, np.zeros(n), level)
    if n < 2 or not (d_low > 0 or d_high < 0):
        return math.nan, math.nan, math.nan
    ratio = num.mean() / den.mean()
    cov = np.cov(num, den, ddof=1) / n
    var = (cov[0, 0] - 2 * ratio * cov[0, 1] + ratio**2 * cov[1, 1]) / den.mean() ** 2
    half = stats.t.ppf(0.5 + level / 2, n - 1) * math.sqrt(max(var, 0.0))
    return float(ratio), float(ratio - half), float(ratio + half)


def key_table(comparison: pd.DataFrame, metrics=KEY_METRICS) -> pd.DataFrame:
    """The table a policy adviser reads: a few metrics, one row per year and scenario."""
    frame = comparison[comparison["metric"].isin(metrics)].copy()
    frame["metric"] = pd.Categorical(frame["metric"], categories=list(metrics), ordered=True)
    return frame.sort_values(["metric", "year"], kind="stable").reset_index(drop=True)  # scenarios in given order


def parameter_differences(base: Scenario, alt: Scenario) -> pd.DataFrame:
    """Every resolved scenario value that differs: ``path, base, alternative``."""
    a = _flatten(base.model_dump(mode="json", by_alias=True))
    b = _flatten(alt.model_dump(mode="json", by_alias=True))
    rows = [
        (path, a.get(path, ""), b.get(path, ""))
        for path in sorted(set(a) | set(b))
        if a.get(path) != b.get(path) and path not in ("name", "description")
    ]
    return pd.DataFrame(rows, columns=["path", "base", "alternative"])


def _flatten(value, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for k, v in value.items():
            out |= _flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        out = {}
        for i, v in enumerate(value):
            out |= _flatten(v, f"{prefix}.{i}")
        return out
    return {prefix: value if value is not None else ""}
