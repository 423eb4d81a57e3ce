"""``caseload-sim run [SCENARIO]``: replications of one scenario into a resumable run folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli import options
from sim.cli.options import add_kernel_option, add_lang, add_quiet, add_workers


def add_backend_options(p: argparse.ArgumentParser) -> None:
    """``--engine``, ``--workers``, ``--scheduler`` and ``--kernel``, shared by ``run`` and ``sweep``."""
    from sim.engines.backends import ENGINES

    p.add_argument("--engine", choices=ENGINES, default="local", help="where replications run (default: local)")
    add_workers(p, "local processes or LocalCluster workers")
    p.add_argument("--scheduler", type=options.scheduler_address,
                   help="address of a running Dask scheduler, e.g. tcp://host:8786 (with --engine dask)")  # fmt: skip
    add_kernel_option(p)


def check_backend_options(args: argparse.Namespace) -> None:
    if args.scheduler and args.engine != "dask":
        raise ValueError("--scheduler needs --engine dask")


def register(sub) -> None:
    p = sub.add_parser("run", help="simulate a scenario (default: the bundled default scenario)")
    p.add_argument("scenario", nargs="?", help="scenario file, or the name of a bundled scenario")
    p.add_argument("--years", type=options.positive_int, help="horizon in years (overrides the scenario)")
    p.add_argument("--caseload", type=Path, metavar="FILE.csv",
                   help="start from this caseload extract instead of the scenario's initial stocks (docs/scenarios.md)")
    p.add_argument("--replications", "-r", type=options.replications, default=20)
    p.add_argument("--seed", type=options.seed, default=1)
    add_backend_options(p)
    p.add_argument("--out", type=Path, help="output folder (default: a new folder under runs/)")
    p.add_argument("--force", action="store_true", help="replace an existing run folder this program made")
    p.add_argument(
        "--resume", action="store_true", help="continue an interrupted run in --out, reusing checked replications"
    )
    add_quiet(p)
    options.add_uncertainty(p)
    add_lang(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.io.runfolder import RunInterrupted, RunSettings, run_to_folder
    from sim.model import load_scenario

    check_backend_options(args)
    if args.resume and args.force:
        raise ValueError("--resume and --force contradict each other")
    if args.resume and args.out is None:
        raise ValueError("--resume needs --out (the folder of the run to continue)")
    overrides = {"years": args.years} if args.years else None
    scenario = options.without_uncertainty(load_scenario(args.scenario, overrides=overrides, caseload=args.caseload), args)
    options.check_workload(args.replications, scenario.years)
    settings = RunSettings(
        replications=args.replications,
        seed=args.seed,
        workers=args.workers,
        progress=not args.quiet,
        engine=args.engine,
        scheduler=args.scheduler,
        resume=args.resume,
        lang=args.lang,
        kernel=args.kernel,
    )
    try:
        out = run_to_folder(scenario, settings, args.out, force=args.force)
    except RunInterrupted as exc:
        print(
            f"error: interrupted: {exc.saved} replications saved in {exc.folder}; "
            f"continue with --resume --out {exc.folder}",
            file=sys.stderr,
        )
        return 130
    if not args.quiet:
        import json

        manifest = json.loads((out / "manifest.json").read_text())
        print(f"engine: {manifest['kernel']} ({manifest['kernel_reason']})", file=sys.stderr)
    print(out)
    return 0
