"""The ``caseload-sim`` command line: each subcommand lives in ``sim/commands/<name>.py``."""

from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .scenario import ScenarioError

EXIT_INVALID = 2
COMMANDS = ("run", "validate", "scenarios", "parameters", "calibrate", "experiment", "sweep", "compare", "goal_seek", "monitor")  # modules under sim.commands, in help order


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_INVALID
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted: no output was written", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="caseload-sim",
        description="Discrete-event simulation of a municipality's bijstand caseload and its budgets.",
    )
    parser.add_argument("--version", action="version", version=f"caseload-sim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"sim.commands.{name}").register(sub)
    return parser


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value
