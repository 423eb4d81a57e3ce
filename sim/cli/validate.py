"""``caseload-sim validate FILE``: exit 0 when valid, else exit 2 with one line per problem."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("validate", help="check a scenario file; exit 2 listing every problem")
    p.add_argument("file")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.model import load_scenario, resolve_path

    scenario = load_scenario(args.file)
    print(f"ok: {resolve_path(args.file)} ({scenario.name}: {len(scenario.states)} states)")
    return 0
