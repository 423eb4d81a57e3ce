"""Replications per second end to end: ``caseload-sim run -r N -w W`` on 1, 2 and all cores, tables included.

Each run is the whole command in a fresh process (start-up, the workers, the
simulation, the run folder with monthly.csv, annual.csv, summary.csv and the
charts), timed by wall clock and by CPU time of the command and its workers.
The manifest's ``kernel`` says which engine ran. Also printed: the acceptance
run (``-r 1000 -w 2`` on the Utrecht baseline, target under 60 s on two cores)
and the CPU time of ``caseload-sim --help`` beyond the interpreter's start
(target under 0.5 s). Wall times need an otherwise idle machine: the load
average is printed so a reader can tell.

    python benchmarks/end_to_end.py [--replications 200] [--acceptance 1000] [--kernel auto] [--years 10]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and everything it started)."""
    cpu0, wall0 = cpu_children(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "sim", *args], check=True, capture_output=True)
    return time.perf_counter() - wall0, cpu_children() - cpu0


def run(scenario: str, years: int, replications: int, workers: int, kernel: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        wall, cpu = timed(["run", scenario, "--years", str(years), "-r", str(replications), "-w", str(workers),
                           "--kernel", kernel, "-q", "--out", str(out)])  # fmt: skip
        manifest = json.loads((out / "manifest.json").read_text())
        tables = sum((out / name).stat().st_size for name in ("monthly.csv", "annual.csv", "summary.csv"))
    return {"wall": wall, "cpu": cpu, "kernel": manifest["kernel"], "mb": tables / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="utrecht_baseline")
    parser.add_argument("--replications", "-r", type=int, default=200)
    parser.add_argument("--acceptance", type=int, default=1000, help="replications of the acceptance run (0: skip)")
    parser.add_argument("--kernel", default="auto")
    parser.add_argument("--years", type=int, default=10,
                        help="simulated years (default 10, the issue's ten-year replications; the baseline runs to 2030)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"{args.scenario}, {args.years} years; {cores} cores; 1-minute load average {os.getloadavg()[0]:.1f}")
    timed(["run", args.scenario, "-r", "2", "--years", "1", "-q", "--out", tempfile.mkdtemp() + "/warm"])  # caches
    for workers in sorted({1, 2, cores}):
        r = run(args.scenario, args.years, args.replications, workers, args.kernel)
        print(f"-r {args.replications} -w {workers} ({r['kernel']}): {r['wall']:.1f} s wall, "
              f"{args.replications / r['wall']:.1f} replications/s; CPU {r['cpu']:.1f} s "
              f"({1e3 * r['cpu'] / args.replications:.0f} ms a replication, tables {r['mb']:.0f} MB included)")
    if args.acceptance:
        r = run(args.scenario, args.years, args.acceptance, 2, args.kernel)
        verdict = "met" if r["wall"] < 60 else "NOT met"
        print(f"acceptance: -r {args.acceptance} -w 2 ({r['kernel']}): {r['wall']:.1f} s wall "
              f"(target < 60 s: {verdict}), "
              f"CPU {r['cpu']:.1f} s; load average now {os.getloadavg()[0]:.1f}")
    bare = min(timed_python(["-c", "pass"]) for _ in range(5))
    help_cpu = min(timed_python(["-m", "sim", "--help"]) for _ in range(5))
    print(f"caseload-sim --help: {help_cpu - bare:.3f} s CPU beyond the interpreter's start (target < 0.5 s)")


def timed_python(args: list[str]) -> float:
    cpu0 = cpu_children()
    subprocess.run([sys.executable, *args], check=True, capture_output=True)
    return cpu_children() - cpu0


if __name__ == "__main__":
    main()
