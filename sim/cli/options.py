"""Argument types and option groups shared by several subcommands."""

from __future__ import annotations

import argparse
import os


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def default_workers() -> int:
    """The machine's cores: replications are independent, so every core can run one."""
    return os.cpu_count() or 1


def add_workers(p: argparse.ArgumentParser, help: str = "local worker processes") -> None:
    """``--workers/-w``, defaulting to the machine's cores (results do not depend on it)."""
    p.add_argument("--workers", "-w", type=positive_int, default=default_workers(),
                   help=f"{help} (default: the machine's cores, {default_workers()})")  # fmt: skip


def add_quiet(p: argparse.ArgumentParser) -> None:
    """``--quiet/-q``: no progress on stderr (a bar on a terminal, a line per 10% otherwise)."""
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress on stderr (a bar on a terminal, else a line per 10%%)")  # fmt: skip


def years_list(text: str) -> list[int]:
    """``2019,2020`` or ``2019-2021`` (or a mix) -> sorted calendar years."""
    years: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        first, sep, last = part.partition("-")
        try:
            lo, hi = int(first), int(last) if sep else int(first)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r}: use years like 2019,2020 or 2019-2021") from None
        if hi < lo:
            raise argparse.ArgumentTypeError(f"{part!r}: the last year is before the first")
        years.update(range(lo, hi + 1))
    if not years:
        raise argparse.ArgumentTypeError("give at least one year")
    return sorted(years)


def add_lang(p: argparse.ArgumentParser) -> None:
    """``--lang nl|en`` for report, workbook and chart labels."""
    p.add_argument("--lang", choices=("nl", "en"),
                   help="language of report, workbook and charts (default: the scenario's language, else nl)")
