"""Engine cost against a floor measured in the same process: bare SimPy.

The floor is what any SimPy model of the same population must pay at least:
one process per client simulated, each doing 5 timeouts. The project's time
is one 10-year replication of the bundled Utrecht baseline. The two are timed
back to back (CPU time of this process), ``--repeat`` times; the ratio is the
median of the per-pair ratios, so the speed drift of a shared virtual machine
(seen here: the same replication taking 2.5 s or 3.5 s minutes apart) hits
both sides of each pair alike. The order within a pair alternates, and the
garbage collector is emptied before each side, so neither side is timed
paying for the other's garbage. Target: ratio <= 2.0.

    python benchmarks/engine_vs_simpy.py [--scenario NAME] [--repeat 7]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import numpy as np
import simpy

from sim import compile_scenario, load_scenario, simulate

TIMEOUTS_PER_CLIENT = 5


def bare_simpy(clients: int, seed: int = 0) -> int:
    """``clients`` processes with 5 exponential timeouts each; returns the events processed."""
    delays = np.random.default_rng(seed).exponential(12.0, (clients, TIMEOUTS_PER_CLIENT)).tolist()
    env = simpy.Environment()

    def client(env, ds):
        for d in ds:
            yield env.timeout(d)

    for ds in delays:
        env.process(client(env, ds))
    env.run()
    return next(env._eid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="utrecht_baseline")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    compiled = compile_scenario(load_scenario(args.scenario))
    result = simulate(compiled, seed=1, replication=args.repeat)  # warm-up: imports, hazard tables
    ratios, project, floor = [], [], []
    for i in range(args.repeat):
        # alternate which side goes first, so a drift in machine speed does not favour either
        for side in (("project", "floor") if i % 2 == 0 else ("floor", "project")):
            gc.collect()  # neither side pays for the other's garbage
            t0 = time.process_time()
            if side == "project":
                result = simulate(compiled, seed=1, replication=i)
                project.append(time.process_time() - t0)
            else:
                floor_events = bare_simpy(result.clients, seed=i)
                floor.append(time.process_time() - t0)
        ratios.append(project[-1] / floor[-1])
    ratio = statistics.median(ratios)
    print(f"scenario={compiled.scenario.name} years={compiled.scenario.years}")
    print(f"clients simulated={result.clients} simpy events={result.events_processed}")
    print(f"events/s project={result.events_processed / statistics.median(project):,.0f} "
          f"floor={floor_events / statistics.median(floor):,.0f}")
    print(f"pair ratios={' '.join(f'{r:.2f}' for r in ratios)}")
    print(f"ratio={ratio:.2f} (median of {args.repeat} pairs; target <= 2.0: {'met' if ratio <= 2.0 else 'NOT met'})")


if __name__ == "__main__":
    main()
