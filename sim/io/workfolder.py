"""Resumable work folders: one file per finished unit of work, written atomically.

A run folder holds ``run.json`` (what the work is: scenario hash, seed, ...)
and ``replications/rep-000012.npz``, one per finished replication. Every file
is written to a temporary name and renamed into place (``os.replace``), so an
interruption at any moment leaves only complete files plus, at worst, a stray
temporary that the next start removes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from sim.engines.result import Result

IDENTITY = "run.json"
COMPLETE = "manifest.json"  # written last: its presence marks a finished run
TMP_PREFIX = ".tmp-"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write_bytes(path, (json.dumps(data, indent=2, sort_keys=True, default=str) + "\n").encode())


def result_to_npz(result: Result, path: Path) -> None:
    """Save every array and number field of ``result`` (whatever fields it has) atomically."""
    arrays = {}
    for field in dataclasses.fields(result):
        value = getattr(result, field.name)
        if isinstance(value, np.ndarray | int | float | np.number) and not isinstance(value, bool):
            arrays[field.name] = np.asarray(value)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def result_from_npz(path: Path) -> Result:
    """The :class:`Result` saved by :func:`result_to_npz` (the event log is not kept)."""
    names = {f.name: f for f in dataclasses.fields(Result)}
    kwargs: dict[str, Any] = {}
    with np.load(path) as npz:
        for name in npz.files:
            if name not in names:
                continue  # a field this version no longer has
            value = npz[name]
            kwargs[name] = value.item() if value.ndim == 0 else value
    return Result(**kwargs)


class WorkFolder:
    """A folder of finished work units named ``<unit>-NNNNNN<suffix>`` under ``sub``.

    Args:
        root: The run (or sweep) folder.
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

    def open(self, resume: bool, force: bool) -> None:
        """Create the folder, or check that an existing one may be resumed.

        Raises:
            FileExistsError: The folder exists and neither ``resume`` nor ``force`` was given.
            ValueError: ``resume`` was given but the folder holds different work.
        """
        if self.root.exists() and not self.root.is_dir():
            raise FileExistsError(f"{self.root} exists and is not a folder")
        exists = self.root.exists() and any(self.root.iterdir())
        if exists and force:
            if not (self.root / IDENTITY).exists() and not (self.root / COMPLETE).exists():
                raise FileExistsError(f"{self.root} is not a caseload-sim output folder; refusing to replace it")
            shutil.rmtree(self.root)
            exists = False
        if exists and not resume:
            raise FileExistsError(f"{self.root} exists and is not empty (use --resume to continue it or --force)")
        if exists:
            self._check_identity()
        self.dir.mkdir(parents=True, exist_ok=True)
        for stray in list(self.root.glob(f"{TMP_PREFIX}*")) + list(self.dir.glob(f"{TMP_PREFIX}*")):
            if stray.is_dir():  # left by an interruption mid-write
                shutil.rmtree(stray, ignore_errors=True)
            else:
                stray.unlink(missing_ok=True)
        if not exists:
            atomic_write_json(self.root / IDENTITY, self.identity)

    def _check_identity(self) -> None:
        path = self.root / IDENTITY
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError):
            raise ValueError(f"{self.root}: not a resumable folder (no readable {IDENTITY})") from None
        different = sorted(k for k in self.identity if saved.get(k) != self.identity[k])
        if different:
            raise ValueError(
                f"{self.root}: cannot resume, it holds different work ({', '.join(different)} differ); "
                "use another --out or --force"
            )

    def path(self, index: int) -> Path:
        return self.dir / f"{self.unit}-{index:06d}{self.suffix}"

    def done(self) -> set[int]:
        """Indices of finished units."""
        found = set()
        for p in self.dir.glob(f"{self.unit}-*{self.suffix}"):
            stem = p.name[len(self.unit) + 1 : len(p.name) - len(self.suffix)]
            if stem.isdigit():
                found.add(int(stem))
        return found
