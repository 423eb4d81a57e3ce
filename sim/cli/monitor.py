"""``caseload-sim monitor SCENARIO``: the Werkbeweging monitor (four core indicators per quarter)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from sim.cli.options import add_kernel_option, positive_int


def register(sub) -> None:
    p = sub.add_parser("monitor", help="programme monitor: movements per quarter against base value and target")
    p.add_argument("scenario", nargs="?", help="scenario file or bundled name (default: the bundled default)")
    p.add_argument("--replications", "-r", type=positive_int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--years", type=positive_int, help="horizon in years (overrides the scenario)")
    p.add_argument("--workers", "-w", type=positive_int, default=1)
    p.add_argument("--start", type=dt.date.fromisoformat, help="first monitored quarter (default 2019-07-01)")
    p.add_argument("--out", type=Path, default=Path("."), help="folder for monitor.csv and monitor.png")
    add_kernel_option(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.analysis.compare import load_arms, run_arm
    from sim.analysis.monitor import monitor_chart, monitor_table

    (key, scenario), = load_arms([args.scenario], years=args.years)
    arm = run_arm(key, scenario, args.seed, args.replications, args.workers, kernel=args.kernel)
    frame = monitor_table(arm, start=args.start)
    if frame.empty:
        raise ValueError(f"{key} does not simulate the monitored period (from {args.start or '2019-07-01'})")
    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / "monitor.csv", index=False)
    monitor_chart(frame, args.out / "monitor.png", f"Movements monitor: {scenario.name}")
    print(frame.to_string(index=False))
    return 0
