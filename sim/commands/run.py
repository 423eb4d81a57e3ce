"""``caseload-sim run [SCENARIO]``: replications of one scenario into a run folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..cli import positive_int
from ..run import RunSettings, default_out, run_to_folder
from ..scenario import load_scenario


def register(sub) -> None:
    p = sub.add_parser("run", help="simulate a scenario (default: the bundled Utrecht baseline)")
    p.add_argument("scenario", nargs="?", help="scenario file or bundled name")
    p.add_argument("--years", type=positive_int, help="horizon in years (overrides the scenario)")
    p.add_argument("--replications", "-r", type=positive_int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", "-w", type=positive_int, default=1, help="local worker processes")
    p.add_argument("--out", type=Path, help="output folder (default: a new folder under runs/)")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    overrides = {"years": args.years} if args.years else None
    scenario = load_scenario(args.scenario, overrides=overrides)
    settings = RunSettings(
        replications=args.replications,
        seed=args.seed,
        workers=args.workers,
        progress=False if args.quiet else None,
    )
    out = args.out or default_out(scenario)
    run_to_folder(scenario, settings, out, force=args.force)
    print(out)
    return 0
