"""``caseload-sim calibrate TARGETS --scenario BASE --free PATH... --out FILE.toml``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.options import positive_int


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
                   help="dotted parameter paths, e.g. states.<state>.transitions.<transition>.rate inflow.rate.values.2017-01-01")
    p.add_argument("--tie", nargs="*", default=[], metavar="DEST=SRC",
                   help="set parameter DEST equal to the fitted free parameter SRC")
    p.add_argument("--out", type=Path, required=True, help="calibrated scenario TOML to write")
    p.add_argument("--replications", "-r", type=positive_int, default=10, help="DES replications per round")
    p.add_argument("--rounds", type=positive_int, default=3, help="analytic-fit + DES-confirmation rounds")
    p.add_argument("--stages", type=positive_int, default=3, help="Erlang stages per duration band")
    p.add_argument("--seed", type=int, default=20150101)
    p.add_argument("--workers", "-w", type=positive_int, default=1)
    p.add_argument("--max-evaluations", type=positive_int, default=200, help="analytic evaluations per round")
    p.set_defaults(handler=handle)  # fmt: skip


def handle(args: argparse.Namespace) -> int:
    from sim.analysis.calibration import FitSettings, fit, load_targets
    from sim.analysis.calibration.fit_report import write_report
    from sim.model.loader import load_raw, resolve_path

    targets = load_targets(args.targets)
    base_path = resolve_path(args.scenario)
    raw = load_raw(base_path)
    ties = {}
    for item in args.tie:
        dest, sep, src = item.partition("=")
        if not sep:
            raise ValueError(f"--tie {item!r}: expected DEST=SRC")
        ties[dest.strip()] = src.strip()
    settings = FitSettings(
        replications=args.replications, rounds=args.rounds, stages=args.stages, seed=args.seed,
        workers=args.workers, max_nfev=args.max_evaluations,
    )  # fmt: skip
    result = fit(raw, targets, args.free, settings, ties=ties, log=lambda m: print(m, file=sys.stderr))
    folder = write_report(
        result, base_path.read_text(), args.out, _display(args.targets), ties, vars(settings),
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
