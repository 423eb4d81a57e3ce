"""Tidy tables from replication results, and writing a run folder atomically.

Columns are documented in ``docs/outputs.md``. Outputs are assembled in a
temporary folder inside the (claimed) output folder and moved into place at
the end, so an interrupted or failed command never leaves a half-written result.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from sim.engines.result import Result
from sim.io.safety import TMP_PREFIX, claim_folder, held, merge_into
from sim.model.budget_plan import is_count
from sim.model.compiled import Compiled
from sim.model.records import DURATION_COLUMNS, FLOWS, GROUP_FLOWS

ANNUAL_FLOWS = (
    "inflow", "exits_work", "exits_other", "movements", "plaatsing", "scholing", "deeltijdwerk",
    "uitstroom", "transfers_out", "dropouts", "reinflow", "withdrawn", "guidance_waits", "place_waits", "refused",
)  # fmt: skip
QUANTILES = {"p5": 0.05, "p50": 0.50, "p95": 0.95}


def month_labels(compiled: Compiled) -> list[str]:
    """``YYYY-MM`` of every simulated month."""
    return list(compiled.calendar.labels)


def monthly_table(compiled: Compiled, results: list[Result]) -> pd.DataFrame:
    """One row per replication, month and state (in a region: per municipality as well)."""
    states = [s.name for s in compiled.states]
    n_months, n_states = results[0].stock.shape
    labels = month_labels(compiled)
    munis = compiled.municipalities
    frames = []
    for res in results:
        parts = (
            [(None, res.stock, res.person_months, res.flows)] if not munis else
            [(m, res.stock_by_municipality[:, i], res.person_months_by_municipality[:, i], res.flows_by_municipality[:, i])
             for i, m in enumerate(munis)]
        )  # fmt: skip
        for muni, stock, person_months, flows in parts:
            frame = pd.DataFrame(
                {
                    "replication": res.replication,
                    "month": np.repeat(np.arange(1, n_months + 1), n_states),
                    "period": np.repeat(labels, n_states),
                    "state": np.tile(states, n_months),
                    "on_caseload": np.tile([s.on_caseload for s in compiled.states], n_months),
                    "stock": stock.reshape(-1),
                    "person_months": np.round(person_months.reshape(-1), 6),
                }
            )
            if muni is not None:
                frame.insert(1, "municipality", muni)
            flat = flows.reshape(n_months * n_states, len(FLOWS))
            for i, name in enumerate(FLOWS):
                frame[name] = flat[:, i]
            frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    if munis:  # replication, month, municipality, state: the order of the unregioned table, municipality inside
        out = out.sort_values(["replication", "month", "municipality"], kind="stable", key=_muni_order(munis))
        out = out.reset_index(drop=True)
    return out


TOTAL = "total"  # the municipality value of a region's total rows


def _muni_order(munis):
    order = {m: i for i, m in enumerate(munis)}
    return lambda col: col.map(order) if col.name == "municipality" else col


def annual_table(compiled: Compiled, results: list[Result], monitors: dict | None = None) -> pd.DataFrame:
    """One row per replication and calendar year.

    In a region (several municipalities) a column ``municipality`` holds each municipality's own row
    and a ``total`` row; a municipality's money columns are its own I-deel and its share of the shared
    costs (sim.budget.ledger), the region's pots and fund appear on the total rows only.

    ``monitors`` (a scenario's ``[monitors]``): every outflow-rate monitor adds its yearly flow, the
    average stock of its states and the percentage (:func:`monitor_columns`).
    """
    on = np.array([s.on_caseload for s in compiled.states])
    munis = compiled.municipalities
    groups = outflow_groups(compiled, monitors)
    rows = []
    for res in results:
        for year, months in compiled.calendar.whole_years():
            y = compiled.calendar.years.index(year)
            last = months.stop - 1
            row = {"replication": res.replication, "year": year} | ({"municipality": TOTAL} if munis else {})
            row |= _annual_counts(compiled, on, res.stock, res.flows, res.person_months, months)
            row |= monitor_columns(groups, res.flows, res.person_months, months)
            if res.durations is not None:  # on the caseload at the year end for longer than 1, 3, 5 years
                row |= dict(zip(DURATION_COLUMNS, res.durations[y].tolist()))
            for s, st in enumerate(compiled.states):
                row[f"stock_{st.name}"] = int(res.stock[last, s])
            if res.budget is not None:  # money columns (docs/budgets.md)
                row |= annual_budget_row(compiled.budget.columns, res.budget[y])
                row |= policy_columns(row)
            rows.append(row)
            for i, muni in enumerate(munis):
                part = {"replication": res.replication, "year": year, "municipality": muni}
                part |= _annual_counts(compiled, on, res.stock_by_municipality[:, i], res.flows_by_municipality[:, i],
                                       res.person_months_by_municipality[:, i], months)  # fmt: skip
                part |= monitor_columns(groups, res.flows_by_municipality[:, i], res.person_months_by_municipality[:, i],
                                        months)  # fmt: skip
                for s, st in enumerate(compiled.states):
                    part[f"stock_{st.name}"] = int(res.stock_by_municipality[last, i, s])
                if res.budget_by_municipality is not None:
                    part |= annual_budget_row(compiled.budget.municipal_columns, res.budget_by_municipality[y, i])
                    part |= policy_columns(part)
                rows.append(part)
    return pd.DataFrame(rows)


MONITOR_FLOWS = {
    "exits_work": ("exits_work",),
    "exits_other": ("exits_other",),
    "exits": ("exits_work", "exits_other"),
    "movements": ("movements",),
}


def outflow_groups(compiled: Compiled, monitors: dict | None) -> list[tuple[str, np.ndarray, list[int]]]:
    """(name, state mask, flow indices) of every outflow-rate monitor; no states means the whole caseload."""
    out = []
    names = [st.name for st in compiled.states]
    for name, monitor in (monitors or {}).items():
        if getattr(monitor, "kind", None) != "outflow_rate":
            continue
        mask = np.array([st.on_caseload and (not monitor.states or st.name in monitor.states) for st in compiled.states])
        if monitor.states and not all(s in names for s in monitor.states):
            raise ValueError(f"monitors.{name}.states: a state the model does not have")
        out.append((name, mask, [FLOWS.index(f) for f in MONITOR_FLOWS[monitor.flow]]))
    return out


def monitor_columns(groups, flows: np.ndarray, person_months: np.ndarray, months: slice) -> dict:
    """``monitor_<name>_flow`` (the monitor's flow out of its states in the year), ``monitor_<name>_mean``
    (their average stock) and ``monitor_<name>_pct`` (100 x flow / mean; NaN for an empty group)."""
    row = {}
    for name, mask, flow in groups:
        count = int(flows[months][:, mask][:, :, flow].sum())
        mean = float(person_months[months][:, mask].sum()) / 12
        row[f"monitor_{name}_flow"] = count
        row[f"monitor_{name}_mean"] = round(mean, 6)
        row[f"monitor_{name}_pct"] = round(100 * count / mean, 6) if mean > 0 else float("nan")
    return row


POLICY_LINES = ("programme_spent", "municipality_cost", "participatiebudget_spent", "revolving_fund_spent")


def policy_columns(row: dict) -> dict[str, float]:
    """``policy_cost``: what the year's policy cost outside the I-deel (programmes, the municipality's own
    budget, Participatiebudget pots, Revolverend Fonds; together they hold every booked staff and
    instrument cost once); ``net_result``: the I-deel result less that cost, the payback a finance
    officer weighs (benefits saved minus what the policy cost)."""
    cost = round(sum(row.get(line, 0.0) for line in POLICY_LINES), 2)
    return {"policy_cost": cost, "net_result": round(row["i_deel_result"] - cost, 2)}


def _annual_counts(compiled: Compiled, on, stock, flows, person_months, months: slice) -> dict:
    total = flows[months].sum(axis=(0, 1))
    row = {
        "caseload_end": int(stock[months.stop - 1][on].sum()),
        "caseload_mean": round(float(person_months[months][:, on].sum()) / 12, 6),
    }
    row |= {name: int(total[FLOWS.index(name)]) for name in ANNUAL_FLOWS}
    row["new_applications"] = row["inflow"] - row["reinflow"]  # new spells that are not returns
    return row


def group_table(compiled: Compiled, results: list[Result]) -> pd.DataFrame:
    """Outputs by focus group: one row per replication, calendar year, attribute and level.

    A household counts in one level of every attribute, so the rows of one attribute add up to the
    whole caseload. Empty when the scenario has no attributes.
    """
    groups = compiled.attributes.groups
    rows = []
    for res in results:
        if res.group_flows is None:
            continue
        for year, months in compiled.calendar.whole_years():
            flows = res.group_flows[months].sum(axis=0)  # [group, flow]
            end = res.group_stock[months.stop - 1]
            mean = res.group_person_months[months].sum(axis=0) / 12
            for g, (attribute, level) in enumerate(groups):
                row = {"replication": res.replication, "year": year, "attribute": attribute, "level": level,
                       "caseload_end": int(end[g]), "caseload_mean": round(float(mean[g]), 6)}  # fmt: skip
                row |= {name: int(flows[g, i]) for i, name in enumerate(GROUP_FLOWS)}
                rows.append(row)
    columns = ["replication", "year", "attribute", "level", "caseload_end", "caseload_mean", *GROUP_FLOWS]
    return pd.DataFrame(rows, columns=columns)


def annual_budget_row(columns: tuple[str, ...], values: np.ndarray) -> dict[str, float | int]:
    """One replication-year of a ledger table for ``annual.csv``: euros (2 decimals) and counts."""
    return {name: int(v) if is_count(name) else round(int(v) / 100, 2) for name, v in zip(columns, values.tolist())}


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


def annual_columns(compiled: Compiled, monitors: dict | None = None) -> list[str]:
    """The metric columns ``annual.csv`` will have for a model (to check a metric before any run)."""
    columns = ["caseload_end", "caseload_mean", *ANNUAL_FLOWS, "new_applications", *DURATION_COLUMNS]
    columns += [f"monitor_{name}_{what}" for name, _, _ in outflow_groups(compiled, monitors) for what in ("flow", "mean", "pct")]
    columns += [f"stock_{st.name}" for st in compiled.states]
    if compiled.budget is not None:
        columns += [*compiled.budget.columns, "policy_cost", "net_result"]
    return columns


def summary_table(annual: pd.DataFrame, covers: str | None = None) -> pd.DataFrame:
    """``metric, year, mean, sd, p5, p50, p95`` across replications (and ``municipality`` in a region).

    ``covers`` says what the 5-95% band covers (sim.model.uncertainty.band_note): it becomes the last
    column, ``band_covers``, so the table cannot be read without it.
    """
    keys = ["year", "municipality"] if "municipality" in annual else ["year"]
    metrics = [c for c in annual.columns if c not in ("replication", *keys)]
    long = annual.melt(id_vars=["replication", *keys], value_vars=metrics, var_name="metric").dropna(subset=["value"])
    grouped = long.groupby(["metric", *keys], sort=False)["value"]
    out = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    for name, q in QUANTILES.items():
        out[name] = grouped.quantile(q).to_numpy()
    out["sd"] = out["sd"].fillna(0.0)
    if "i_deel_result" in annual:
        if "municipality" in annual:
            parts = [deficit_probability(group).assign(municipality=m) for m, group in annual.groupby("municipality", sort=False)]
            out = pd.concat([out, *parts], ignore_index=True)
        else:
            out = pd.concat([out, deficit_probability(annual)], ignore_index=True)
    out = out[["metric", *keys, "mean", "sd", "p5", "p50", "p95", "n"]].round(6)
    if covers is not None:
        out["band_covers"] = covers
    return out


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
