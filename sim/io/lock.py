"""The lock file of an output folder: one writer at a time, a dead writer's lock taken over.

The lock is created with ``O_CREAT | O_EXCL`` (atomic on every local file system)
and holds ``<pid> <host> <nanoseconds>``. A second writer finds it and fails at
once, naming it. A lock whose process no longer runs on this machine (a run
killed with SIGKILL cannot remove it) is taken over; so is an empty lock older
than a few seconds (its writer died between creating and filling it). Two
processes taking over the same stale lock are serialised with ``flock`` on the
folder, so only one of them wins.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path

STALE_EMPTY_LOCK_SECONDS = 10.0  # a lock file still without a pid after this long was left by a crash


class LockError(ValueError):
    """Another process is writing to the same folder; the message names the lock."""


class FolderLock:
    """``O_CREAT | O_EXCL`` lock file holding ``pid host``; a dead writer's lock is taken over."""

    def __init__(self, path: Path):
        self.path = path
        self.held = False
        self._token = f"{os.getpid()} {socket.gethostname()} {time.time_ns()}"

    def acquire(self) -> None:
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._take_over_stale():
                    continue
                raise LockError(self._held_message()) from None
            with os.fdopen(fd, "w") as fh:
                fh.write(self._token + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            self.held = True
            return
        raise LockError(self._held_message())

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        try:
            if self.path.read_text().strip() == self._token:  # never remove a lock another writer took
                self.path.unlink()
        except OSError:
            pass

    def _holder(self) -> tuple[int | None, str | None, float]:
        try:
            text = self.path.read_text()
            age = time.time() - self.path.stat().st_mtime
        except OSError:
            return None, None, 0.0
        parts = text.split()
        pid = int(parts[0]) if parts and parts[0].isdigit() else None
        return pid, parts[1] if len(parts) > 1 else None, age

    def _stale(self) -> bool:
        pid, host, age = self._holder()
        if pid is None:
            return age > STALE_EMPTY_LOCK_SECONDS  # created, never filled: its writer died at once
        if host != socket.gethostname():
            return False  # another machine's process: we cannot tell, so it holds
        return not _alive(pid)

    def _take_over_stale(self) -> bool:
        """Remove a stale lock under a folder-wide flock, so two takers cannot both win."""
        try:
            dfd = os.open(self.path.parent, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(dfd, fcntl.LOCK_EX)
            if not self.path.exists():
                return True
            if not self._stale():
                return False
            self.path.unlink(missing_ok=True)
            return True
        finally:
            os.close(dfd)  # closing releases the flock

    def _held_message(self) -> str:
        pid, host, _ = self._holder()
        who = f"process {pid}" + (f" on {host}" if host and host != socket.gethostname() else "") if pid else "another process"
        return (
            f"{self.path}: locked by {who}, which is writing to {self.path.parent}; wait for it to finish or "
            f"choose another --out (delete the lock file only if no caseload-sim is running)"
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
