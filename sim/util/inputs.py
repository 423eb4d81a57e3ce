"""Reading input files safely: regular files only, with a size cap checked before reading.

``/dev/zero`` would exhaust memory and a FIFO would block forever, so every
input (scenario, sweep parameters, targets, experiment design, saved work) is
``stat``-ed first and refused unless it is a regular file of at most
``max_bytes``; it is then opened without blocking and checked again on the open
descriptor, so a file swapped for a FIFO in between cannot hang the read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_INPUT_BYTES = 1_000_000  # scenario, parameter, targets and design files are a few kB


class InputError(ValueError):
    """An input file that cannot be read; the message names it."""


def read_input(path: str | Path, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of the regular file ``path``.

    Raises:
        InputError: ``path`` is missing, not a regular file (a folder, FIFO or
            device), larger than ``max_bytes``, or unreadable.
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InputError(f"{path}: {_reason(exc)}") from None
    _check(path, info, max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise InputError(f"{path}: {_reason(exc)}") from None
    with os.fdopen(fd, "rb") as fh:
        _check(path, os.fstat(fh.fileno()), max_bytes)
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputError(f"{path}: larger than {max_bytes} bytes")
    return data


def read_input_text(path: str | Path, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """The UTF-8 text of ``path`` (a leading byte-order mark is dropped), via :func:`read_input`."""
    return decode_text(read_input(path, max_bytes), path)


def decode_text(data: bytes, path: str | Path) -> str:
    """``data`` read from ``path`` as UTF-8 text, a leading byte-order mark dropped (as Excel and Notepad save)."""
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputError(f"{Path(path).name}: not UTF-8 (byte {exc.start})") from None


def _check(path: Path, info: os.stat_result, max_bytes: int) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path}: not a regular file (a device, FIFO or socket); refusing to read it")
    if info.st_size > max_bytes:
        raise InputError(f"{path}: file is {info.st_size} bytes, more than {max_bytes}")


def _reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    return (exc.strerror or str(exc)).lower()
