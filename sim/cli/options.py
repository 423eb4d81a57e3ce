"""Argument types and checks shared by several subcommands.

Every type refuses what it cannot use with a message argparse prefixes with the
option's name (``error: argument --seed: must be >= 0``), and every bound is in
its message, so a typo never reaches the simulation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import re
from collections.abc import Callable

from sim.model.limits import MAX_REPLICATION_MONTHS, MAX_REPLICATIONS, MAX_SEED, MAX_WORKERS

SCHEDULER = re.compile(r"^(tcp|tls|ucx|ws|wss|inproc)://[A-Za-z0-9_.\-\[\]:]+$")


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip(), 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:40]!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        if value > high:
            raise argparse.ArgumentTypeError(f"must be <= {high}, got {value}")
        return value

    parse.__name__ = "whole number"
    return parse


positive_int = bounded_int(1, 1_000_000)
replications = bounded_int(1, MAX_REPLICATIONS)
workers = bounded_int(1, MAX_WORKERS)
seed = bounded_int(0, MAX_SEED)
year = bounded_int(1900, 2300)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text[:40]!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text[:40]!r}")
    return value


def default_workers() -> int:
    """The machine's cores: replications are independent, so every core can run one."""
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


def add_workers(p: argparse.ArgumentParser, help: str = "local worker processes") -> None:
    """``--workers/-w``, defaulting to the machine's cores (results do not depend on it)."""
    p.add_argument("--workers", "-w", type=workers, default=default_workers(),
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


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text[:40]!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text[:40]!r}")
    return value


def date(text: str) -> dt.date:
    """An ISO date, YYYY-MM-DD."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text[:40]!r}") from None


def quarter_start(text: str) -> dt.date:
    """The first day of a quarter (monitor start)."""
    value = date(text)
    if value.day != 1 or (value.month - 1) % 3:
        raise argparse.ArgumentTypeError(f"must be the first day of a quarter (e.g. 2019-07-01), got {text}")
    return value


def scheduler_address(text: str) -> str:
    """A Dask scheduler address such as ``tcp://host:8786``."""
    if not SCHEDULER.match(text):
        raise argparse.ArgumentTypeError(f"expected an address like tcp://host:8786, got {text[:60]!r}")
    return text


def check_workload(count: int, years: int, option: str = "--replications") -> None:
    """Refuse more replication-months than :data:`MAX_REPLICATION_MONTHS` (memory and time grow with them).

    Raises:
        ValueError: Naming the option and the limit.
    """
    months = 12 * years
    if count * months > MAX_REPLICATION_MONTHS:
        raise ValueError(
            f"{option} {count} x {months} months = {count * months:,} replication-months, more than the limit "
            f"of {MAX_REPLICATION_MONTHS:,}; use fewer replications or years"
        )


def add_uncertainty(p: argparse.ArgumentParser) -> None:
    """``--no-parameter-uncertainty``: fixed parameters even where the scenario names an ensemble of draws."""
    p.add_argument("--no-parameter-uncertainty", action="store_true",
                   help="run every replication with the scenario's own parameter values, ignoring its [uncertainty] "
                        "draws (bands then cover simulation noise only; for debugging)")  # fmt: skip


def without_uncertainty(scenario, args: argparse.Namespace):
    """The scenario without its parameter draws when ``--no-parameter-uncertainty`` was given."""
    if getattr(args, "no_parameter_uncertainty", False) and scenario.uncertainty is not None:
        return scenario.model_copy(update={"uncertainty": None})
    return scenario


def add_kernel_option(p: argparse.ArgumentParser) -> None:
    """``--kernel``: which engine runs the replications (docs/architecture.md, the engines layer)."""
    from sim.engines.select import KERNELS

    p.add_argument(
        "--kernel", choices=KERNELS, default="auto",
        help="engine: the compiled one where it runs every mechanism the scenario uses, else SimPy (auto, default), "
        "or the one named (compiled fails for a scenario it cannot run)",
    )  # fmt: skip
