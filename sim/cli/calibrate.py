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
    p.add_argument("--draws", type=options.bounded_int(0, 10_000), default=200,
                   help="parameter sets drawn from the fit's posterior (Laplace approximation) into <out stem>.draws.csv; "
                        "the calibrated scenario's [uncertainty] names them, so its bands cover parameter uncertainty (0: none)")
    p.add_argument("--keep-attributes", nargs="*", default=None, metavar="NAME",
                   help="fit the analytic model on a surrogate with only these attributes (the others become mean "
                        "multipliers); the DES rounds run the full scenario")
    p.add_argument("--fit-until", default=None, metavar="YYYY-MM",
                   help="fit only targets that end by this month; later ones are reported as validation (pseudo out of sample)")
    p.add_argument("--start-scale", type=float, default=1.0,
                   help="multiply every free parameter's start value (on the log scale: positive ones only) by this, to "
                        "check that fits from different starting points agree")
    p.set_defaults(handler=handle)  # fmt: skip


def handle(args: argparse.Namespace) -> int:
    from sim.analysis.calibration import FitSettings, fit, load_targets
    from sim.analysis.calibration.fit import check_request, draw_parameters, progress_total
    from sim.analysis.calibration.fit_report import draws_file, report_folder, write_report
    from sim.analysis.calibration.targets import until
    from sim.model.loader import MAX_BYTES, load_raw, resolve_path, scenario_files, validate

    if args.out.suffix != ".toml":
        raise ValueError(f"--out {args.out}: must name a .toml file (the calibrated scenario)")
    targets = load_targets(args.targets)
    if args.fit_until:
        targets = until(targets, args.fit_until)
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
    start = check_request(raw, targets, free, ties)
    if args.start_scale != 1.0:
        if not 0.05 <= args.start_scale <= 20:
            raise ValueError("--start-scale must lie between 0.05 and 20")
        raw = paths.set_many(raw, {p: v * args.start_scale for p, v in start.items() if v > 0})
    years = validate(raw, origin=str(base_path)).years
    options.check_workload(args.replications * args.rounds, years, option="--replications x --rounds")
    protected = (*scenario_files(base_path), args.targets)  # the inputs can never be the output
    check_new_file(args.out, args.force, protected)
    if args.draws:
        check_new_file(draws_file(args.out), args.force, protected)
    settings = FitSettings(
        replications=args.replications, rounds=args.rounds, stages=args.stages, seed=args.seed,
        workers=args.workers, max_nfev=args.max_evaluations,
        keep_attributes=tuple(args.keep_attributes) if args.keep_attributes is not None else None,
    )  # fmt: skip
    with claim_folder(report_folder(args.out), "calibration", force=args.force):  # locked for the whole fit
        with Progress(progress_total(settings, len(free)), "calibrate", unit="evaluations", quiet=args.quiet) as bar:
            result = fit(raw, targets, free, settings, ties=ties, log=lambda m: print(m, file=sys.stderr), progress=bar)
            bar.finish()
        draws = draw_parameters(result, args.draws, args.seed, ties) if args.draws else None
        folder = write_report(
            result, base_text, args.out, _display(args.targets), ties,
            vars(settings) | {"fit_until": args.fit_until, "start_scale": args.start_scale, "draws": args.draws},
            force=args.force, protected=protected, draws=draws,
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
