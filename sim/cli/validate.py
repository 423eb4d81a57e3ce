"""``caseload-sim validate FILE``: exit 0 when valid, else exit 2 with one line per problem.

``validate`` runs every check ``run`` runs before simulating (the schema, the
cross-references, the size limits and the compiled model's effective rates),
so a file it accepts is not refused later.
"""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("validate", help="check a scenario file; exit 2 listing every problem")
    p.add_argument("file", help="scenario file, or the name of a bundled scenario")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.model import load_scenario, resolve_path
    from sim.model.compiled import compile_scenario

    scenario = load_scenario(args.file)
    compile_scenario(scenario)  # what run does next: its checks must not surprise a validated file
    print(f"ok: {resolve_path(args.file)} ({scenario.name}: {len(scenario.states)} states)")
    return 0
