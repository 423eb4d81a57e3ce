"""``caseload-sim compare BASE ALT [ALT...]``: paired scenario comparison with common random numbers."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.analysis.compare import load_arms, run_arms
from sim.cli import options
from sim.io.safety import claim_folder, new_folder
from sim.report.comparison import write_comparison


def register(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="compare scenarios with common random numbers (CSV, charts, HTML report, Excel)",
        description="Run BASE and every ALT with the same seed and replications (common random numbers) and "
        "write comparison.csv, charts/, report.html, comparison.xlsx and manifest.json.",
    )
    p.add_argument("base", help="base scenario file, or the name of a bundled scenario")
    p.add_argument("alternatives", nargs="+", metavar="ALT", help="alternative scenario(s)")
    p.add_argument("--replications", "-r", type=options.replications, default=20)
    p.add_argument("--seed", type=options.seed, default=1)
    p.add_argument("--years", type=options.positive_int, help="horizon in years for every scenario (overrides the files)")
    p.add_argument("--workers", "-w", type=options.workers, default=1, help="local worker processes")
    p.add_argument("--out", type=Path, help="output folder (default: a new folder under runs/)")
    p.add_argument("--force", action="store_true", help="replace an existing comparison folder this program made")
    p.add_argument("--monitor-from", type=options.quarter_start,
                   help="first quarter of the programme monitor (default: the programme's start)")  # fmt: skip
    p.add_argument("--independent", action="store_true", help="give each scenario its own seed (no CRN; for checking)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    scenarios = load_arms([args.base, *args.alternatives], years=args.years)
    for _, scenario in scenarios:
        options.check_workload(args.replications, scenario.years)
    claim = new_folder("compare", f"compare-{scenarios[0][0]}") if args.out is None else claim_folder(
        args.out, "compare", force=args.force
    )  # fmt: skip
    with claim:  # locked from before the first replication: a second writer fails at once
        arms = run_arms(scenarios, args.seed, args.replications, args.workers, independent=args.independent)
        write_comparison(arms, claim.path, force=args.force, monitor_from=args.monitor_from)
    print(claim.path)
    return 0
