"""``caseload-sim compare BASE ALT [ALT...]``: paired scenario comparison with common random numbers."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from sim.cli.options import add_kernel_option, positive_int


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
    p.add_argument("--workers", "-w", type=positive_int, default=1, help="local worker processes")
    p.add_argument("--out", type=Path, help="output folder (default: a new folder under runs/)")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument(
        "--monitor-from", type=dt.date.fromisoformat, help="first quarter of the programme monitor (default: the programme's start)"
    )
    p.add_argument("--independent", action="store_true", help="give each scenario its own seed (no CRN; for checking)")
    add_kernel_option(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.analysis.compare import load_arms, run_arms
    from sim.report.comparison import write_comparison

    scenarios = load_arms([args.base, *args.alternatives], years=args.years)
    out = args.out or Path("runs") / f"{dt.datetime.now():%Y%m%d-%H%M%S}-compare-{scenarios[0][0]}"
    if out.exists() and any(out.iterdir()) and not args.force:
        raise FileExistsError(f"{out} exists and is not empty (use --force to replace it)")
    arms = run_arms(scenarios, args.seed, args.replications, args.workers, independent=args.independent,
                    kernel=args.kernel)  # fmt: skip
    write_comparison(arms, out, force=args.force, monitor_from=args.monitor_from)
    print(out)
    return 0
