"""Tidy tables from replication results, and writing a run folder atomically.

Columns are documented in ``docs/outputs.md``. Outputs are assembled in a
temporary folder inside the (claimed) output folder and moved into place at
the end, so an interrupted or failed command never leaves a half-written result.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from sim.budget.ledger import annual_budget_row, deficit_probability
from sim.engines.simpy_engine import Result
from sim.io.safety import TMP_PREFIX, claim_folder, held, merge_into
from sim.model.compiled import Compiled
from sim.model.records import FLOWS

ANNUAL_FLOWS = (
    "inflow", "exits_work", "exits_other", "movements", "plaatsing", "scholing", "deeltijdwerk",
    "uitstroom", "transfers_out", "dropouts", "reinflow", "withdrawn", "guidance_waits", "place_waits", "refused",
)  # fmt: skip
QUANTILES = {"p5": 0.05, "p50": 0.50, "p95": 0.95}


def month_labels(compiled: Compiled) -> list[str]:
    start = compiled.scenario.start
    return [
        dt.date(start.year + (start.month - 1 + m) // 12, (start.month - 1 + m) % 12 + 1, 1).strftime("%Y-%m")
        for m in range(int(np.ceil(compiled.horizon)))
    ]


def monthly_table(compiled: Compiled, results: list[Result]) -> pd.DataFrame:
    """One row per replication, month and state."""
    states = [s.name for s in compiled.states]
    n_months, n_states = results[0].stock.shape
    labels = month_labels(compiled)
    frames = []
    for res in results:
        frame = pd.DataFrame(
            {
                "replication": res.replication,
                "month": np.repeat(np.arange(1, n_months + 1), n_states),
                "period": np.repeat(labels, n_states),
                "state": np.tile(states, n_months),
                "on_caseload": np.tile([s.on_caseload for s in compiled.states], n_months),
                "stock": res.stock.reshape(-1),
                "person_months": np.round(res.person_months.reshape(-1), 6),
            }
        )
        flows = res.flows.reshape(n_months * n_states, len(FLOWS))
        for i, name in enumerate(FLOWS):
            frame[name] = flows[:, i]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def annual_table(compiled: Compiled, results: list[Result]) -> pd.DataFrame:
    """One row per replication and calendar year."""
    on = np.array([s.on_caseload for s in compiled.states])
    first_year = compiled.scenario.start.year
    rows = []
    for res in results:
        n_months = res.stock.shape[0]
        for y in range(n_months // 12):
            months = slice(12 * y, 12 * y + 12)
            flows = res.flows[months].sum(axis=(0, 1))
            row = {
                "replication": res.replication,
                "year": first_year + y,
                "caseload_end": int(res.stock[12 * y + 11][on].sum()),
                "caseload_mean": round(float(res.person_months[months][:, on].sum()) / 12, 6),
            }
            row |= {name: int(flows[FLOWS.index(name)]) for name in ANNUAL_FLOWS}
            for s, st in enumerate(compiled.states):
                row[f"stock_{st.name}"] = int(res.stock[12 * y + 11, s])
            if res.budget is not None:  # money columns (docs/budgets.md)
                row |= annual_budget_row(compiled.scenario.budget, res.budget[y])
            rows.append(row)
    return pd.DataFrame(rows)


def annual_columns(scenario) -> list[str]:
    """The metric columns ``annual.csv`` will have for ``scenario`` (to check a metric before any run)."""
    from sim.budget.ledger import budget_columns

    columns = ["caseload_end", "caseload_mean", *ANNUAL_FLOWS, *(f"stock_{name}" for name in scenario.states)]
    return columns + (budget_columns(scenario.budget) if scenario.budget is not None else [])


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
def atomic_folder(target: Path, force: bool = False, kind: str = "compare") -> Iterator[Path]:
    """Yield a temporary folder whose files move into ``target`` only if the block succeeds.

    ``target`` follows the output rule of :mod:`sim.io.safety`: it is claimed here
    (new, or ``force`` on a folder of ours), unless this process already holds it.
    """
    with ExitStack() as stack:
        claim = held(target) or stack.enter_context(claim_folder(Path(target), kind, force=force))
        tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}outputs-", dir=claim.path))
        try:
            yield tmp
            merge_into(tmp, claim.path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
