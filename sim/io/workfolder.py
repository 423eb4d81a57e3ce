"""Resumable work folders: one file per finished unit of work, written atomically and checksummed.

A run folder holds ``run.json`` (what the work is: scenario hash, seed, ...)
and ``replications/rep-000012.npz``, one per finished replication. Every file
is written to a temporary name, fsynced and renamed into place, so an
interruption at any moment leaves only complete files plus, at worst, a stray
temporary that the next start removes.

Every unit file carries a stamp: the SHA-256 of its content, the scenario hash,
the seed, its own index and the package version. ``--resume`` checks the stamp
of each file before reusing it; a file that fails (truncated, bytes flipped,
empty, copied from another replication, written by another version) is named
on stderr, set aside as ``<name>.bad`` (never deleted) and computed again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from sim import __version__
from sim.engines.result import Result
from sim.io.safety import TMP_PREFIX, atomic_write_bytes
from sim.util.inputs import InputError, read_input

IDENTITY = "run.json"
COMPLETE = "manifest.json"  # written last: its presence marks a finished run
STAMP = "__caseload_sim__"  # the npz entry holding a replication file's stamp (JSON bytes)
MAX_UNIT_BYTES = 1_000_000_000  # one replication's arrays: far above 100 years x 200 states

__all__ = ["COMPLETE", "IDENTITY", "TMP_PREFIX", "BadUnit", "WorkFolder", "atomic_write_json"]


class BadUnit(ValueError):
    """A saved unit of work that cannot be trusted; the message names the file and why."""


def atomic_write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=2, sort_keys=True, default=str) + "\n").encode())


def _digest(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of the arrays' names, types, shapes and bytes, in name order."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def result_to_npz(result: Result, path: Path, stamp: dict[str, Any] | None = None) -> None:
    """Save every array and number field of ``result`` (whatever fields it has), stamped, atomically.

    Args:
        result: One replication.
        path: Target file.
        stamp: What the file belongs to (scenario hash, seed), checked on reuse.
    """
    arrays = {}
    for field in dataclasses.fields(result):
        value = getattr(result, field.name)
        if isinstance(value, np.ndarray | int | float | np.number) and not isinstance(value, bool):
            arrays[field.name] = np.asarray(value)
    meta = dict(stamp or {}) | {"replication": int(result.replication), "version": __version__, "sha256": _digest(arrays)}
    arrays[STAMP] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    with interrupts_held():
        np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())  # fsynced before the rename


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends, then raise ``KeyboardInterrupt``.

    ``zipfile`` (inside ``np.savez``) interrupted between opening a member and writing it cannot close the
    archive, and the ``ValueError`` it raises then replaces the interrupt: the run reported an error instead
    of stopping for ``--resume`` (seen in CI). Signals can only be handled in the main thread; elsewhere the
    block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if caught:
        raise KeyboardInterrupt("terminated" if caught[0] == signal.SIGTERM else "")


def result_from_npz(path: Path, expect: dict[str, Any] | None = None) -> Result:
    """The :class:`Result` saved by :func:`result_to_npz` (the event log is not kept), checked.

    Args:
        path: A replication file.
        expect: Stamp entries that must match (e.g. ``replication``, ``scenario_sha256``, ``version``).

    Raises:
        BadUnit: The file is unreadable, its checksum does not match, or its stamp differs from ``expect``.
    """
    try:
        data = read_input(path, MAX_UNIT_BYTES)
    except InputError as exc:
        raise BadUnit(str(exc)) from None
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        meta = json.loads(arrays.pop(STAMP).tobytes()) if STAMP in arrays else None
    except Exception as exc:  # zip, zlib, numpy and JSON each raise their own errors for a damaged file
        raise BadUnit(f"{path}: not a readable replication file ({type(exc).__name__})") from None
    if not isinstance(meta, dict):
        raise BadUnit(f"{path}: carries no checksum")
    if meta.get("sha256") != _digest(arrays):
        raise BadUnit(f"{path}: checksum does not match its content")
    for key, value in (expect or {}).items():
        if meta.get(key) != value:
            raise BadUnit(f"{path}: written for {key} {meta.get(key)!r}, this run has {value!r}")
    names = {f.name for f in dataclasses.fields(Result)}
    kwargs = {n: (v.item() if v.ndim == 0 else v) for n, v in arrays.items() if n in names}  # drop retired fields
    try:
        return Result(**kwargs)
    except TypeError as exc:
        raise BadUnit(f"{path}: {exc}") from None


class WorkFolder:
    """Finished work units named ``<unit>-NNNNNN<suffix>`` under ``sub`` of a claimed output folder.

    Args:
        root: The run (or sweep) folder, already claimed (:func:`sim.io.safety.claim_folder`).
        identity: What the work is; a resume with a different identity is refused.
        sub: Sub-folder holding the unit files.
        unit: File name prefix, e.g. ``"rep"``.
        suffix: File name suffix, e.g. ``".npz"``.
    """

    def __init__(self, root: Path, identity: dict[str, Any], sub: str, unit: str, suffix: str):
        self.root = Path(root)
        self.identity = identity
        self.dir = self.root / sub
        self.unit = unit
        self.suffix = suffix

    def open(self, resume: bool) -> None:
        """Write the identity of new work, or check that the saved work is the same.

        Raises:
            ValueError: Resuming a folder that holds different work.
        """
        if (self.root / IDENTITY).exists() and resume:
            self._check_identity()
        else:
            atomic_write_json(self.root / IDENTITY, self.identity)
        self.dir.mkdir(exist_ok=True)

    def _check_identity(self) -> None:
        path = self.root / IDENTITY
        try:
            saved = json.loads(read_input(path))
        except (InputError, ValueError):
            raise ValueError(f"{path}: unreadable, so {self.root} cannot be resumed; use another --out or --force") from None
        different = sorted(k for k in self.identity if saved.get(k) != self.identity[k])
        if different:
            raise ValueError(
                f"{self.root}: cannot resume, it holds different work ({', '.join(different)} differ); "
                "use another --out or --force"
            )

    def path(self, index: int) -> Path:
        return self.dir / f"{self.unit}-{index:06d}{self.suffix}"

    def done(self) -> set[int]:
        """Indices of finished units (not yet checked)."""
        found = set()
        for p in self.dir.glob(f"{self.unit}-*{self.suffix}"):
            stem = p.name[len(self.unit) + 1 : len(p.name) - len(self.suffix)]
            if stem.isdigit():
                found.add(int(stem))
        return found

    def reusable(self, wanted: Iterable[int], check: Callable[[Path, int], object]) -> set[int]:
        """The wanted units whose files pass ``check``; every other saved one is set aside.

        Args:
            wanted: Indices the work needs.
            check: Reads a unit file and raises :class:`BadUnit` when it cannot be trusted.
        """
        ok = set()
        for index in sorted(self.done() & set(wanted)):
            try:
                check(self.path(index), index)
            except BadUnit as exc:
                self.set_aside(index, str(exc))
                continue
            ok.add(index)
        return ok

    def set_aside(self, index: int, reason: str) -> Path:
        """Rename a bad unit file to ``<name>.bad`` (``.bad-2``...) and say so on stderr."""
        path = self.path(index)
        n = 1
        while (target := path.with_name(path.name + (".bad" if n == 1 else f".bad-{n}"))).exists():
            n += 1
        path.rename(target)
        print(f"warning: {reason}; set aside as {target.name}, computing it again", file=sys.stderr)
        return target
