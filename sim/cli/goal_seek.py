"""``caseload-sim goal-seek SCENARIO --lever PATH --target METRIC=VALUE``: the lever value reaching a target."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from sim.cli.options import add_kernel_option, positive_int


def register(sub) -> None:
    p = sub.add_parser(
        "goal-seek",
        help="find the lever value at which a metric reaches a target (root-finder on CRN runs)",
        description="Example: caseload-sim goal-seek SCENARIO --lever levers.<lever>.add "
        "--target movements=2000 --year 2020",
    )
    p.add_argument("scenario", help="scenario file or bundled name")
    p.add_argument("--lever", required=True, help="dotted path of a number, e.g. werkmatchers.opstap.fte")
    p.add_argument("--target", required=True, type=_target, help="METRIC=VALUE, METRIC a column of annual.csv")
    p.add_argument("--year", type=int, help="calendar year of the metric (default: summed over all years)")
    p.add_argument("--range", nargs=2, type=float, metavar=("LOW", "HIGH"), help="lever range (default x0.5 to x2)")
    p.add_argument("--replications", "-r", type=positive_int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--years", type=positive_int, help="horizon in years (overrides the scenario)")
    p.add_argument("--workers", "-w", type=positive_int, default=1)
    p.add_argument("--check", action="store_true", help="re-run at the value found with a fresh seed")
    p.add_argument("--out", type=Path, help="also write the result as JSON to this file")
    add_kernel_option(p)
    p.set_defaults(handler=handle)


def _target(text: str) -> tuple[str, float]:
    metric, sep, value = text.partition("=")
    if not sep or not metric:
        raise argparse.ArgumentTypeError("use METRIC=VALUE, e.g. exits_work=1200")
    return metric.strip(), float(value)


def handle(args: argparse.Namespace) -> int:
    from sim.analysis.goalseek import check_at, goal_seek

    metric, target = args.target
    result = goal_seek(
        args.scenario, args.lever, metric, target, year=args.year, bounds=tuple(args.range) if args.range else None,
        replications=args.replications, seed=args.seed, workers=args.workers, years=args.years, kernel=args.kernel,
    )  # fmt: skip
    print(result.summary())
    data = asdict(result)
    if args.check:
        mean, half = check_at(result, args.scenario, seed=args.seed + 1, workers=args.workers, years=args.years,
                              kernel=args.kernel)  # fmt: skip
        print(f"check with seed {args.seed + 1}: {metric} = {mean:,.1f} +/- {half:,.1f}")
        data["check"] = {"seed": args.seed + 1, "mean": mean, "half_width": half}
    if args.out:
        args.out.write_text(json.dumps(data, indent=2) + "\n")
    return 0
