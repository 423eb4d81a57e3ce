"""``caseload-sim scenarios``: the bundled scenarios with a one-line description."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("scenarios", help="list the bundled scenarios")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.model import ScenarioError, bundled_names, load_scenario

    for name in bundled_names():
        try:
            description = load_scenario(name).description
        except ScenarioError:
            description = "(invalid: run 'caseload-sim validate' on it)"
        print(f"{name:28} {description}")
    return 0
