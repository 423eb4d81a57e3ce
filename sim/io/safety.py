"""The one output-safety rule every writing command follows.

* A command writes only inside its own folder (or into a file it creates).
* An existing non-empty target is refused unless ``--force`` is given, and
  ``--force`` replaces only a folder caseload-sim can prove it made: one that
  holds a marker file (:data:`MARKER`, with our package name, format and the
  command that made it) and nothing but the files that command writes. A
  ``thesis.docx`` or a ``manifest.json`` of unknown origin is never deleted.
* A lock file (:data:`LOCK`, created with ``O_CREAT | O_EXCL`` and holding the
  writer's pid) makes a second concurrent writer fail at once, naming the
  lock; a lock left by a process that no longer runs is taken over.
* A folder this command created is removed again when the command fails
  (an interruption keeps it, so the work can be resumed).

Single-file outputs (``goal-seek --out``, ``calibrate --out``) follow the same
rule through :func:`check_new_file` and :func:`write_new_file`: an existing
file is replaced only with ``--force`` and only when it carries our marker.
"""

from __future__ import annotations

import datetime as dt
import errno
import fnmatch
import json
import os
import shutil
from pathlib import Path

from sim import __version__
from sim.io.atomic import TMP_PREFIX, atomic_write_bytes, fsync_folder, merge_into
from sim.io.lock import FolderLock, LockError

__all__ = [
    "LOCK", "MARKER", "OUTPUTS", "TMP_PREFIX", "LockError", "OutputError", "OutputFolder", "atomic_write_bytes",
    "check_new_file", "claim_folder", "file_is_ours", "fsync_folder", "held", "marker_data", "merge_into",
    "new_folder", "read_marker", "write_new_file",
]  # fmt: skip

MARKER = ".caseload-sim.json"
LOCK = ".caseload-sim.lock"
MARKER_FORMAT = 1  # version of the marker itself; a marker of another format is not trusted
PACKAGE = "caseload-sim"

# Every file each kind of folder may hold (posix paths relative to the folder, shell patterns).
# ``--force`` removes these and nothing else; a folder holding anything more is refused.
OUTPUTS: dict[str, tuple[str, ...]] = {
    "run": ("run.json", "manifest.json", "monthly.csv", "annual.csv", "summary.csv", "groups.csv", "scenario.json",
            "charts/*.png", "replications/rep-*.npz", "replications/rep-*.npz.bad*"),
    "sweep": ("run.json", "manifest.json", "sweep.parquet", "sensitivity.csv", "charts/*.png",
              "points/point-*.json", "points/point-*.json.bad*"),
    "compare": ("comparison.csv", "comparison.xlsx", "report.html", "manifest.json", "charts/*.png"),
    "monitor": ("monitor_*.csv", "monitor_*.png", "manifest.json"),
    "experiment": ("effects.csv", "power.csv", "trials.csv", "checks.csv", "effects.png", "power.png",
                   "manifest.json"),
    "calibration": ("fit.csv", "parameters.csv", "covariance.csv", "fit.png", "manifest.json"),
    "validation": ("validation.csv", "validation.png", "manifest.json"),
}  # fmt: skip
FILE_MARKER_TOML = f"# written by {PACKAGE}"  # first line of a TOML file we wrote
FILE_MARKER_KEY = "caseload_sim"  # top-level key of a JSON file we wrote


class OutputError(ValueError):
    """An output target that must not be written; the message names it."""


def marker_data(kind: str) -> dict:
    """What a marker says: our package, the marker format, the command and version that wrote it."""
    return {"package": PACKAGE, "format": MARKER_FORMAT, "kind": kind, "version": __version__}


def read_marker(folder: Path) -> dict | None:
    """The folder's marker, or None when it has none we recognise (absent, unreadable, foreign)."""
    path = Path(folder) / MARKER
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > 64_000:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("package") != PACKAGE or data.get("format") != MARKER_FORMAT:
        return None
    return data if data.get("kind") in OUTPUTS else None


_HELD: dict[Path, OutputFolder] = {}  # folders this process has claimed and not yet released


def held(path: Path) -> OutputFolder | None:
    """The claim this process holds on ``path``, if any (so a writer deep inside can reuse it)."""
    return _HELD.get(Path(path).resolve())


class OutputFolder:
    """A claimed output folder: marked as ours and locked until released.

    Use :func:`claim_folder` (or :func:`new_folder`) to get one, as a context
    manager: leaving the block releases the lock; leaving it with an error other
    than an interruption also removes the folder when this command created it.
    """

    def __init__(self, path: Path, kind: str, created: bool, created_parents: list[Path]):
        self.path = path
        self.kind = kind
        self.created = created  # this command made the folder
        self.fresh = created  # the folder held nothing before this command: a failure may empty it
        self._created_parents = created_parents
        self._lock: FolderLock | None = None

    def __enter__(self) -> OutputFolder:
        return self

    def _locked(self, lock: FolderLock) -> None:
        self._lock = lock
        _HELD[self.path.resolve()] = self

    def __exit__(self, exc_type, exc, tb) -> None:
        failed = exc_type is not None and not issubclass(exc_type, KeyboardInterrupt)
        if failed and self.fresh:
            self.discard()
        else:
            self.release()

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
            _HELD.pop(self.path.resolve(), None)

    def discard(self) -> None:
        """Remove what this command wrote into a folder it created (never anything else), and unlock."""
        try:
            _remove_ours(self.path, self.kind, keep_marker=False)
        finally:
            self.release()
        for folder in [self.path, *self._created_parents] if self.created else []:
            try:
                folder.rmdir()  # only if empty: a file someone else put there keeps the folder
            except OSError:
                break


def claim_folder(path: Path, kind: str, force: bool = False, resume: bool = False) -> OutputFolder:
    """Make ``path`` this command's output folder, or refuse.

    Args:
        path: The folder to write into.
        kind: Which command writes it (a key of :data:`OUTPUTS`).
        force: Replace an existing folder of ours (only our own files are removed).
        resume: Continue in an existing folder of ours, keeping its files.

    Raises:
        OutputError: The target is a file, a folder that is not ours, or not empty
            without ``force``/``resume``. Nothing was written.
        LockError: Another process holds the folder's lock.
    """
    path = Path(path)
    if kind not in OUTPUTS:
        raise ValueError(f"unknown output kind {kind!r}")
    _refuse_unless_ours(path, kind, force, resume)  # before writing anything at all
    created_parents = _missing_parents(path)
    created = False
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir()
            created = True
        except FileExistsError:  # another writer made it a moment ago: the lock decides
            pass
    folder = OutputFolder(path, kind, created, created_parents)
    try:
        lock = FolderLock(path / LOCK)
        lock.acquire()
        folder._locked(lock)
        _refuse_unless_ours(path, kind, force, resume)  # again, now that nobody else can change it
        folder.fresh = not [e for e in os.listdir(path) if e != LOCK]
        marker = read_marker(path)
        if force and marker is not None:
            _remove_ours(path, kind, keep_marker=True)
        _remove_stray_temporaries(path)
        if marker is None or force:
            _write_marker(path, kind)
    except BaseException:
        if folder._lock is not None and folder._lock.held:
            folder.__exit__(OutputError, None, None)  # unlock; empty the folder if it was fresh
        elif created:
            try:
                path.rmdir()  # still empty unless another writer got the lock first: then it is theirs
            except OSError:
                pass
        raise
    return folder


def new_folder(kind: str, slug: str, base: Path = Path("runs")) -> OutputFolder:
    """A new folder ``<base>/<timestamp>-<slug>`` (``-2``, ``-3``... when taken), claimed."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    slug = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in slug.lower()).strip("_")[:60] or kind
    for n in range(1, 1000):
        path = base / (f"{stamp}-{slug}" + (f"-{n}" if n > 1 else ""))
        if not path.exists():
            try:
                return claim_folder(path, kind)
            except LockError:
                continue  # a concurrent command took this name
    raise OutputError(f"{base}: no free folder name for {stamp}-{slug}")


def _refuse_unless_ours(path: Path, kind: str, force: bool, resume: bool) -> None:
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise OutputError(f"{path}: exists and is not a folder; choose another --out")
    if not path.exists() or not [e for e in os.listdir(path) if e != LOCK]:
        return  # a new or empty folder: every command may start there (--resume too: nothing to reuse)
    marker = read_marker(path)
    if not force and not resume:
        hint = " (use --resume to continue it, or --force to replace it)" if marker else ""
        raise OutputError(f"{path}: exists and is not empty{hint}; choose another --out")
    what = "resume in" if resume else "replace"
    if marker is None:
        raise OutputError(f"{path}: not a folder caseload-sim made (no {MARKER}); refusing to {what} it")
    if marker["kind"] != kind:
        raise OutputError(f"{path}: a caseload-sim {marker['kind']} folder, not a {kind} folder; refusing to {what} it")
    if force:
        strangers = _strangers(path, kind)
        if strangers:
            raise OutputError(
                f"{path}: holds files caseload-sim did not write ({', '.join(strangers[:3])}"
                f"{', ...' if len(strangers) > 3 else ''}); refusing to replace it"
            )


def _ours(rel: str, kind: str) -> bool:
    if rel in (MARKER, LOCK) or any(part.startswith(TMP_PREFIX) for part in rel.split("/")):
        return True
    return any(fnmatch.fnmatchcase(rel, pattern) for pattern in OUTPUTS[kind])


def _our_folders(kind: str) -> set[str]:
    return {p.rsplit("/", 1)[0] for p in OUTPUTS[kind] if "/" in p}


def _walk(path: Path, rel: str = ""):
    """(relative path, is a real folder) for everything under ``path``; symbolic links are never followed."""
    with os.scandir(path) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            sub = f"{rel}{entry.name}"
            is_dir = entry.is_dir(follow_symlinks=False)
            yield sub, is_dir
            if is_dir and sub in _our_any_folders():
                yield from _walk(Path(entry.path), f"{sub}/")


def _our_any_folders() -> set[str]:
    return {f for kind in OUTPUTS for f in _our_folders(kind)}


def _strangers(path: Path, kind: str) -> list[str]:
    folders = _our_folders(kind)
    out = []
    for rel, is_dir in _walk(path):
        if is_dir and (rel in folders or rel.split("/")[-1].startswith(TMP_PREFIX)):
            continue
        if not _ours(rel, kind) or is_dir and not rel.split("/")[-1].startswith(TMP_PREFIX):
            out.append(rel + ("/" if is_dir else ""))
    return out


def _remove_ours(path: Path, kind: str, keep_marker: bool) -> None:
    """Delete the files of ``kind`` in ``path`` (and our temporaries), then our emptied sub-folders."""
    if not path.is_dir():
        return
    keep = {LOCK} | ({MARKER} if keep_marker else set())
    folders = _our_folders(kind)
    for rel, is_dir in list(_walk(path)):
        name = rel.split("/")[-1]
        if rel in keep or not _ours(rel, kind):
            continue
        target = path / rel
        if is_dir and name.startswith(TMP_PREFIX):
            shutil.rmtree(target, ignore_errors=True)  # our own scratch folder
        elif not is_dir:
            target.unlink(missing_ok=True)
    for rel in sorted(folders, key=len, reverse=True):
        try:
            (path / rel).rmdir()
        except OSError:
            pass


def _remove_stray_temporaries(path: Path) -> None:
    """Temporaries left by an interrupted writer (their writer no longer runs: we hold the lock)."""
    for rel, is_dir in list(_walk(path)):
        if rel.split("/")[-1].startswith(TMP_PREFIX):
            target = path / rel
            shutil.rmtree(target, ignore_errors=True) if is_dir else target.unlink(missing_ok=True)


def _write_marker(path: Path, kind: str) -> None:
    data = marker_data(kind) | {"created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    atomic_write_bytes(path / MARKER, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


def _missing_parents(path: Path) -> list[Path]:
    out = []
    parent = path.parent
    while parent != parent.parent and not parent.exists():
        out.append(parent)
        parent = parent.parent
    return out


def file_is_ours(path: Path) -> bool:
    """Whether the regular file ``path`` carries the marker of a file caseload-sim wrote."""
    path = Path(path)
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 10_000_000:
            return False
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    if head.startswith(FILE_MARKER_TOML.encode()):
        return True
    if head.lstrip().startswith(b"{"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        stamp = data.get(FILE_MARKER_KEY) if isinstance(data, dict) else None
        return isinstance(stamp, dict) and stamp.get("package") == PACKAGE and stamp.get("format") == MARKER_FORMAT
    return False


def check_new_file(path: Path, force: bool, protected: tuple[Path, ...] = ()) -> None:
    """Refuse to write ``path`` unless it is new, or ``force`` and a file we wrote.

    Args:
        path: The output file.
        force: Allow replacing a file that carries our marker.
        protected: Input files that must never be the output (compared after resolving links).

    Raises:
        OutputError: Naming the file and why.
    """
    path = Path(path)
    for other in protected:
        if _same_file(path, Path(other)):
            raise OutputError(f"{path}: is an input of this command ({other}); choose another --out")
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise OutputError(f"{path}: exists and is not a regular file; choose another --out")
    if path.exists():
        if not force:
            raise OutputError(f"{path}: exists (use --force to replace a file caseload-sim wrote)")
        if not file_is_ours(path):
            raise OutputError(f"{path}: was not written by caseload-sim; refusing to replace it")


def write_new_file(path: Path, data: bytes, force: bool, protected: tuple[Path, ...] = ()) -> None:
    """Write an output file under the rule of :func:`check_new_file`, atomically."""
    path = Path(path)
    check_new_file(path, force, protected)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        atomic_write_bytes(path, data, replace=path.exists())
    except FileExistsError:  # appeared since the check
        raise OutputError(f"{path}: exists (another process wrote it meanwhile)") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError as exc:
        if exc.errno in (errno.ENAMETOOLONG, errno.ELOOP):
            return False
        raise
