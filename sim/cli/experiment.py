"""``caseload-sim experiment weten-wat-werkt``: the Utrecht randomised trial inside a simulated caseload."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.options import positive_int


def register(sub) -> None:
    p = sub.add_parser(
        "experiment",
        help="simulate a randomised experiment (weten-wat-werkt) and estimate its arm effects",
        description="Randomise volunteers over the arms of a design file (scenarios/experiments/) inside "
        "a simulated caseload; write effects.csv, power.csv, trials.csv, checks.csv and charts.",
    )
    p.add_argument("design", help="design name (weten-wat-werkt) or TOML file")
    p.add_argument("--scenario", help="caseload scenario (default: the design's)")
    p.add_argument("--replications", "-r", type=positive_int, default=100, help="independent simulated trials")
    p.add_argument("--seed", type=int, default=2018)
    p.add_argument("--workers", "-w", type=positive_int, default=1)
    p.add_argument("--out", type=Path, default=Path("runs/weten_wat_werkt"), help="output folder")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.analysis.experiment import checks, load_design, run_trials
    from sim.analysis.experiment.trial_outputs import write_outputs
    from sim.model import load_scenario

    design = load_design(args.design)
    scenario = load_scenario(args.scenario or design.scenario)
    res = run_trials(scenario, design, args.replications, seed=args.seed, workers=args.workers)
    settings = {"scenario": scenario.name, "replications": args.replications, "seed": args.seed}
    write_outputs(res, args.out, settings)
    for row in checks(res).itertuples():
        print(f"[{'holds' if row.holds else 'FAILS'}] {row.claim}: {row.evidence}", file=sys.stderr)
    print(args.out)
    return 0
