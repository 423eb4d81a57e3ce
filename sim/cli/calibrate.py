"""``caseload-sim calibrate TARGETS --scenario BASE --free PATH... --out FILE.toml``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli import options
from sim.cli.options import add_quiet, add_workers
from sim.io.safety import check_new_file, claim_folder
from sim.model import paths
from sim.util.inputs import read_input_text
from sim.util.progress import Progress


def register(sub) -> None:
    p = sub.add_parser(
        "calibrate",
        help="fit free scenario parameters to observed targets (analytic fit, DES confirmation)",
        description="Fit free parameters with scipy least_squares on the analytic Markov model, "
        "confirm with DES replications (common random numbers), write the calibrated scenario "
        "and a <out stem>.fit/ report folder (fit.csv, fit.png, parameters.csv, manifest.json).",
    )
    p.add_argument("targets", type=Path, help="targets CSV (see calibration/targets/)")
    p.add_argument("--scenario", default=None, help="base scenario file or bundled name")
    p.add_argument("--free", nargs="+", required=True, metavar="PATH",
                   help="parameter paths (docs/scenarios.md, 'Parameter paths'), e.g. hazard.<state>.<transition> "
                        "or states.<state>.transitions.<transition>.rate, inflow.rate.values.2017-01-01")
    p.add_argument("--tie", nargs="*", default=[], metavar="DEST=SRC",
                   help="set parameter DEST equal to the fitted free parameter SRC")
    p.add_argument("--out", type=Path, required=True,
                   help="calibrated scenario TOML to write (a new file; never the base scenario)")
    p.add_argument("--force", action="store_true", help="replace an --out file and report folder this program wrote")
    p.add_argument("--replications", "-r", type=options.replications, default=10, help="DES replications per round")
    p.add_argument("--rounds", type=options.bounded_int(1, 20), default=3, help="analytic-fit + DES-confirmation rounds")
    p.add_argument("--stages", type=options.bounded_int(1, 20), default=3, help="Erlang stages per duration band")
    p.add_argument("--seed", type=options.seed, default=20150101)
    add_workers(p)
    add_quiet(p)
    p.add_argument("--max-evaluations", type=options.bounded_int(1, 100_000), default=200,
                   help="analytic evaluations per round")  # fmt: skip
    p.set_defaults(handler=handle)  # fmt: skip


def handle(args: argparse.Namespace) -> int:
    from sim.analysis.calibration import FitSettings, fit, load_targets
    from sim.analysis.calibration.fit import check_request, progress_total
    from sim.analysis.calibration.fit_report import report_folder, write_report
    from sim.model.loader import MAX_BYTES, load_raw, resolve_path, scenario_files, validate

    if args.out.suffix != ".toml":
        raise ValueError(f"--out {args.out}: must name a .toml file (the calibrated scenario)")
    targets = load_targets(args.targets)
    base_path = resolve_path(args.scenario)
    raw = load_raw(base_path)
    base_text = read_input_text(base_path, MAX_BYTES)
    ties = {}
    for item in args.tie:
        dest, sep, src = item.partition("=")
        if not sep:
            raise ValueError(f"--tie {item!r}: expected DEST=SRC")
        ties[paths.canonical(dest)] = paths.canonical(src)
    free = [paths.canonical(p) for p in args.free]  # one spelling per number, so ties and edits match
    check_request(raw, targets, free, ties)
    years = validate(raw, origin=str(base_path)).years
    options.check_workload(args.replications * args.rounds, years, option="--replications x --rounds")
    protected = (*scenario_files(base_path), args.targets)  # the inputs can never be the output
    check_new_file(args.out, args.force, protected)
    settings = FitSettings(
        replications=args.replications, rounds=args.rounds, stages=args.stages, seed=args.seed,
        workers=args.workers, max_nfev=args.max_evaluations,
    )  # fmt: skip
    with claim_folder(report_folder(args.out), "calibration", force=args.force):  # locked for the whole fit
        with Progress(progress_total(settings, len(free)), "calibrate", unit="evaluations", quiet=args.quiet) as bar:
            result = fit(raw, targets, free, settings, ties=ties, log=lambda m: print(m, file=sys.stderr), progress=bar)
            bar.finish()
        folder = write_report(
            result, base_text, args.out, _display(args.targets), ties, vars(settings),
            force=args.force, protected=protected,
        )  # fmt: skip
    ok = result.within()[result.fitting()]
    print(f"{args.out}\n{folder}")
    print(f"{ok.sum()}/{len(ok)} fitting targets within tolerance in {settings.replications} DES replications", file=sys.stderr)
    return 0 if ok.all() else 1


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
