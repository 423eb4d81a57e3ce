"""Free parameters: dotted paths into a scenario's data, and small in-place TOML edits.

A path names a number in the scenario in the syntax of :mod:`sim.model.paths`,
e.g. ``states.arr1.transitions.work.rate`` (a sourced value: its ``value`` is
fitted; ``.value`` may be written or left out, ``hazard.arr1.work`` is the same)
or ``inflow.rate.values.2017-01-01`` (one entry of a dated table). The calibrate
command turns every path into its long form first (:func:`sim.model.paths.canonical`).
Writing results back edits only the ``value`` and ``source`` text of those
entries, so comments, layout and sections that other people are adding to the
same file survive.
"""

from __future__ import annotations

import re
from typing import Any

from sim.model import paths

HEADER = re.compile(r"^\s*\[([A-Za-z0-9_.\-]+)\]\s*(#.*)?$")
NUMBER = r"[-+]?(?:\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?|\.\d+)"


def get_value(data: dict[str, Any], path: str) -> float:
    """The number at parameter ``path`` (:mod:`sim.model.paths`; ``.value`` optional)."""
    try:
        return paths.get(data, path)
    except paths.PathError as exc:
        raise ValueError(f"--free {exc}") from None


def set_values(data: dict[str, Any], values: dict[str, float]) -> dict[str, Any]:
    """A deep copy of ``data`` with each path set to its value (counts rounded to whole numbers)."""
    try:
        return paths.set_many(data, values)
    except paths.PathError as exc:
        raise ValueError(f"--free {exc}") from None


def format_value(value: float) -> str:
    """Four significant digits: well below the fit's tolerance, readable in a diff."""
    text = f"{value:.4g}"
    if "e" in text:
        text = f"{value:.6f}".rstrip("0")
    return text if "." in text else f"{text}.0"


def round_value(value: float) -> float:
    return float(format_value(value))


def edit_toml_text(text: str, path: str, value: float, source: str) -> str:
    """``text`` with the number at ``path`` set to ``value`` and its source set to ``source``.

    Supported layouts (those of the bundled scenarios): ``key = { value = .., source = ".." }``
    inside a ``[table]``; a ``[table]`` holding ``value = ..`` and ``source = ..`` lines;
    and ``values = { 2017-01-01 = .., ... }`` with the table's own ``source = ..`` line.
    """
    lines = text.splitlines(keepends=True)
    parts = path.split(".")
    sections = _sections(lines)
    for cut in range(len(parts), 0, -1):
        header = ".".join(parts[:cut])
        if header in sections:
            rest = parts[cut:]
            lo, hi = sections[header]
            break
    else:
        raise ValueError(f"{path}: no table header for it in the file")
    new = _edit_section(lines, lo, hi, rest, value, source, path)
    return "".join(new)


def _sections(lines: list[str]) -> dict[str, tuple[int, int]]:
    starts = [(i, m.group(1)) for i, line in enumerate(lines) if (m := HEADER.match(line))]
    bounds = {}
    for n, (i, name) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        bounds[name] = (i + 1, end)
    return bounds


def _key_line(lines: list[str], lo: int, hi: int, key: str) -> int | None:
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    return next((i for i in range(lo, hi) if pattern.match(lines[i])), None)


def _sub_once(pattern: str, repl: str, line: str, path: str) -> str:
    new, n = re.subn(pattern, lambda _: repl, line, count=1)
    if n != 1:
        raise ValueError(f"{path}: cannot find {pattern!r} to edit")
    return new


def _edit_section(lines, lo, hi, rest, value, source, path):
    lines = list(lines)
    quoted = '"' + source.replace("\\", "\\\\").replace('"', '\\"') + '"'
    number = format_value(value)
    if not rest:  # the table itself is the sourced value
        for key, repl in (("value", f"value = {number}"), ("source", f"source = {quoted}")):
            i = _key_line(lines, lo, hi, key)
            if i is None:
                raise ValueError(f"{path}: no {key} line")
            lines[i] = _sub_once(rf"{key}\s*=\s*(?:{NUMBER}|\"(?:[^\"\\]|\\.)*\")", repl, lines[i], path)
        return lines
    i = _key_line(lines, lo, hi, rest[0])
    if i is None:
        raise ValueError(f"{path}: no {rest[0]!r} line in its table")
    if len(rest) == 1:  # key = { value = .., source = ".." }
        lines[i] = _sub_once(rf"\bvalue\s*=\s*{NUMBER}", f"value = {number}", lines[i], path)
        lines[i] = _sub_once(r"\bsource\s*=\s*\"(?:[^\"\\]|\\.)*\"", f"source = {quoted}", lines[i], path)
        return lines
    if len(rest) == 2:  # values = { 2017-01-01 = .., ... } and the table's source line
        lines[i] = _sub_once(rf"(?<![\w-]){re.escape(rest[1])}\s*=\s*{NUMBER}", f"{rest[1]} = {number}", lines[i], path)
        j = _key_line(lines, lo, hi, "source")
        if j is None:
            raise ValueError(f"{path}: its table has no source line")
        lines[j] = _sub_once(r"source\s*=\s*\"(?:[^\"\\]|\\.)*\"", f"source = {quoted}", lines[j], path)
        return lines
    raise ValueError(f"{path}: layout not supported for editing")
