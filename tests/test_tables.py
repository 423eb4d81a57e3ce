"""The tables are built for many replications at once, and their CSV bytes are those of one at a time.

``_monthly_one`` and ``_annual_one`` are the tables as they were built before
(one replication at a time, row by row): the vectorised ``monthly_table`` and
``annual_table`` must write the very same bytes, for any grouping of the
replications, with and without a budget.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from sim import compile_scenario, load_scenario, simulate
from sim.io import runfolder
from sim.io.runfolder import RunSettings, run_to_folder
from sim.io.tables import ANNUAL_FLOWS, annual_budget_row, annual_table, month_labels, monthly_table
from sim.model.records import FLOWS
from tests.conftest import DATA


def _monthly_one(compiled, res) -> pd.DataFrame:
    states = [s.name for s in compiled.states]
    n_months, n_states = res.stock.shape
    frame = pd.DataFrame({
        "replication": res.replication,
        "month": np.repeat(np.arange(1, n_months + 1), n_states),
        "period": np.repeat(month_labels(compiled), n_states),
        "state": np.tile(states, n_months),
        "on_caseload": np.tile([s.on_caseload for s in compiled.states], n_months),
        "stock": res.stock.reshape(-1),
        "person_months": np.round(res.person_months.reshape(-1), 6),
    })  # fmt: skip
    flows = res.flows.reshape(n_months * n_states, len(FLOWS))
    for i, name in enumerate(FLOWS):
        frame[name] = flows[:, i]
    return frame


def _annual_one(compiled, res) -> pd.DataFrame:
    on = np.array([s.on_caseload for s in compiled.states])
    rows = []
    for year, months in compiled.calendar.whole_years():
        flows = res.flows[months].sum(axis=(0, 1))
        last = months.stop - 1
        row = {
            "replication": res.replication,
            "year": year,
            "caseload_end": int(res.stock[last][on].sum()),
            "caseload_mean": round(float(res.person_months[months][:, on].sum()) / 12, 6),
        }
        row |= {name: int(flows[FLOWS.index(name)]) for name in ANNUAL_FLOWS}
        for s, st in enumerate(compiled.states):
            row[f"stock_{st.name}"] = int(res.stock[last, s])
        if res.budget is not None:
            row |= annual_budget_row(compiled, res.budget[compiled.calendar.years.index(year)])
        rows.append(row)
    return pd.DataFrame(rows)


def _csv(frames) -> str:
    out = io.StringIO()
    for i, frame in enumerate(frames):
        frame.to_csv(out, index=False, header=i == 0)
    return out.getvalue()


@pytest.fixture(scope="module", params=["utrecht_baseline", "three_states"])
def results(request):
    name = request.param
    scenario = load_scenario(DATA / "three_states.toml" if name == "three_states" else name, overrides={"years": 3})
    c = compile_scenario(scenario)
    return c, [simulate(c, seed=5, replication=r) for r in range(5)]


def test_the_tables_for_many_replications_write_the_bytes_of_one_at_a_time(results):
    c, runs = results
    assert _csv(monthly_table(c, runs[i : i + 2]) for i in range(0, 5, 2)) == _csv(_monthly_one(c, r) for r in runs)
    annual = _csv([annual_table(c, runs[:3]), annual_table(c, runs[3:])])
    assert annual == _csv(_annual_one(c, r) for r in runs)
    assert annual_table(c, runs).dtypes.equals(pd.concat([_annual_one(c, r) for r in runs]).dtypes)


def test_a_run_folder_does_not_depend_on_how_replications_are_grouped(tmp_path, monkeypatch):
    scenario = load_scenario(DATA / "three_states.toml", overrides={"years": 2})
    run_to_folder(scenario, RunSettings(replications=5, progress=False), tmp_path / "a")
    monkeypatch.setattr(runfolder, "TABLE_CHUNK", 2)
    run_to_folder(scenario, RunSettings(replications=5, progress=False), tmp_path / "b")
    for name in ("monthly.csv", "annual.csv", "summary.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
