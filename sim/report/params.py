"""What differs between scenarios, in words a reader of a council letter follows.

A lever becomes one row: what it changes (team and field, transition and the
states it applies to, places, inflow), the change (``+15``, ``× 0.5``), the
window (``1 jul 2019 t/m 31 dec 2021``) and its source. Other values that differ
become one row each with the base and the alternative value; a sourced value
is one row (not one per ``value``/``unit``/``source`` key) and dated values are
written as ``from 2021: € 150.000``. Only what differs is listed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from sim.model import Scenario

SKIP = {"name", "description", "levers", "language", "observed"}
MONEY_KEYS = {
    "grant", "monthly_benefit", "reserve_opening", "reserve_floor", "minimum_wage_month", "opening_amount",
    "amount", "unit_cost", "opening_balance", "topup_cap", "budget", "planned_spend",
}  # fmt: skip
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Section:
    """The differences of one alternative from the base."""

    label: str
    description: str
    levers: list[dict[str, str]] = field(default_factory=list)  # target, change, window, source
    values: list[dict[str, str]] = field(default_factory=list)  # parameter, base, alternative, source

    @property
    def empty(self) -> bool:
        return not self.levers and not self.values


def differences(base: Scenario, alt: Scenario, t) -> Section:
    """The levers and values of ``alt`` that differ from ``base``."""
    section = Section(alt.name, alt.description)
    for name in [*alt.levers, *(n for n in base.levers if n not in alt.levers)]:
        mine, theirs = alt.levers.get(name), base.levers.get(name)
        if mine == theirs:
            continue
        lever = mine or theirs
        row = lever_row(lever, alt if mine else base, t)
        if mine is None:
            row["change"] = f"{row['change']} {t('params.removed')}"
        section.levers.append(row)
    a = base.model_dump(mode="json", by_alias=True)
    b = alt.model_dump(mode="json", by_alias=True)
    for key in [k for k in b if k not in SKIP] + [k for k in a if k not in b and k not in SKIP]:
        section.values.extend(_value_rows(a.get(key), b.get(key), [key], alt, base, t))
    return section


def lever_row(lever, scenario: Scenario, t) -> dict[str, str]:
    """One readable row: ``target, change, window, source`` (the lever's description under its target)."""
    target = target_label(lever.target, scenario, t)
    if lever.description:
        target = f"{target} — {lever.description}"
    add = t("params.add", value=t.number(lever.add, _decimals(lever.add), sign=True)) if lever.add else ""
    mul = t("params.multiply", value=t.number(lever.multiply, _decimals(lever.multiply))) if lever.multiply != 1 else ""
    factor = t.number(lever.multiply, _decimals(lever.multiply))
    change = t("params.both", add=add, multiply=factor) if add and mul else add or mul
    if lever.end is None:
        window = t("params.from", start=t.date(lever.start))
    else:
        window = t("params.window", start=t.date(lever.start), end=t.date(lever.end - dt.timedelta(days=1)))
    return {"target": target, "change": change, "window": window, "source": lever.source}


def target_label(target: str, scenario: Scenario, t) -> str:
    """``werkmatchers.opstap.fte`` -> ``Werkmatchers arrangement 3: werkmatcher FTE`` (from the scenario's labels)."""
    head, _, rest = target.partition(".")
    if head == "inflow":
        return t("params.inflow")
    if head == "places":
        state = scenario.states.get(rest)
        return t("params.places", state=state.label if state else rest)
    if head == "werkmatchers":
        team_key, _, fld = rest.partition(".")
        team = scenario.werkmatchers.get(team_key)
        return t("params.team_field", team=(team.label if team and team.label else team_key), field=_field(fld, t))
    if head == "hazard":
        pattern = rest
        matched: dict[str, list[str]] = {}
        for sname, state in scenario.states.items():
            for tname in state.transitions:
                if fnmatchcase(f"{sname}.{tname}", pattern):
                    matched.setdefault(tname, []).append(state.label)
        return "; ".join(t("params.hazard", transition=tn, states=", ".join(labels)) for tn, labels in matched.items())
    return target


def _field(name: str, t) -> str:
    key = f"params.{name}"
    return t(key) if t.has(key) else name.replace("_", " ")


def _decimals(x: float) -> int:
    text = f"{abs(x):.6g}"
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def _value_rows(a, b, path: list[str], alt: Scenario, base: Scenario, t) -> list[dict[str, str]]:
    if a == b:
        return []
    sourced = isinstance(a, dict) and "source" in a or isinstance(b, dict) and "source" in b
    if isinstance(a, dict) and isinstance(b, dict) and not sourced:
        rows = []
        for key in [*b, *(k for k in a if k not in b)]:
            rows.extend(_value_rows(a.get(key), b.get(key), [*path, key], alt, base, t))
        return rows
    if sourced and _strip(a) == _strip(b):
        return []  # only the source text differs: the same number
    money = path[0] == "budget" and path[-1] in MONEY_KEYS
    source = (b or a).get("source", "") if isinstance(b or a, dict) else ""
    return [{
        "parameter": _path_label(path, alt if b is not None else base, t),
        "base": _render(a, money, t),
        "alternative": _render(b, money, t),
        "source": source,
    }]  # fmt: skip


def _strip(node):
    return {k: v for k, v in node.items() if k not in ("source", "note")} if isinstance(node, dict) else node


def _render(node, money: bool, t) -> str:
    if node is None:
        return t("report.not_available")
    fmt = (lambda v: t.euro(v)) if money else (lambda v: t.number(v, _decimals(v)) if isinstance(v, int | float) and
                                                not isinstance(v, bool) else str(v))  # fmt: skip
    if isinstance(node, dict) and "values" in node and isinstance(node["values"], dict):
        items = node["values"]
        if all(DATE.match(str(k)) for k in items):
            return "; ".join(t("params.dated", date=t.date(dt.date.fromisoformat(k)), value=fmt(v))
                             for k, v in sorted(items.items()))  # fmt: skip
        return ", ".join(f"{k} {fmt(v)}" for k, v in items.items())
    if isinstance(node, dict) and "value" in node:
        unit = f" {node['unit']}" if node.get("unit") and not money else ""
        return fmt(node["value"]) + unit
    if isinstance(node, dict) and "low" in node and "high" in node:
        return f"{fmt(node['low'])} – {fmt(node['high'])}"
    if isinstance(node, list):
        return ", ".join(_render(v, money, t) if isinstance(v, dict) else fmt(v) for v in node) or "—"
    if isinstance(node, dict):
        return ", ".join(f"{k}: {v}" for k, v in node.items() if k != "source")
    return fmt(node)


def _path_label(path: list[str], scenario: Scenario, t) -> str:
    """A path in the scenario's own words: state and team labels instead of file keys."""
    if len(path) >= 3 and path[0] == "werkmatchers":
        team = scenario.werkmatchers.get(path[1])
        return t("params.team_field", team=(team.label if team and team.label else path[1]),
                 field=" › ".join(_field(p, t) for p in path[2:]))  # fmt: skip
    if len(path) >= 3 and path[0] == "states":
        state = scenario.states.get(path[1])
        label = state.label if state else path[1]
        rest = path[2:]
        if len(rest) >= 3 and rest[0] == "transitions":
            rest = [t("params.rate", transition=rest[1]) if rest[2] == "rate" else f"{rest[1]} › {rest[2]}", *rest[3:]]
        return f"{label}: {' › '.join(_field(p, t) if p.isidentifier() else p for p in rest)}"
    return " › ".join(p.replace("_", " ") for p in path)
