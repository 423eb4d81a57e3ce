"""``caseload-sim sweep SCENARIO --params params.toml --method morris|sobol|lhs --n N``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli import options
from sim.cli.options import add_quiet
from sim.cli.run import add_backend_options, check_backend_options

METHODS = ("morris", "sobol", "lhs")  # sim.analysis.sweep.METHODS (tests/test_cli_imports.py holds them equal)


def register(sub) -> None:
    p = sub.add_parser("sweep", help="parameter sweep with sensitivity analysis (SALib)")
    p.add_argument("scenario", help="scenario file, or the name of a bundled scenario")
    p.add_argument("--params", type=Path, required=True,
                   help="TOML file: parameter paths with low/high bounds (an example is in scenarios/sweeps/)")
    p.add_argument("--method", choices=METHODS, default="morris")
    p.add_argument("--n", type=options.positive_int, default=4,
                   help="morris: trajectories; sobol: base sample (power of 2); lhs: points")  # fmt: skip
    p.add_argument("--replications", "-r", type=options.replications, default=5, help="replications per point (per batch)")
    p.add_argument("--target-halfwidth", type=options.positive_float,
                   help="add batches of replications until the metric's 95%% CI half-width is below this")  # fmt: skip
    p.add_argument("--max-replications", type=options.replications, default=200)
    p.add_argument("--years", type=options.positive_int, help="horizon in years (overrides the scenario)")
    p.add_argument("--seed", type=options.seed, default=1)
    add_backend_options(p)
    p.add_argument("--out", type=Path, help="output folder (default: a new folder under runs/)")
    p.add_argument("--force", action="store_true", help="replace an existing sweep folder this program made")
    p.add_argument("--resume", action="store_true", help="continue an interrupted sweep in --out")
    add_quiet(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.analysis.sweep import SweepSettings, load_parameters, run_sweep
    from sim.engines.backends import make_backend
    from sim.model import load_scenario

    check_backend_options(args)
    if args.resume and (args.force or args.out is None):
        raise ValueError("--resume needs --out and excludes --force")
    params = load_parameters(args.params)
    load_scenario(args.scenario)  # refuse a broken scenario before starting any workers
    settings = SweepSettings(
        method=args.method, n=args.n, seed=args.seed, replications=args.replications, years=args.years,
        target_halfwidth=args.target_halfwidth, max_replications=args.max_replications, resume=args.resume,
        kernel=args.kernel,
    )  # fmt: skip
    try:
        with make_backend(args.engine, args.workers, args.scheduler) as backend:
            out = run_sweep(args.scenario, params, settings, args.out, backend, force=args.force, quiet=args.quiet)
    except KeyboardInterrupt:
        if args.out is None:
            raise
        saved = len(list((args.out / "points").glob("point-*.json")))
        print(f"error: interrupted: {saved} points saved in {args.out}; continue with --resume --out {args.out}",
              file=sys.stderr)  # fmt: skip
        return 130
    print(out)
    return 0
