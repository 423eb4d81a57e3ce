"""``caseload-sim monitor SCENARIO``: the Werkbeweging monitor (four core indicators per quarter).

Writes ``monitor.csv`` and ``monitor.png`` into its own folder (``--out``, by
default a new folder under ``runs/``), never into the current folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from sim import __version__
from sim.analysis.compare import load_arms, run_arm
from sim.analysis.monitor import START, monitor_chart, monitor_table, monitored_quarters
from sim.cli import options
from sim.cli.options import add_quiet, add_workers
from sim.io.safety import claim_folder, new_folder
from sim.io.tables import atomic_folder, write_json
from sim.model import content_hash
from sim.util.progress import Progress


def register(sub) -> None:
    p = sub.add_parser("monitor", help="programme monitor: movements per quarter against base value and target")
    p.add_argument("scenario", nargs="?", help="scenario file or bundled name (default: the bundled default)")
    p.add_argument("--replications", "-r", type=options.replications, default=20)
    p.add_argument("--seed", type=options.seed, default=1)
    p.add_argument("--years", type=options.positive_int, help="horizon in years (overrides the scenario)")
    add_workers(p)
    add_quiet(p)
    p.add_argument("--start", type=options.quarter_start, help="first monitored quarter (default: the programme's start)")
    p.add_argument("--out", type=Path, help="output folder for monitor.csv and monitor.png (default: a new folder under runs/)")
    p.add_argument("--force", action="store_true", help="replace an existing monitor folder this program made")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    (key, scenario), = load_arms([args.scenario], years=args.years)
    options.check_workload(args.replications, scenario.years)
    if not monitored_quarters(scenario, args.start):
        start = args.start or START
        raise ValueError(f"{key} does not simulate a whole quarter from {start} (it runs from {scenario.start}, "
                         f"{scenario.years} years); use --start or --years")  # fmt: skip
    claim = new_folder("monitor", f"monitor-{key}") if args.out is None else claim_folder(args.out, "monitor", force=args.force)
    with claim:
        with Progress(args.replications, f"monitor {key}", quiet=args.quiet) as progress:
            arm = run_arm(key, scenario, args.seed, args.replications, args.workers, progress)
        frame = monitor_table(arm, start=args.start)
        with atomic_folder(claim.path, kind="monitor") as tmp:
            frame.to_csv(tmp / "monitor.csv", index=False)
            monitor_chart(frame, tmp / "monitor.png", f"Movements monitor: {scenario.name}")
            write_json(tmp / "manifest.json", {
                "scenario": scenario.name, "scenario_sha256": content_hash(scenario), "seed": args.seed,
                "replications": args.replications, "start": str(args.start or START), "version": __version__,
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            })  # fmt: skip
    print(frame.to_string(index=False))
    print(claim.path)
    return 0
