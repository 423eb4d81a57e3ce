"""What the explore page computes, from the same objects as the command line.

A page state (scenario, horizon, lever values) becomes a variant of the
scenario's plain data, set through :mod:`sim.model.paths` and validated like
any file; the analytic model (:func:`sim.analytic.expected`) gives the instant
lines, :func:`sim.analysis.compare.run_arm` the replications for the bands (the
base and the variant with the same seed: common random numbers), and the report
and workbook on offer are :func:`sim.report.comparison.build_outputs` of those
two arms. There is no second model.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.compare import Arm, load_arms, run_arm
from sim.analytic import expected
from sim.model import Scenario, paths
from sim.model.compiled import compile_scenario
from sim.model.loader import deep_merge, load_raw, resolve_path, validate
from sim.model.records import FLOW_INDEX

SEED = 1
CACHE = 8  # arms kept in memory (one local user: a few recent states are enough)
_arms: OrderedDict[str, Arm] = OrderedDict()


def expected_for(scenario: Scenario):
    """The analytic expectation of a scenario."""
    return expected(scenario)


@dataclass(frozen=True)
class State:
    """What the page shows: a bundled scenario, a horizon and the values of its main levers."""

    scenario: str
    years: int
    fte: dict[str, float]  # team -> FTE
    norm: dict[str, float]  # team -> caseload norm (clients per FTE)
    places: dict[str, float]  # state -> places
    inflow_pct: float = 0.0  # inflow shock, % change in ``inflow_year``
    inflow_year: int | None = None
    grant_pct: float = 0.0  # I-deel grant, % change in every year
    pots_pct: float = 0.0  # Participatiebudget pots, % change in every year

    def key(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True, default=str)


def base_raw(name: str, years: int) -> dict[str, Any]:
    """The bundled scenario's data with the page's horizon."""
    return deep_merge(load_raw(resolve_path(name)), {"years": int(years)})


def defaults(name: str, years: int | None = None) -> State:
    """The page state that reproduces the scenario as it is."""
    scenario = load_scenario_cached(name)
    raw = base_raw(name, years or scenario.years)
    return State(
        scenario=name,
        years=int(years or scenario.years),
        fte={t: paths.get(raw, f"werkmatchers.{t}.fte") for t in scenario.werkmatchers},
        norm={t: paths.get(raw, f"werkmatchers.{t}.caseload_norm") for t in scenario.werkmatchers},
        places={s: paths.get(raw, f"places.{s}") for s, st in scenario.states.items() if st.places is not None},
        inflow_year=scenario.start.year + min(1, int(years or scenario.years) - 1),
    )


@lru_cache(maxsize=32)
def load_scenario_cached(name: str) -> Scenario:
    """The bundled scenario as the CLI loads it (its ``observed`` file resolved)."""
    ((_, scenario),) = load_arms([name])
    return scenario


def variant(state: State, label: str) -> Scenario:
    """The scenario with the page's lever values; a what-if named ``<name> (<label>)``."""
    raw = base_raw(state.scenario, state.years)
    original = defaults(state.scenario, state.years)
    values = {f"werkmatchers.{t}.fte": v for t, v in state.fte.items() if v != original.fte.get(t)}
    values |= {f"werkmatchers.{t}.caseload_norm": v for t, v in state.norm.items() if v != original.norm.get(t)}
    values |= {f"places.{s}": v for s, v in state.places.items() if v != original.places.get(s)}
    data = paths.set_many(raw, values)
    if state.inflow_pct and state.inflow_year:
        year = int(state.inflow_year)
        data.setdefault("levers", {})["explore_inflow_shock"] = {
            "target": "inflow", "from": dt.date(year, 1, 1), "to": dt.date(year + 1, 1, 1),
            "multiply": 1 + state.inflow_pct / 100, "source": "explore: what-if inflow shock",
        }  # fmt: skip
    budget = data.get("budget") or {}
    if state.grant_pct and "i_deel" in budget:
        _scale(budget["i_deel"]["grant"], 1 + state.grant_pct / 100)
    pots = (budget.get("participatiebudget") or {}).get("pots", {})
    if state.pots_pct:
        for pot in pots.values():
            _scale(pot["amount"], 1 + state.pots_pct / 100)
    changed = bool(values) or bool(state.inflow_pct) or bool(state.grant_pct and "i_deel" in budget) or bool(
        state.pots_pct and pots)  # fmt: skip
    if changed:
        data["name"] = f"{data['name']} ({label})"
        data["description"] = f"{label}: {data.get('description', '')}"
    scenario = validate(data, origin=f"{state.scenario} (explore)")
    return scenario.model_copy(update={"observed": load_scenario_cached(state.scenario).observed})


def _scale(dated: dict[str, Any], factor: float) -> None:
    dated["values"] = {d: round(v * factor, 2) for d, v in dated["values"].items()}
    dated["source"] = f"{dated['source']} (explore: x{factor:g})"


def analytic_lines(scenario: Scenario) -> dict[str, Any]:
    """Expected caseload (end of month) and exits to work per month, and their last-year totals."""
    compiled = compile_scenario(scenario)
    e = expected_for(scenario)
    on = np.array([s.on_caseload for s in compiled.states])
    caseload = e.stock[:, on].sum(axis=1)
    exits = e.flows[:, :, FLOW_INDEX["exits_work"]].sum(axis=1)
    months = [f"{scenario.start.year + m // 12:04d}-{m % 12 + 1:02d}" for m in range(len(caseload))]
    return {"months": months, "caseload": caseload.tolist(), "exits_work": exits.tolist(),
            "year": scenario.start.year + scenario.years - 1, "caseload_end": float(caseload[-1]),
            "exits_work_year": float(exits[-12:].sum())}  # fmt: skip


@lru_cache(maxsize=16)
def base_lines(name: str, years: int) -> dict[str, Any]:
    """:func:`analytic_lines` of the unchanged scenario (computed once per scenario and horizon)."""
    return analytic_lines(variant(defaults(name, years), ""))


def arm(key: str, scenario: Scenario, replications: int, workers: int) -> Arm:
    """Replications of a scenario, cached by its content (base and variant share the seed: CRN)."""
    from sim.model import content_hash

    cache_key = f"{content_hash(scenario)}:{replications}"
    if cache_key not in _arms:
        _arms[cache_key] = run_arm(key, scenario, SEED, replications, workers)
        while len(_arms) > CACHE:
            _arms.popitem(last=False)
    _arms.move_to_end(cache_key)
    found = copy.copy(_arms[cache_key])
    found.key, found.scenario = key, scenario  # same results, this page's labels
    return found


def pair(state: State, label: str, replications: int, workers: int) -> list[Arm]:
    """The base and the page's variant, replicated with the same seed."""
    base = validate(base_raw(state.scenario, state.years), origin=state.scenario)
    base = base.model_copy(update={"observed": load_scenario_cached(state.scenario).observed})
    return [arm("base", base, replications, workers), arm("explore", variant(state, label), replications, workers)]


def warm_up(name: str) -> None:
    """Run a one-year replication of ``name`` on the compiled engine, so that the page's first bands do not
    wait for the engine to be built (the first run after installing: about half a minute, which stderr
    notes after a few seconds). Meant for a background thread: the engine's buffers are per thread."""
    import sys
    import threading

    from sim.engines import select
    from sim.model import load_scenario
    from sim.util.progress import SLOW_START

    compiled = compile_scenario(load_scenario(name, overrides={"years": 1}))
    if select.choose(compiled).kernel != "compiled":
        return
    text = f"explore: {select.BUILD_NOTE}; the first bands wait for it"
    note = threading.Timer(SLOW_START, print, (text,), {"file": sys.stderr, "flush": True})
    note.daemon = True
    note.start()
    try:
        select.simulate(compiled, SEED, 0, kernel="compiled")
    finally:
        note.cancel()


def files(arms: list[Arm], lang: str) -> dict[str, bytes]:
    """``report.html`` and ``comparison.xlsx`` for what is on screen (the compare command's outputs)."""
    from sim.report.comparison import build_outputs

    with tempfile.TemporaryDirectory(prefix="caseload-explore-") as tmp:
        build_outputs(arms, Path(tmp), lang=lang)
        return {name: (Path(tmp) / name).read_bytes() for name in ("report.html", "comparison.xlsx")}
