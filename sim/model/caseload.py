"""Start from a municipality's own caseload: a CSV extract read into the scenario's initial population.

Two layouts are accepted (one header row, UTF-8 with or without BOM, comma-separated):

* **one row per household**: ``state`` and ``spell_start`` (``YYYY-MM-DD``, the first day of the
  current spell on bijstand), and optionally one column per scenario attribute holding a level
  name (e.g. ``age_band`` = ``youth``); attributes not given are drawn from their shares;
* **counts**: ``state``, ``count`` and ``months_from`` (spell duration at the start, months),
  optionally ``months_to`` (empty: an open band, the excess over ``months_from`` exponential with
  the state's ``initial_duration_months``) and attribute columns. Durations are spread uniformly
  within ``[months_from, months_to)``.

Any other column is refused (an extract may hold personal data the model has no use for). Rows
are aggregated to counts by state, spell duration and attribute levels, and the run folder keeps
only those counts' digest: no household-level data reaches the outputs.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
from pathlib import Path
from typing import Any

from sim.model.calendar import Calendar
from sim.util.inputs import InputError, decode_text, read_input

MAX_BYTES = 50_000_000  # ~1M households; a municipal extract is far smaller
MAX_ROWS = 1_000_000


class CaseloadError(ValueError):
    """A caseload file that cannot be used; the message names the file, row and column."""


def read(path: Path, data: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """(groups, sha256 of the file) of a caseload extract, checked against the scenario ``data``."""
    try:  # a regular file only, its size checked before reading (sim.util.inputs)
        raw = read_input(path, MAX_BYTES)
        text = decode_text(raw, path)
    except InputError as exc:
        raise CaseloadError(str(exc) if path.exists() else f"{path}: no such caseload file") from None
    rows = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in rows.fieldnames or []]
    attributes = {name: set(spec.get("levels", {}).get("values", {})) for name, spec in data.get("attributes", {}).items()}
    states = set(data.get("states", {}))
    if {"state", "spell_start"} <= set(columns):
        layout, required = "households", ("state", "spell_start")
    elif {"state", "count", "months_from"} <= set(columns):
        layout, required = "counts", ("state", "count", "months_from")
    else:
        raise CaseloadError(
            f"{path}: header needs 'state' and 'spell_start' (one row per household) or 'state', 'count' "
            f"and 'months_from' (counts); it has {', '.join(columns) or 'nothing'}"
        )
    allowed = {*required, *attributes} | ({"months_to"} if layout == "counts" else set())
    unknown = [c for c in columns if c not in allowed]
    if unknown:
        raise CaseloadError(f"{path}: column {unknown[0]!r} is not used by the model (allowed: {', '.join(sorted(allowed))})")
    calendar = Calendar(_date(data.get("start"), path), 0)
    groups: dict[tuple, int] = {}
    for n, row in enumerate(rows, start=2):
        if n - 1 > MAX_ROWS:
            raise CaseloadError(f"{path}: more than {MAX_ROWS} rows")
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        where = f"{path}: row {n}"
        state = row["state"]
        if state not in states:
            raise CaseloadError(f"{where}, column state: unknown state {state!r}")
        levels = []
        for name in attributes:
            value = row.get(name, "")
            if value and value not in attributes[name]:
                raise CaseloadError(f"{where}, column {name}: {value!r} is not a level of {name!r}")
            levels.append((name, value) if value else None)
        if layout == "households":
            try:
                start = dt.date.fromisoformat(row["spell_start"])
            except ValueError:
                raise CaseloadError(f"{where}, column spell_start: {row['spell_start']!r} is not a date YYYY-MM-DD") from None
            months = -calendar.months(start)
            if months < 0:
                raise CaseloadError(f"{where}, column spell_start: {start} is after the scenario start {calendar.start}")
            key = (state, round(months, 9), round(months, 9), tuple(x for x in levels if x))
            count = 1
        else:
            count = _number(row["count"], f"{where}, column count", integer=True)
            low = _number(row["months_from"], f"{where}, column months_from")
            high = _number(row["months_to"], f"{where}, column months_to") if row.get("months_to") else math.inf
            if high < low:
                raise CaseloadError(f"{where}, column months_to: {high:g} is below months_from {low:g}")
            key = (state, low, high, tuple(x for x in levels if x))
        groups[key] = groups.get(key, 0) + count
    if not groups:
        raise CaseloadError(f"{path}: no households")
    out = [
        {"state": state, "count": count, "months_from": low, "months_to": None if math.isinf(high) else high,
         "levels": dict(levels)}
        for (state, low, high, levels), count in groups.items()
    ]  # fmt: skip
    return out, hashlib.sha256(raw).hexdigest()


def _number(text: str, where: str, integer: bool = False) -> float:
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        raise CaseloadError(f"{where}: {text!r} is not {'a whole number' if integer else 'a number'}") from None
    if not math.isfinite(value) or value < 0 or (integer and value < 1):
        raise CaseloadError(f"{where}: {text!r} must be {'at least 1' if integer else 'a number >= 0'}")
    return value


def _date(value: Any, path: Path) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CaseloadError(f"{path}: the scenario needs a valid start to place the spells") from None
