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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.engines.backends import run_replications
from sim.engines.result import Result
from sim.io.tables import annual_table, month_labels
from sim.model import Scenario, load_scenario
from sim.model.compiled import Compiled, compile_scenario
from sim.model.records import FLOW_INDEX

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
    movements: np.ndarray  # movements towards work per month, by indicator [replication, month, 4]
    seed: int

    @property
    def months(self) -> list[str]:
        return month_labels(self.compiled)


def load_arms(names: list[str], years: int | None = None, overrides: dict | None = None) -> list[tuple[str, Scenario]]:
    """Scenario files or bundled names -> (key, scenario); ``years`` (and ``overrides``) apply to every one."""
    overrides = dict(overrides or {}) | ({"years": years} if years else {})
    out = []
    for name in names:
        key = Path(str(name)).stem
        if any(key == k for k, _ in out):
            raise ValueError(f"scenario {key!r} given twice")
        out.append((key, load_scenario(name, overrides=overrides or None)))
    return out


def run_arm(key: str, scenario: Scenario, seed: int, replications: int, workers: int = 1, kernel: str = "auto") -> Arm:
    """Run ``replications`` CRN replications of one scenario (on ``kernel``, :mod:`sim.engines.select`)."""
    results = run_replications(scenario, seed, replications, workers, progress=False, kernel=kernel)
    return arm_from_results(key, scenario, results, seed)


def arm_from_results(key: str, scenario: Scenario, results: list[Result], seed: int) -> Arm:
    compiled = compile_scenario(scenario)
    on = np.array([s.on_caseload for s in compiled.states])
    indicators = [FLOW_INDEX[m] for m in ("plaatsing", "scholing", "deeltijdwerk", "uitstroom")]
    return Arm(
        key=key,
        scenario=scenario,
        compiled=compiled,
        annual=annual_table(compiled, results),
        caseload=np.stack([r.stock[:, on].sum(axis=1) for r in results]),
        exits_work=np.stack([r.flows[:, :, FLOW_INDEX["exits_work"]].sum(axis=1) for r in results]),
        movements=np.stack([r.flows[:, :, indicators].sum(axis=1) for r in results]),
        seed=seed,
    )


def run_arms(
    scenarios: list[tuple[str, Scenario]], seed: int, replications: int, workers: int = 1, independent: bool = False,
    kernel: str = "auto",
) -> list[Arm]:
    """Run every scenario; with ``independent`` each gets its own seed (no CRN, for comparison)."""
    return [
        run_arm(key, sc, seed + (1000 * i if independent else 0), replications, workers, kernel)
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


def metric_values(arm: Arm, metric: str, year: int | None = None) -> np.ndarray:
    """Per-replication values of an annual metric in ``year`` (or summed over all years)."""
    frame = arm.annual if year is None else arm.annual[arm.annual["year"] == year]
    if metric not in frame:
        raise ValueError(f"unknown metric {metric!r} (annual columns: {', '.join(arm.annual.columns[2:])})")
    if frame.empty:
        raise ValueError(f"year {year} is not simulated in {arm.key}")
    return frame.groupby("replication")[metric].sum().sort_index().to_numpy(dtype=float)


def comparison_table(arms: list[Arm], metrics: list[str] | None = None) -> pd.DataFrame:
    """``metric, year, scenario, mean, diff_vs_base, diff_ci_low, diff_ci_high``; ``arms[0]`` is the base."""
    base = arms[0]
    if metrics is None:
        metrics = [c for c in base.annual.columns if c not in ("replication", "year")]
    years = sorted(base.annual["year"].unique())
    rows = []
    for metric in metrics:
        for year in years:
            b = metric_values(base, metric, year)
            for arm in arms:
                if metric not in arm.annual:
                    continue
                a = metric_values(arm, metric, year)
                if arm is base:
                    diff, low, high = 0.0, 0.0, 0.0
                else:
                    diff, low, high = paired_interval(a, b)
                rows.append([metric, int(year), arm.key, float(a.mean()), diff, low, high])
    return pd.DataFrame(rows, columns=COLUMNS).round(3)


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
