"""Tidy tables from replication results, and writing a run folder atomically.

Columns are documented in ``docs/outputs.md``. A run folder is assembled in a
temporary sibling folder and renamed into place at the end, so an interrupted
or failed run never leaves a half-written result behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from sim.engines.result import Result
from sim.model.budget_plan import is_count
from sim.model.compiled import Compiled
from sim.model.records import FLOWS

ANNUAL_FLOWS = (
    "inflow", "exits_work", "exits_other", "movements", "plaatsing", "scholing", "deeltijdwerk",
    "uitstroom", "transfers_out", "dropouts", "reinflow", "withdrawn", "guidance_waits", "place_waits", "refused",
)  # fmt: skip
QUANTILES = {"p5": 0.05, "p50": 0.50, "p95": 0.95}


def month_labels(compiled: Compiled) -> list[str]:
    """``YYYY-MM`` of every simulated month."""
    return list(compiled.calendar.labels)


def monthly_table(compiled: Compiled, results: list[Result]) -> pd.DataFrame:
    """One row per replication, month and state (built for all ``results`` at once)."""
    states = [s.name for s in compiled.states]
    n_months, n_states = results[0].stock.shape
    cells = n_months * n_states
    stock = np.stack([res.stock for res in results]).reshape(-1)
    person_months = np.stack([res.person_months for res in results]).reshape(-1)
    flows = np.stack([res.flows for res in results]).reshape(-1, len(FLOWS))
    columns = {
        "replication": np.repeat(np.array([res.replication for res in results], dtype=np.int64), cells),
        "month": np.tile(np.repeat(np.arange(1, n_months + 1), n_states), len(results)),
        "period": np.tile(np.repeat(month_labels(compiled), n_states), len(results)),
        "state": np.tile(states, n_months * len(results)),
        "on_caseload": np.tile([s.on_caseload for s in compiled.states], n_months * len(results)),
        "stock": stock,
        "person_months": np.round(person_months, 6),
    }
    columns |= {name: flows[:, i] for i, name in enumerate(FLOWS)}
    return pd.DataFrame(columns)


def annual_table(compiled: Compiled, results: list[Result]) -> pd.DataFrame:
    """One row per replication and calendar year (built for all ``results`` at once)."""
    on = np.array([s.on_caseload for s in compiled.states])
    stock = np.stack([res.stock for res in results])  # [replication, month, state]
    flows = np.stack([res.flows for res in results])  # [replication, month, state, flow]
    person_months = np.stack([res.person_months for res in results])
    years = compiled.calendar.whole_years()
    last = [months.stop - 1 for _, months in years]
    n = len(results)

    def rows(per_year) -> np.ndarray:  # [replication, year] -> rows in the order replication, year
        return np.stack(per_year, axis=1).reshape(-1)

    # each replication-year's person-months summed as one replication's own .sum() adds them, so the
    # rounded mean cannot move by a last bit
    on_pm = rows([np.ascontiguousarray(person_months[:, m][:, :, on]).reshape(n, -1).sum(axis=1) for _, m in years])
    columns = {
        "replication": np.repeat(np.array([res.replication for res in results], dtype=np.int64), len(years)),
        "year": np.tile(np.array([y for y, _ in years], dtype=np.int64), n),
        "caseload_end": rows([stock[:, t][:, on].sum(axis=1) for t in last]).astype(np.int64),
        "caseload_mean": [round(v / 12, 6) for v in on_pm.tolist()],
    }
    totals = np.stack([flows[:, m].sum(axis=(1, 2)) for _, m in years], axis=1)  # [replication, year, flow]
    columns |= {name: totals[:, :, FLOWS.index(name)].reshape(-1).astype(np.int64) for name in ANNUAL_FLOWS}
    for s, st in enumerate(compiled.states):
        columns[f"stock_{st.name}"] = stock[:, last, s].reshape(-1).astype(np.int64)
    if results[0].budget is not None:  # money columns (docs/budgets.md)
        index = [compiled.calendar.years.index(y) for y, _ in years]
        values = np.stack([res.budget[index] for res in results]).reshape(n * len(years), -1)
        for c, name in enumerate(compiled.budget.columns):
            column = values[:, c].tolist()
            columns[name] = np.array(column, dtype=np.int64) if is_count(name) else [round(v / 100, 2) for v in column]
    return pd.DataFrame(columns)


def annual_budget_row(compiled: Compiled, values: np.ndarray) -> dict[str, float | int]:
    """One replication-year of the ledger table for ``annual.csv``: euros (2 decimals) and counts."""
    return {
        name: int(v) if is_count(name) else round(int(v) / 100, 2)
        for name, v in zip(compiled.budget.columns, values.tolist())
    }


def deficit_probability(annual: pd.DataFrame) -> pd.DataFrame:
    """``p_i_deel_deficit`` per year for ``summary.csv``.

    ``mean`` is the share of replications with a negative I-deel result, ``sd`` its
    binomial standard error, ``p5``/``p95`` a 90% Wilson interval and ``p50`` the share itself.
    """
    z = 1.6448536269514722  # two-sided 90%
    rows = []
    for year, group in annual.groupby("year", sort=True):
        n = len(group)
        p = float((group["i_deel_result"] < 0).mean())
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        rows.append({
            "metric": "p_i_deel_deficit", "year": year, "mean": p, "sd": float(np.sqrt(p * (1 - p) / n)),
            "p5": max(0.0, centre - half), "p50": p, "p95": min(1.0, centre + half), "n": n,
        })  # fmt: skip
    return pd.DataFrame(rows)


def summary_table(annual: pd.DataFrame) -> pd.DataFrame:
    """``metric, year, mean, sd, p5, p50, p95`` across replications."""
    metrics = [c for c in annual.columns if c not in ("replication", "year")]
    long = annual.melt(id_vars=["replication", "year"], value_vars=metrics, var_name="metric")
    grouped = long.groupby(["metric", "year"], sort=False)["value"]
    out = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    for name, q in QUANTILES.items():
        out[name] = grouped.quantile(q).to_numpy()
    out["sd"] = out["sd"].fillna(0.0)
    if "i_deel_result" in annual:
        out = pd.concat([out, deficit_probability(annual)], ignore_index=True)
    return out[["metric", "year", "mean", "sd", "p5", "p50", "p95", "n"]].round(6)


@contextmanager
def atomic_folder(target: Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``target`` only if the block succeeds."""
    target = Path(target)
    if target.exists() and any(target.iterdir()) and not force:
        raise FileExistsError(f"{target} exists and is not empty (use --force to replace it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
