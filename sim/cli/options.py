"""Argument types and option groups shared by several subcommands."""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def add_kernel_option(p: argparse.ArgumentParser) -> None:
    """``--kernel``: which engine runs the replications (docs/architecture.md, the engines layer)."""
    from sim.engines.select import KERNELS

    p.add_argument(
        "--kernel", choices=KERNELS, default="auto",
        help="engine: the compiled one where it runs every mechanism the scenario uses, else SimPy (auto, default), "
        "or the one named (compiled fails for a scenario it cannot run)",
    )  # fmt: skip
