"""``caseload-sim compare BASE ALT [ALT...]``: paired scenario comparison with common random numbers."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli import options
from sim.cli.options import add_kernel_option, add_lang, add_quiet, add_workers, years_list


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
    add_workers(p)
    p.add_argument("--out", type=Path, help="output folder (default: a new folder under runs/)")
    p.add_argument("--force", action="store_true", help="replace an existing comparison folder this program made")
    p.add_argument("--monitor-from", type=options.quarter_start,
                   help="first quarter of the programme monitor (default: the programme's start)")  # fmt: skip
    p.add_argument("--independent", action="store_true", help="give each scenario its own seed (no CRN; for checking)")
    p.add_argument("--years-shown", type=years_list, metavar="YEARS",
                   help="years of the report's key figures, e.g. 2019-2021 or 2020,2022 (default: the years in which "
                        "the alternatives' levers or dated values differ from the base, else the last 3)")  # fmt: skip
    add_lang(p)
    add_quiet(p)
    options.add_uncertainty(p)
    add_kernel_option(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.analysis.compare import load_arms, run_arms
    from sim.io.safety import claim_folder, new_folder
    from sim.report.comparison import write_comparison
    from sim.util.progress import Progress

    scenarios = [(k, options.without_uncertainty(s, args)) for k, s in load_arms([args.base, *args.alternatives], years=args.years)]
    for _, scenario in scenarios:
        options.check_workload(args.replications, scenario.years)
    claim = new_folder("compare", f"compare-{scenarios[0][0]}") if args.out is None else claim_folder(
        args.out, "compare", force=args.force
    )  # fmt: skip
    with claim:  # locked from before the first replication: a second writer fails at once
        total = len(scenarios) * args.replications  # one bar over every scenario's replications
        with Progress(total, "compare", quiet=args.quiet) as progress:
            arms = run_arms(scenarios, args.seed, args.replications, args.workers, independent=args.independent,
                            progress=progress)  # fmt: skip
        write_comparison(arms, claim.path, force=args.force, monitor_from=args.monitor_from, lang=args.lang,
                         years_shown=args.years_shown)  # fmt: skip
    print(claim.path)
    return 0
