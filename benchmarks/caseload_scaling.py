"""The compiled engine as the caseload grows: 1x, 4x, 16x and 40x the Utrecht baseline's households.

Each size runs in a fresh process: the scenario scaled (initial stocks, inflow,
werkmatcher FTE, places and the budget's totals times the factor, every rate
kept: benchmarks/_scenarios.py), one warm-up replication, then ``--repeat``
replications timed (CPU time, median), and the peak resident memory of the
process over what it held after the warm-up of a 1x model (so imports and
numba's code do not count). Printed per size: households, CPU per replication,
CPU per household and memory per household, with the ratios to 1x.
Targets: 16x the households at most 18x the time; memory linear.

    python benchmarks/caseload_scaling.py [--factors 1 4 16 40] [--repeat 3] [--kernel compiled|simpy]
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ONE_SIZE = """
import json, resource, statistics, sys, time
sys.path.insert(0, {here!r})
from _scenarios import scaled
from sim import compile_scenario
from sim.engines.select import simulate

factor, repeat, kernel = {factor}, {repeat}, {kernel!r}
simulate(compile_scenario(scaled("utrecht_baseline", 1.0, years=1)), 1, 0, kernel=kernel)  # imports, numba's code
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
compiled = compile_scenario(scaled("utrecht_baseline", factor, years=10))  # the issue's ten years
result = simulate(compiled, 1, 0, kernel=kernel)
times = []
for r in range(1, repeat + 1):
    t0 = time.process_time()
    simulate(compiled, 1, r, kernel=kernel)
    times.append(time.process_time() - t0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"households": result.clients, "events": result.events_processed,
                  "cpu": statistics.median(times), "memory_kib": peak - base}}))
"""


def measure(factor: float, repeat: int, kernel: str) -> dict:
    code = ONE_SIZE.format(here=str(HERE), factor=factor, repeat=repeat, kernel=kernel)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", type=float, nargs="+", default=[1, 4, 16, 40])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kernel", default="compiled", choices=("compiled", "simpy"))
    args = parser.parse_args()
    rows = {f: measure(f, args.repeat if f < 20 else 1, args.kernel) for f in args.factors}
    one = rows[args.factors[0]]
    print(f"utrecht_baseline, 10 years, {args.kernel} engine (CPU time, median of {args.repeat}; 40x: 1 replication)")
    print("factor  households  events     CPU s/rep  x time  us/household  MiB peak  KiB/household")
    for f, r in rows.items():
        print(f"{f:>5g}x  {r['households']:>10,}  {r['events']:>9,}  {r['cpu']:9.3f}  {r['cpu'] / one['cpu']:6.2f}"
              f"  {1e6 * r['cpu'] / r['households']:12.2f}  {r['memory_kib'] / 1024:8.0f}"
              f"  {r['memory_kib'] / r['households']:13.2f}")
    sizes = sorted(rows)
    for a, b in itertools.pairwise(sizes[1:]):  # from 4x on: the 1x run reuses what the warm-up allocated
        extra = (rows[b]["memory_kib"] - rows[a]["memory_kib"]) / (rows[b]["households"] - rows[a]["households"])
        print(f"memory {a:g}x -> {b:g}x: {extra:.2f} KiB per extra household")
    if 1 in rows and 16 in rows:
        ratio = rows[16]["cpu"] / rows[1]["cpu"]
        households = rows[16]["households"] / rows[1]["households"]
        verdict = "met" if ratio <= 18 else "NOT met"
        print(f"16x: {households:.1f}x the households, {ratio:.1f}x the time (target <= 18x: {verdict})")


if __name__ == "__main__":
    main()
