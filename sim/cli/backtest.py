"""``caseload-sim backtest``: predict the observed figures after the fitting period and compare (forecast accuracy)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli import options


def register(sub) -> None:
    p = sub.add_parser(
        "backtest",
        help="predict observed figures after the fitting period (e.g. 2020) and report the forecast error",
        description="Simulate a calibrated scenario, predict the validation targets of a targets file that lie "
        "after its fitting period, and write validation.csv, validation.png and manifest.json.",
    )
    p.add_argument("--scenario", required=True, help="calibrated baseline + corona levers (e.g. scenarios/corona_2020.toml)")
    p.add_argument("--targets", required=True, help="targets CSV (e.g. calibration/targets/<municipality>.csv)")
    p.add_argument("--replications", "-r", type=options.replications, default=40)
    p.add_argument("--seed", type=options.seed, default=2020)
    p.add_argument("--out", type=Path, help="output folder (default: a new folder under runs/)")
    p.add_argument("--force", action="store_true", help="replace an existing validation folder this program made")
    p.add_argument("--fit", type=Path, help="calibration report folder: add a band with parameter uncertainty")
    p.add_argument("--fitted-until", default=None, metavar="YYYY-MM",
                   help="the scenario was fitted on targets up to this month: later targets are predicted out of sample "
                        "(e.g. a refit on 2015-2018 predicting 2019)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.analysis.calibration.targets import load_targets
    from sim.analysis.calibration.validation import validate_scenario, write
    from sim.io.safety import claim_folder, new_folder

    claim = new_folder("validation", "validation") if args.out is None else claim_folder(args.out, "validation", force=args.force)
    with claim:  # claimed (and locked) before the replications: a refused --out costs nothing
        table, caseload, analytic, scenario = validate_scenario(
            args.scenario, args.targets, args.replications, args.seed, args.fit, args.fitted_until
        )
        observed = {
            int(t.period[:4]): t.value
            for t in load_targets(args.targets)
            if t.role != "prior" and t.measure == "stock_end" and t.states == "on_caseload"
        }
        settings = {k: v for k, v in vars(args).items() if k not in ("handler", "command")} | {"out": str(claim.path)}
        write(table, caseload, analytic, scenario, claim.path, observed, settings)
    print(claim.path)
    for row in table.itertuples():
        print(f"{row.target}: predicted {row.predicted_median:.4g} (90% band {row.band90_low:.4g}-{row.band90_high:.4g}: "
              f"{row.band_covers}), observed {row.observed:.4g}, error {100 * row.error:+.1f}%", file=sys.stderr)  # fmt: skip
        if "with_parameters_median" in table.columns:
            print(f"  with parameter uncertainty: {row.with_parameters_median:.4g} "
                  f"(90% band {row.with_parameters_band90_low:.4g}-{row.with_parameters_band90_high:.4g})", file=sys.stderr)  # fmt: skip
    return 0

