"""``caseload-sim parameters [SCENARIO]``: every sourced number as a Markdown table."""

from __future__ import annotations

import argparse

from ..parameters import markdown
from ..scenario import load_scenario


def register(sub) -> None:
    p = sub.add_parser("parameters", help="print a scenario's parameters with their sources (Markdown)")
    p.add_argument("scenario", nargs="?", help="scenario file or bundled name")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    name = args.scenario or "utrecht_baseline"
    print(markdown(load_scenario(name), name), end="")
    return 0
