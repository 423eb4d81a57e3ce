"""The compiled engine against a minimal reference kernel of the same process (benchmarks/reference_kernel.py).

On capacity-free scenarios (the reference has no werkmatchers, places or
budget): the validation scenario ``three_states`` and the Utrecht baseline with
its capacity and budget removed. One replication of each side is timed back
to back (CPU time of this process), the order alternating, ``--repeat`` pairs;
the ratio is the median of the per-pair ratios. The compiled engine's time is
the whole of ``simulate``: its random-number rows (the SimPy engine's streams,
for common random numbers), the kernel and the result. Target: ratio <= 3.

    python benchmarks/compiled_vs_reference.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reference_kernel
from _scenarios import capacity_free

from sim import compile_scenario, load_scenario
from sim.engines import fast

ROOT = Path(__file__).resolve().parents[1]


def pairs(compiled, repeat: int) -> tuple[list[float], list[float]]:
    arrays = reference_kernel.arrays(compiled)
    reference_kernel.simulate(0, *arrays)  # warm-up: numba's cached code, hazard tables
    fast.simulate(compiled, 1, 0)
    engine, reference = [], []
    for i in range(repeat):
        for side in ("engine", "reference") if i % 2 == 0 else ("reference", "engine"):
            t0 = time.process_time()
            if side == "engine":
                fast.simulate(compiled, 1, i)
                engine.append(time.process_time() - t0)
            else:
                reference_kernel.simulate(i, *arrays)
                reference.append(time.process_time() - t0)
    return engine, reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    cases = {
        "three_states (5 years)": load_scenario(ROOT / "tests" / "data" / "three_states.toml"),
        "utrecht_baseline, capacity-free (10 years)": capacity_free("utrecht_baseline", years=10),
    }
    for label, scenario in cases.items():
        compiled = compile_scenario(scenario)
        engine, reference = pairs(compiled, args.repeat)
        ratio = statistics.median(e / r for e, r in zip(engine, reference))
        households = fast.simulate(compiled, 1, 0).clients
        print(f"{label}: {households} households; CPU ms per replication (median) compiled "
              f"{1e3 * statistics.median(engine):.1f}, reference {1e3 * statistics.median(reference):.1f}; "
              f"ratio {ratio:.2f} (median of {args.repeat} pairs; target <= 3: {'met' if ratio <= 3 else 'NOT met'})")


if __name__ == "__main__":
    main()
