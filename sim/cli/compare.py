"""``caseload-sim compare BASE ALT [ALT...]``: paired scenario comparison with common random numbers."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from sim.cli.options import add_lang, add_quiet, add_workers, positive_int, years_list


def register(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="compare scenarios with common random numbers (CSV, charts, HTML report, Excel)",
        description="Run BASE and every ALT with the same seed and replications (common random numbers) and "
        "write comparison.csv, charts/, report.html, comparison.xlsx and manifest.json.",
    )
    p.add_argument("base", help="base scenario file or bundled name")
    p.add_argument("alternatives", nargs="+", metavar="ALT", help="alternative scenario(s)")
    p.add_argument("--replications", "-r", type=positive_int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--years", type=positive_int, help="horizon in years for every scenario (overrides the files)")
    add_workers(p)
    p.add_argument("--out", type=Path, help="output folder (default: a new folder under runs/)")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument(
        "--monitor-from", type=dt.date.fromisoformat, help="first quarter of the programme monitor (default: the programme's start)"
    )
    p.add_argument("--independent", action="store_true", help="give each scenario its own seed (no CRN; for checking)")
    p.add_argument("--years-shown", type=years_list, metavar="YEARS",
                   help="years of the report's key figures, e.g. 2019-2021 or 2020,2022 (default: the years in which "
                        "the alternatives' levers or dated values differ from the base, else the last 3)")  # fmt: skip
    add_lang(p)
    add_quiet(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.analysis.compare import load_arms, run_arms
    from sim.report.comparison import write_comparison
    from sim.util.progress import Progress

    scenarios = load_arms([args.base, *args.alternatives], years=args.years)
    out = args.out or Path("runs") / f"{dt.datetime.now():%Y%m%d-%H%M%S}-compare-{scenarios[0][0]}"
    if out.exists() and any(out.iterdir()) and not args.force:
        raise FileExistsError(f"{out} exists and is not empty (use --force to replace it)")
    total = len(scenarios) * args.replications  # one bar over every scenario's replications
    with Progress(total, "compare", quiet=args.quiet) as progress:
        arms = run_arms(scenarios, args.seed, args.replications, args.workers, independent=args.independent,
                        progress=progress)  # fmt: skip
    write_comparison(arms, out, force=args.force, monitor_from=args.monitor_from, lang=args.lang,
                     years_shown=args.years_shown)  # fmt: skip
    print(out)
    return 0
