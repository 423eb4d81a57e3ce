"""The ``caseload-sim`` entry point: the parser and the one place errors become exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys

from sim import __version__

EXIT_INVALID = 2
COMMANDS = ("run", "validate", "scenarios", "parameters", "calibrate", "experiment", "sweep", "compare", "goal_seek", "monitor")  # modules under sim.cli, in help order


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from sim.model import ScenarioError  # not at the top: --help must not load the schema (pydantic)

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
        importlib.import_module(f"sim.cli.{name}").register(sub)
    return parser

