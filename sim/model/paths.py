"""Parameter paths: one dotted syntax for every number of a scenario.

``sweep``, ``goal-seek`` and ``calibrate`` (and the targets levers name) all
address a number of a scenario the same way:

* a dotted path through the scenario's tables to a number or to a sourced
  value; ``.value`` at the end is optional, so ``werkmatchers.opstap.fte`` and
  ``werkmatchers.opstap.fte.value`` name the same number;
* one entry of dated values by its date: ``inflow.rate.values.2019-01-01``;
* the short forms a lever uses as its ``target``: ``hazard.<state>.<transition>``
  (= ``states.<state>.transitions.<transition>.rate``), ``places.<state>``
  (= ``states.<state>.places``) and ``inflow`` (= ``inflow.rate``).

The functions work on plain scenario data (``load_raw``), before validation, so
a changed value is validated like any other input.
"""

from __future__ import annotations

import copy
from typing import Any

ALIASES = {"hazard": ("states", "transitions", "rate"), "places": ("states", "places")}
COUNT_KEYS = ("initial", "places")  # whole numbers in the schema (CountValue)


class PathError(ValueError):
    """A path that does not name a number of the scenario."""


def canonical(path: str) -> str:
    """The path in its long form, without a trailing ``.value``.

    >>> canonical("hazard.arr1.work.value")
    'states.arr1.transitions.work.rate'
    """
    parts = str(path).strip().split(".")
    if not parts or any(p == "" for p in parts):
        raise PathError(f"{path!r}: not a dotted path")
    if parts[-1] == "value" and len(parts) > 1:
        parts = parts[:-1]
    if any(ch in part for part in parts for ch in "*?[]"):
        raise PathError(f"{path}: wildcards name several numbers; give one path per number")
    head = parts[0]
    if head == "hazard":
        if len(parts) != 3:
            raise PathError(f"{path}: use hazard.<state>.<transition>")
        return f"states.{parts[1]}.transitions.{parts[2]}.rate"
    if head == "places":
        if len(parts) != 2:
            raise PathError(f"{path}: use places.<state>")
        return f"states.{parts[1]}.places"
    if parts == ["inflow"]:
        return "inflow.rate"
    return ".".join(parts)


def get(data: dict[str, Any], path: str, default: float | None = None) -> float:
    """The number at ``path`` in scenario data.

    Args:
        data: Plain scenario data (or a validated scenario's ``model_dump(by_alias=True)``).
        path: A parameter path (see the module docstring).
        default: Returned when the path's last table or key is absent (e.g. a team's optional
            ``productivity``); None raises :class:`PathError` instead.
    """
    long = canonical(path)
    parent, last = _parent(data, long)
    node = parent.get(last) if isinstance(parent, dict) else None
    if node is None:
        if default is not None:
            return float(default)
        raise PathError(f"{path}: no {last!r} in the scenario")
    if isinstance(node, dict):
        if "values" in node and "value" not in node:
            dates = ", ".join(str(d) for d in node["values"])
            example = f"{long}.values.{next(iter(node['values']))}"
            raise PathError(f"{path}: dated values; name one date, e.g. {example} ({dates})")
        if "value" not in node:
            raise PathError(f"{path}: not a number or a sourced value")
        node = node["value"]
    if isinstance(node, bool) or not isinstance(node, int | float):
        raise PathError(f"{path}: not a number")
    return float(node)


def set(data: dict[str, Any], path: str, value: float, source: str | None = None) -> dict[str, Any]:
    """A deep copy of ``data`` with the number at ``path`` set to ``value``.

    A sourced value keeps its source and unit; only ``value`` changes. Counts
    (initial stocks, places) are rounded to whole numbers.

    Args:
        data: Plain scenario data.
        path: A parameter path.
        value: The new number.
        source: When given, a sourced value the file leaves out (e.g. a team's ``productivity``)
            is created with this source; otherwise a missing value is an error.
    """
    return set_many(data, {path: value}, source)


def set_many(data: dict[str, Any], values: dict[str, float], source: str | None = None) -> dict[str, Any]:
    """A deep copy of ``data`` with every path in ``values`` set (see :func:`set`)."""
    out = copy.deepcopy(data)
    for path, value in values.items():
        long = canonical(path)
        parent, last = _parent(out, long)
        typed = _typed(long, value)
        node = parent.get(last)
        if isinstance(node, dict):
            if "value" not in node:
                get(out, path)  # raises the precise message (dated values, not a number)
            node["value"] = typed
        elif node is None:
            if source is None:
                raise PathError(f"{path}: no {last!r} in the scenario")
            parent[last] = {"value": typed, "source": source}
        elif isinstance(node, bool) or not isinstance(node, int | float):
            raise PathError(f"{path}: not a number")
        else:
            parent[last] = typed
    return out


def is_count(path: str) -> bool:
    """Whether the path names a whole number (an initial stock or a number of places)."""
    parts = canonical(path).split(".")
    return len(parts) >= 3 and parts[0] == "states" and parts[-1] in COUNT_KEYS


def _typed(long: str, value: float) -> int | float:
    number = value.item() if hasattr(value, "item") else value
    return int(round(number)) if is_count(long) else float(number)


def _parent(data: dict[str, Any], long: str) -> tuple[dict[str, Any], str]:
    """The table holding the path's last key; every table on the way must exist."""
    *tables, last = long.split(".")
    node: Any = data
    for i, part in enumerate(tables):
        if not isinstance(node, dict):
            raise PathError(f"{long}: {'.'.join(tables[:i])} is not a table")
        if part not in node:
            raise PathError(f"{long}: no {part!r} in the scenario")
        node = node[part]
    if not isinstance(node, dict):
        raise PathError(f"{long}: {'.'.join(tables)} is not a table")
    return node, last
