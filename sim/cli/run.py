"""``caseload-sim run [SCENARIO]``: replications of one scenario into a resumable run folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.options import add_kernel_option, positive_int


def add_backend_options(p: argparse.ArgumentParser) -> None:
    """``--engine``, ``--workers``, ``--scheduler`` and ``--kernel``, shared by ``run`` and ``sweep``."""
    from sim.engines.backends import ENGINES

    p.add_argument("--engine", choices=ENGINES, default="local", help="where replications run (default: local)")
    p.add_argument("--workers", "-w", type=positive_int, default=1, help="local processes or LocalCluster workers")
    p.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://host:8786 (with --engine dask)")
    add_kernel_option(p)


def register(sub) -> None:
    p = sub.add_parser("run", help="simulate a scenario (default: the bundled default scenario)")
    p.add_argument("scenario", nargs="?", help="scenario file or bundled name")
    p.add_argument("--years", type=positive_int, help="horizon in years (overrides the scenario)")
    p.add_argument("--replications", "-r", type=positive_int, default=20)
    p.add_argument("--seed", type=int, default=1)
    add_backend_options(p)
    p.add_argument("--out", type=Path, help="output folder (default: a new folder under runs/)")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument(
        "--resume", action="store_true", help="continue an interrupted run in --out, skipping saved replications"
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.io.runfolder import RunSettings, default_out, replication_folder, run_to_folder
    from sim.model import load_scenario

    overrides = {"years": args.years} if args.years else None
    scenario = load_scenario(args.scenario, overrides=overrides)
    if args.scheduler and args.engine != "dask":
        raise ValueError("--scheduler needs --engine dask")
    if args.resume and args.force:
        raise ValueError("--resume and --force contradict each other")
    if args.resume and args.out is None:
        raise ValueError("--resume needs --out (the folder of the run to continue)")
    settings = RunSettings(
        replications=args.replications,
        seed=args.seed,
        workers=args.workers,
        progress=False if args.quiet else None,
        engine=args.engine,
        scheduler=args.scheduler,
        resume=args.resume,
        kernel=args.kernel,
    )
    out = args.out or default_out(scenario)
    try:
        run_to_folder(scenario, settings, out, force=args.force)
    except KeyboardInterrupt:
        saved = len(replication_folder(scenario, args.seed, out).done()) if out.exists() else 0
        print(f"interrupted: {saved} replications saved in {out}; continue with --resume --out {out}", file=sys.stderr)
        return 130
    if not args.quiet:
        import json

        manifest = json.loads((out / "manifest.json").read_text())
        print(f"engine: {manifest['kernel']} ({manifest['kernel_reason']})", file=sys.stderr)
    print(out)
    return 0
