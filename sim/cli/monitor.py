"""``caseload-sim monitor SCENARIO``: the monitors a scenario declares (``[monitors.<name>]``).

A movements monitor gives the four core indicators per quarter from the states
its programme covers, against base value, target and published figures; an
outflow monitor the outflow percentage per year and its goal's verdict. Writes
``monitor_<name>.csv`` (and ``.png``) into its own folder (``--out``, by default
a new folder under ``runs/``), never into the current folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from sim import __version__
from sim.cli import options
from sim.cli.options import add_kernel_option, add_quiet, add_workers


def register(sub) -> None:
    p = sub.add_parser("monitor", help="the scenario's monitors: movements per quarter against base and target, outflow goals")
    p.add_argument("scenario", nargs="?", help="scenario file or bundled name (default: the bundled default)")
    p.add_argument("--replications", "-r", type=options.replications, default=20)
    p.add_argument("--seed", type=options.seed, default=1)
    p.add_argument("--years", type=options.positive_int, help="horizon in years (overrides the scenario)")
    add_workers(p)
    add_quiet(p)
    options.add_uncertainty(p)
    p.add_argument("--monitor", help="the monitor to run (default: every monitor the scenario declares)")
    p.add_argument("--start", type=options.quarter_start, help="first monitored quarter (default: the monitor's start)")
    p.add_argument("--out", type=Path, help="output folder for monitor.csv and monitor.png (default: a new folder under runs/)")
    p.add_argument("--force", action="store_true", help="replace an existing monitor folder this program made")
    add_kernel_option(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from sim.analysis.compare import load_arms, run_arm
    from sim.analysis.monitor import monitor_chart, monitor_table, monitored_quarters, outflow_table
    from sim.io.safety import claim_folder, new_folder
    from sim.io.tables import atomic_folder, write_json
    from sim.model import content_hash
    from sim.util.progress import Progress

    (key, scenario), = load_arms([args.scenario], years=args.years)
    scenario = options.without_uncertainty(scenario, args)
    options.check_workload(args.replications, scenario.years)
    monitors = {n: m for n, m in scenario.monitors.items() if args.monitor in (None, n)}
    if not monitors:
        known = ", ".join(scenario.monitors) or "none"
        raise ValueError(f"{key} declares no monitor{' ' + repr(args.monitor) if args.monitor else ''} (its monitors: {known})")
    for name, m in monitors.items():
        if m.kind == "movements" and not monitored_quarters(scenario, args.start or m.start):
            raise ValueError(f"monitors.{name}: {key} does not simulate a whole quarter from {args.start or m.start} "
                             f"(it runs from {scenario.start}, {scenario.years} years); use --start or --years")  # fmt: skip
    claim = new_folder("monitor", f"monitor-{key}") if args.out is None else claim_folder(args.out, "monitor", force=args.force)
    lines = []
    with claim:
        with Progress(args.replications, f"monitor {key}", quiet=args.quiet) as progress:
            arm = run_arm(key, scenario, args.seed, args.replications, args.workers, progress)
        with atomic_folder(claim.path, kind="monitor") as tmp:
            for name, m in monitors.items():
                if m.kind == "movements":
                    frame = monitor_table(arm, m, start=args.start)
                    monitor_chart(frame, tmp / f"monitor_{name}.png", f"{m.label}: {scenario.name}", m.indicators)
                else:
                    frame = outflow_table(arm, m, name)
                    if "verdict" in frame.attrs:
                        lines.append(frame.attrs["verdict"])
                frame.to_csv(tmp / f"monitor_{name}.csv", index=False)
                lines.append(f"{m.label}\n{frame.to_string(index=False)}")
            write_json(tmp / "manifest.json", {
                "scenario": scenario.name, "scenario_sha256": content_hash(scenario), "seed": args.seed,
                "replications": args.replications, "monitors": list(monitors), "version": __version__,
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            })  # fmt: skip
    print("\n\n".join(lines))
    print(claim.path)
    return 0
