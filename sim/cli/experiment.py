"""``caseload-sim experiment weten-wat-werkt``: the Utrecht randomised trial inside a simulated caseload."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli import options
from sim.cli.options import add_quiet, add_workers
from sim.io.safety import claim_folder, new_folder
from sim.util.progress import Progress


def register(sub) -> None:
    p = sub.add_parser(
        "experiment",
        help="simulate a randomised experiment (weten-wat-werkt) and estimate its arm effects",
        description="Randomise volunteers over the arms of a design file (scenarios/experiments/) inside "
        "a simulated caseload; write effects.csv, power.csv, trials.csv, checks.csv and charts.",
    )
    p.add_argument("design", help="design name (weten-wat-werkt) or TOML file")
    p.add_argument("--scenario", help="caseload scenario (default: the design's)")
    p.add_argument("--replications", "-r", type=options.replications, default=100, help="independent simulated trials")
    p.add_argument("--seed", type=options.seed, default=2018)
    add_workers(p)
    add_quiet(p)
    p.add_argument("--out", type=Path, help="output folder (default: a new folder under runs/)")
    p.add_argument("--force", action="store_true", help="replace an existing experiment folder this program made")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.analysis.experiment import checks, load_design, run_trials
    from sim.analysis.experiment.trial_outputs import write_outputs
    from sim.model import load_scenario

    design = load_design(args.design)
    scenario = load_scenario(args.scenario or design.scenario)
    options.check_workload(args.replications, scenario.years)
    claim = new_folder("experiment", f"experiment-{design.name}") if args.out is None else claim_folder(
        args.out, "experiment", force=args.force
    )  # fmt: skip
    with claim:
        with Progress(args.replications, f"experiment {args.design}", unit="trials", quiet=args.quiet) as progress:
            res = run_trials(scenario, design, args.replications, seed=args.seed, workers=args.workers,
                             progress=progress)  # fmt: skip
        settings = {"scenario": scenario.name, "replications": args.replications, "seed": args.seed}
        write_outputs(res, claim.path, settings)
    for row in checks(res).itertuples():
        print(f"[{'holds' if row.holds else 'FAILS'}] {row.claim}: {row.evidence}", file=sys.stderr)
    print(claim.path)
    return 0
