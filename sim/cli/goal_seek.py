"""``caseload-sim goal-seek SCENARIO --lever PATH --target METRIC=VALUE``: the lever value reaching a target."""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict
from pathlib import Path

from sim.cli import options
from sim.cli.options import add_kernel_option, add_quiet, add_workers
from sim.io.safety import FILE_MARKER_KEY, check_new_file, marker_data, write_new_file


def register(sub) -> None:
    p = sub.add_parser(
        "goal-seek",
        help="find the lever value at which a metric reaches a target (root-finder on CRN runs)",
        description="Example: caseload-sim goal-seek SCENARIO --lever levers.<lever>.add "
        "--target movements=2000 --year 2020",
    )
    p.add_argument("scenario", help="scenario file, or the name of a bundled scenario")
    p.add_argument("--lever", required=True,
                   help="parameter path of a number, e.g. werkmatchers.opstap.fte (docs/scenarios.md)")  # fmt: skip
    p.add_argument("--target", required=True, type=_target, help="METRIC=VALUE, METRIC a column of annual.csv")
    p.add_argument("--year", type=options.year, help="calendar year of the metric (default: summed over all years)")
    p.add_argument("--range", nargs=2, type=options.finite_float, metavar=("LOW", "HIGH"),
                   help="lever range (default x0.5 to x2)")  # fmt: skip
    p.add_argument("--replications", "-r", type=options.replications, default=10)
    p.add_argument("--seed", type=options.seed, default=1)
    p.add_argument("--years", type=options.positive_int, help="horizon in years (overrides the scenario)")
    add_workers(p)
    add_quiet(p)
    p.add_argument("--check", action="store_true", help="re-run at the value found with a fresh seed")
    p.add_argument("--out", type=Path, help="also write the result as JSON to this new file")
    p.add_argument("--force", action="store_true", help="replace an existing --out file this program wrote")
    add_kernel_option(p)
    p.set_defaults(handler=handle)


def _target(text: str) -> tuple[str, float]:
    metric, sep, value = text.partition("=")
    if not sep or not metric.strip():
        raise argparse.ArgumentTypeError("use METRIC=VALUE, e.g. exits_work=1200")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"VALUE must be a number, got {value[:40]!r}") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"VALUE must be finite, got {value[:40]!r}")
    return metric.strip(), number


def handle(args: argparse.Namespace) -> int:
    from sim.analysis.goalseek import ESTIMATED_EVALUATIONS, check_at, goal_seek
    from sim.model import load_scenario
    from sim.util.progress import Progress

    metric, target = args.target
    scenario = load_scenario(args.scenario, overrides={"years": args.years} if args.years else None)
    # every evaluation runs --replications; brentq needs at most ~45 of them
    options.check_workload(args.replications * 45, scenario.years, option="--replications (x ~45 evaluations)")
    if args.out is not None:
        check_new_file(args.out, args.force, protected=_inputs(args.scenario))  # before hours of work, not after
    # the number of evaluations is not known in advance: start from an estimate, grow when needed
    total = args.replications * (ESTIMATED_EVALUATIONS + bool(args.check))
    with Progress(total, f"goal-seek {args.lever}", quiet=args.quiet) as progress:
        result = goal_seek(
            args.scenario, args.lever, metric, target, year=args.year, bounds=tuple(args.range) if args.range else None,
            replications=args.replications, seed=args.seed, workers=args.workers, years=args.years, progress=progress,
        )  # fmt: skip
        data = asdict(result)
        if args.check:
            mean, half = check_at(result, args.scenario, seed=args.seed + 1, workers=args.workers, years=args.years,
                                  progress=progress)  # fmt: skip
            data["check"] = {"seed": args.seed + 1, "mean": mean, "half_width": half}
        progress.finish()
    print(result.summary())
    if args.check:
        print(f"check with seed {args.seed + 1}: {metric} = {mean:,.1f} +/- {half:,.1f}")
    if args.out:
        data[FILE_MARKER_KEY] = marker_data("goal-seek")
        text = json.dumps(data, indent=2, default=_plain) + "\n"
        write_new_file(args.out, text.encode(), args.force, protected=_inputs(args.scenario))
    return 0


def _inputs(name: str) -> tuple[Path, ...]:
    """The scenario file and every file it extends: an output must never replace one of them."""
    from sim.model.loader import scenario_files

    return tuple(scenario_files(name))


def _plain(value):
    return float(value) if hasattr(value, "__float__") else str(value)
