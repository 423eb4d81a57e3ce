"""Parameter uncertainty: an ensemble of parameter sets (e.g. posterior draws of a calibration), one per replication.

A calibrated scenario names a CSV of draws: one column per parameter path
(:mod:`sim.model.paths`), one row per draw::

    [uncertainty]
    draws = "utrecht_baseline.draws.csv"   # relative to the scenario file
    source = "calibrated: calibration/report/..., posterior draws"

Replication ``r`` of seed ``S`` uses draw ``d(S, r)``, drawn from the
replication's own stream (:data:`sim.model.streams.Stream.PARAMETERS`), so
every scenario compared with the same seed gets the same parameter draw in the
same replication: differences stay paired in parameters as in random numbers.
Bands computed over replications then cover simulation noise *and* the
uncertainty of the fitted parameters.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from pathlib import Path
from typing import Any

import sim.model.paths as paths
from sim.util.inputs import InputError, decode_text, read_input

MAX_BYTES = 20_000_000
MAX_DRAWS = 100_000


class UncertaintyError(ValueError):
    """A draws file that cannot be used; the message names the file, row and column."""


def read(path: Path, data: dict[str, Any]) -> tuple[list[dict[str, float]], str]:
    try:  # a regular file only, its size checked before reading (sim.util.inputs)
        raw = read_input(path, MAX_BYTES)
        text = decode_text(raw, path)
    except InputError as exc:
        raise UncertaintyError(str(exc) if path.exists() else f"{path}: no such draws file") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise UncertaintyError(f"{path}: empty")
    columns = []
    for name in header:
        try:
            canonical = paths.canonical(name)
            paths.get(data, canonical)
        except paths.PathError as exc:
            raise UncertaintyError(f"{path}: column {name!r}: {exc}") from None
        columns.append(canonical)
    rows = []
    for n, row in enumerate(reader, start=2):
        if len(rows) >= MAX_DRAWS:
            raise UncertaintyError(f"{path}: more than {MAX_DRAWS} draws")
        if len(row) != len(columns):
            raise UncertaintyError(f"{path}: row {n} has {len(row)} values for {len(columns)} columns")
        values = {}
        for column, text in zip(columns, row):
            try:
                value = float(text)
            except ValueError:
                raise UncertaintyError(f"{path}: row {n}, column {column}: {text!r} is not a number") from None
            if not math.isfinite(value):
                raise UncertaintyError(f"{path}: row {n}, column {column}: {text!r} is not finite")
            values[column] = value
        rows.append(values)
    if not rows:
        raise UncertaintyError(f"{path}: no draws")
    return rows, hashlib.sha256(raw).hexdigest()


def band_note(scenario) -> str:
    """What a band over replications of ``scenario`` covers, in words."""
    u = scenario.uncertainty
    if u is None or not u.values:
        return "simulation noise only (the scenario's parameters are fixed)"
    return f"simulation noise and parameter uncertainty ({len(u.values)} parameter draws, one per replication)"
