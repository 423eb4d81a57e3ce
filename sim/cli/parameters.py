"""``caseload-sim parameters [SCENARIO]``: every sourced number as a Markdown table."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("parameters", help="print a scenario's parameters with their sources (Markdown)")
    p.add_argument("scenario", nargs="?", help="scenario file or bundled name")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.model import load_scenario
    from sim.model.loader import default_name
    from sim.model.parameters import markdown

    name = args.scenario or default_name()
    print(markdown(load_scenario(name), name), end="")
    return 0
