"""Writing files so that a reader never sees half of one: temporary name, fsync, rename.

An interruption at any moment leaves the old file or the new one, plus at worst
a temporary (``.tmp-*``) that the next start of the command removes.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

TMP_PREFIX = ".tmp-"  # files and folders being written; removed by the next start


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, replace: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, fsynced, then renamed.

    Args:
        path: Target file.
        data: Content.
        replace: When False the target must not exist (a hard link makes that check atomic).

    Raises:
        FileExistsError: ``replace`` is False and ``path`` exists.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; an output file gets the usual permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
            os.unlink(tmp)
        fsync_folder(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def merge_into(src: Path, dst: Path) -> None:
    """Move everything in ``src`` into ``dst``, replacing same-named files; other files in ``dst`` stay.

    Used to publish outputs assembled in a temporary folder: a folder of the same
    name is merged file by file, never removed as a whole.
    """
    for entry in sorted(Path(src).iterdir()):
        target = Path(dst) / entry.name
        if entry.is_dir() and not entry.is_symlink():
            if target.is_symlink() or (target.exists() and not target.is_dir()):
                target.unlink()
            target.mkdir(exist_ok=True)
            merge_into(entry, target)
            entry.rmdir()
        else:
            if target.is_dir() and not target.is_symlink():
                raise IsADirectoryError(errno.EISDIR, "a folder where caseload-sim writes a file; move it away", str(target))
            os.replace(entry, target)
