"""Scenarios the benchmarks derive from the bundled ones: capacity-free, and scaled in size."""

from __future__ import annotations

from typing import Any

from sim.model import Scenario
from sim.model.loader import load_raw, resolve_path, validate

# [budget] amounts that are totals for the municipality (scaled with its size); rates, prices and shares are not
BUDGET_TOTALS = (
    ("i_deel", "grant"), ("i_deel", "reserve_opening"), ("participatiebudget", "grant"),
    ("participatiebudget", "wsw", "opening_amount"), ("revolving_fund", "opening_balance"),
    ("revolving_fund", "topup_cap"),
)  # fmt: skip


def capacity_free(name: str, years: int | None = None) -> Scenario:
    """``name`` without werkmatchers, places, priority rules, budget, costs or maximum stays (the process the
    reference kernel runs)."""
    raw = load_raw(resolve_path(name))
    for section in ("werkmatchers", "budget", "monitors"):
        raw.pop(section, None)
    for state in raw["states"].values():
        for key in ("places", "priority", "costs", "max_stay"):
            state.pop(key, None)
        for tr in state.get("transitions", {}).values():
            tr.pop("requires_guidance", None)
            tr.pop("intensity_elasticity", None)
    levers = raw.get("levers", {}).items()
    raw["levers"] = {k: v for k, v in levers if not v["target"].startswith(("werkmatchers", "places"))}
    if years:
        raw["years"] = years
    return validate(raw, origin=f"{name}, capacity-free")


def scaled(name: str, factor: float, years: int | None = None) -> Scenario:
    """``name`` for a municipality ``factor`` times the size: initial stocks, inflow, werkmatcher FTE,
    places and the budget's totals multiplied; every rate, norm, price and share kept."""
    raw = load_raw(resolve_path(name))
    for state in raw["states"].values():
        _times(state, ("initial",), factor, integer=True)
        _times(state, ("places",), factor, integer=True)
    _times(raw, ("inflow", "rate"), factor)
    for team in raw.get("werkmatchers", {}).values():
        _times(team, ("fte",), factor)
    budget = raw.get("budget", {})
    for path in BUDGET_TOTALS:
        _times(budget, path, factor)
    for pot in budget.get("participatiebudget", {}).get("pots", {}).values():
        _times(pot, ("amount",), factor)
    for programme in budget.get("programmes", {}).values():
        _times(programme, ("budget",), factor)
        _times(programme, ("planned_spend",), factor)
    if years:
        raw["years"] = years
    return validate(raw, origin=f"{name} x{factor:g}")


def _times(node: dict[str, Any], path: tuple[str, ...], factor: float, integer: bool = False) -> None:
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return
        node = node[key]
    if not isinstance(node, dict):
        return
    if "value" in node:
        node["value"] = round(node["value"] * factor) if integer else node["value"] * factor
    if "values" in node:
        node["values"] = {k: v * factor for k, v in node["values"].items()}
