"""Read a scenario file: TOML -> ``extends`` merged -> validated -> frozen :class:`Scenario`.

Every failure is a :class:`ScenarioError` holding one line per problem, each
starting with the key path, so the CLI can print them and exit 2.

Names never fall back silently: a bare name (no folder, no ``.toml``) is a
bundled scenario, anything else is a path that must exist. ``extends`` works
the same way: ``extends = "utrecht_baseline"`` is the bundled file, from any
folder; ``extends = "base.toml"`` is a file next to the extending one.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.model import caseload, uncertainty
from sim.model.caseload import CaseloadError
from sim.model.schema import Scenario
from sim.model.uncertainty import UncertaintyError
from sim.util.inputs import InputError, read_input_text

MAX_BYTES = 1_000_000  # a real scenario is a few kB; refuse anything that could be a bomb
MAX_DEPTH = 12  # the schema nests at most ~6 tables deep
MAX_EXTENDS = 10
BUNDLED = Path(__file__).resolve().parents[2] / "scenarios"


class ScenarioError(Exception):
    """A scenario that cannot be used; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def resolve_path(name: str | Path | None) -> Path:
    """The file of a scenario: a bundled scenario by bare name, or a path that exists.

    A bare name has no folder and no ``.toml`` suffix (``wassenaar_region``); anything
    else (``./wassenaar_region.toml``, ``/data/wassenaar_region.toml``) is a path, and a path
    that does not exist is an error, never a bundled file of the same name.

    Raises:
        ScenarioError: Neither a bundled name nor an existing path.
    """
    if name is None:
        return BUNDLED / f"{default_name()}.toml"
    text = str(name)
    if not isinstance(name, Path) and is_bare_name(text) and text in bundled_names():
        return BUNDLED / f"{text}.toml"
    path = Path(text)
    if path.exists():
        return path
    if is_bare_name(text):
        raise ScenarioError([f"{text}: no bundled scenario of that name and no such file (bundled: {', '.join(bundled_names())})"])
    hint = f" (the bundled one is named without folder or suffix: {path.stem})" if path.stem in bundled_names() else ""
    raise ScenarioError([f"{text}: no such file{hint}"])


def is_bare_name(text: str) -> bool:
    """A bundled-scenario name: no folder separator and no ``.toml`` suffix."""
    return bool(text) and "/" not in text and "\\" not in text and not text.endswith(".toml") and text not in (".", "..")


def default_name() -> str:
    """The bundled scenario run when none is named: the one line of ``scenarios/default.txt``."""
    return (BUNDLED / "default.txt").read_text(encoding="utf-8").strip()


def bundled_names() -> list[str]:
    return sorted(p.stem for p in BUNDLED.glob("*.toml"))


def load_raw(path: str | Path, files: list[Path] | None = None) -> dict[str, Any]:
    """The merged plain data of a scenario file and everything it extends.

    Args:
        path: The scenario file.
        files: If given, receives every file read (the file itself, then what it extends).
    """
    path = Path(path).resolve()
    data = _load_chain(path, root=path.parent, seen=[], files=files if files is not None else [])
    return attach_files(data, path.parent)


# Tables that name a data file: table -> (key naming the file, key it is read into, reader). The path is
# relative to the scenario file that declares it, and a variant that declares one replaces its parent's
# table instead of merging into it. A reader returns (values, sha256 of the file) and raises CaseloadError or
# UncertaintyError naming row and column.
DATA_FILES = {
    "initial_population": ("file", "groups", caseload.read),
    "uncertainty": ("draws", "values", uncertainty.read),
}


def attach_files(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """``data`` with the caseload extract and the parameter draws it names read in (sim.model.caseload,
    sim.model.uncertainty; relative paths from ``base``). Files already read are left alone."""
    for table, (key, into, read) in DATA_FILES.items():
        spec = data.get(table)
        if not isinstance(spec, dict) or key not in spec or into in spec:
            continue
        if not isinstance(spec[key], str):
            raise ScenarioError([f"{table}.{key}: must be a file name (string)"])
        path = Path(spec[key])
        try:
            values, digest = read(path if path.is_absolute() else base / path, data)
        except (CaseloadError, UncertaintyError) as exc:
            raise ScenarioError([str(exc)]) from None
        data = data | {table: spec | {into: values, "digest": digest}}
    return data


def _absolute_files(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    for table, (key, _, _) in DATA_FILES.items():
        spec = data.get(table)
        if isinstance(spec, dict) and isinstance(spec.get(key), str) and not Path(spec[key]).is_absolute():
            data = data | {table: spec | {key: str((folder / spec[key]).resolve())}}
    return data


def scenario_files(name: str | Path | None) -> list[Path]:
    """The files a scenario is read from: its own and every file it extends (outputs must spare them)."""
    files: list[Path] = []
    load_raw(resolve_path(name), files)
    return files


def load_scenario(
    path: str | Path | None = None, overrides: dict[str, Any] | None = None, caseload: str | Path | None = None
) -> Scenario:
    """Load, merge, override and validate a scenario.

    Args:
        path: a scenario file, or the name of a bundled scenario (None: the bundled default).
        overrides: plain data merged over the file's.
        caseload: a caseload extract (CSV, sim/model/caseload.py) to start from instead of the
            scenario's initial stocks; a relative ``initial_population.file`` in the scenario is read
            from the scenario's folder.
    """
    path = resolve_path(path)
    data = load_raw(path)
    if overrides:
        data = deep_merge(data, overrides)
    if caseload is not None:
        data = data | {"initial_population": {"file": str(Path(caseload).resolve()), "source": "caseload extract (--caseload)"}}
    return validate(attach_files(data, Path(path).resolve().parent), origin=str(path))


def validate(data: dict[str, Any], origin: str = "<data>") -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        lines = [line for err in _closest_member(exc.errors()) for line in _format_error(err)]
        raise ScenarioError(list(dict.fromkeys(lines))) from None
    except (RecursionError, OverflowError, MemoryError) as exc:  # pathological input
        raise ScenarioError([f"{origin}: cannot be validated ({type(exc).__name__})"]) from None


def _closest_member(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where a union failed (``rate`` is a value or dated values), keep the member that came closest.

    pydantic reports every member's errors; naming the keys another member
    would have needed only confuses, so keep the member with the fewest errors.
    """
    members: dict[tuple, dict[str, list[dict[str, Any]]]] = {}  # union site -> member -> errors
    for err in errors:
        loc = err["loc"]
        at = next((i for i, part in enumerate(loc) if str(part)[:1].isupper()), None)
        if at is not None:
            members.setdefault(loc[:at], {}).setdefault(str(loc[at]), []).append(err)
    dropped = set()
    for by_member in members.values():
        best = min(by_member, key=lambda name: len(by_member[name]))
        dropped |= {id(err) for name, errs in by_member.items() if name != best for err in errs}
    return [err for err in errors if id(err) not in dropped]


def content_hash(scenario: Scenario) -> str:
    """A stable hash of the resolved scenario, for the manifest and resume checks.

    A data file counts by its content (``digest``), not by where it lies on this machine.
    """
    data = scenario.model_dump(mode="json", by_alias=True)
    for table, (key, _, _) in DATA_FILES.items():
        if isinstance(data.get(table), dict):
            data[table].pop(key, None)
    blob = json.dumps(data, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value (arrays too) is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _load_chain(path: Path, root: Path, seen: list[Path], files: list[Path]) -> dict[str, Any]:
    files.append(path)
    if path in seen:
        cycle = " -> ".join(p.name for p in [*seen, path])
        raise ScenarioError([f"extends: cycle {cycle}"])
    if len(seen) >= MAX_EXTENDS:
        raise ScenarioError([f"extends: chain longer than {MAX_EXTENDS} files"])
    data = _absolute_files(_read_toml(path), path.parent)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError([f"{path.name}: extends: must be a file name (string)"])
    if is_bare_name(parent):  # a bundled scenario, whatever folder the variant is in
        if parent not in bundled_names():
            raise ScenarioError(
                [f"{path.name}: extends: {parent!r} is not a bundled scenario (bundled: {', '.join(bundled_names())}); "
                 "name a file with its .toml suffix"]
            )  # fmt: skip
        target, root = BUNDLED / f"{parent}.toml", BUNDLED
    else:
        target = (path.parent / parent).resolve()
        if not target.is_relative_to(root):
            raise ScenarioError([f"{path.name}: extends: {parent!r} is outside the scenario folder"])
        if not target.is_file():
            stem = Path(parent).stem
            hint = f" (to extend the bundled scenario write extends = \"{stem}\")" if stem in bundled_names() else ""
            raise ScenarioError([f"{path.name}: extends: {parent!r} not found{hint}"])
    merged = deep_merge(_load_chain(target, root, [*seen, path], files), data)
    return merged | {table: data[table] for table in DATA_FILES if table in data}  # replaced, not merged


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = read_input_text(path, MAX_BYTES)  # regular files only, size checked before reading; BOM dropped
    except InputError as exc:
        raise ScenarioError([str(exc)]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"{path.name}: invalid TOML: {exc}"]) from None
    except RecursionError:
        raise ScenarioError([f"{path.name}: nested too deeply"]) from None
    if _depth(data) > MAX_DEPTH:
        raise ScenarioError([f"{path.name}: nested more than {MAX_DEPTH} levels deep"])
    return data


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _format_error(err: dict[str, Any]) -> list[str]:
    # pydantic names union members in the path ("rate.NonNegativeValue.value"); drop them
    loc = ".".join(str(p) for p in err["loc"] if not str(p)[:1].isupper() and str(p) != "[key]")
    msg = err["msg"].removeprefix("Value error, ")
    if not loc:  # cross-reference problems: each already starts with its key path
        return msg.split("; ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required key missing"
    return [f"{loc}: {_short(msg)}"]


def _short(msg: str) -> str:
    replacements = {
        "Input should be greater than or equal to": "must be >=",
        "Input should be greater than": "must be >",
        "Input should be less than or equal to": "must be <=",
        "Input should be a finite number": "must be a finite number",
    }
    for long, short in replacements.items():
        if msg.startswith(long):
            return short + msg[len(long) :]
    return msg[0].lower() + msg[1:] if msg else msg
