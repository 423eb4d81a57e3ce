"""The SimPy engine against a floor that replays the engine's own event schedule in bare SimPy.

The floor is what any SimPy model with the same schedule must pay at least:
one run of the engine is recorded (the times at which every process of the
model - each household, the arrivals, the month ends, the capacity changes -
is resumed), and the floor replays exactly that: the same processes, started
at the same times, each yielding timeouts that resume it at the recorded times,
and nothing else (no hazards, no waiting lists, no bookkeeping). The floor runs
under the same garbage-collector settings as the engine (``run_model``).

The engine (one replication of the project's scenario, default the 16-year
Utrecht baseline) and the floor are timed back to back, CPU time of this
process, ``--repeat`` times; the ratio is the median of the per-pair ratios,
so a drift in machine speed hits both sides of a pair alike. The order within a
pair alternates, and the garbage collector is emptied before each side.
Target: ratio <= 2.0. ``benchmarks/python_limit.py`` measures the same ratio
for a minimal plain-Python model of the bare process (about 1.9).

    python benchmarks/engine_vs_simpy.py [--scenario NAME] [--repeat 7]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

import simpy

from sim import compile_scenario, load_scenario
from sim.engines import simpy_engine


def recorded(env: simpy.Environment, schedule: list, kind: str, gen):
    """``gen`` as a process that notes in ``schedule`` its kind and every time it runs."""
    times: list[float] = []
    schedule.append((kind, times))
    value = None
    while True:
        times.append(env.now)
        try:
            event = gen.send(value)
        except StopIteration:
            return
        value = yield event


class Recording(simpy_engine.Model):
    """The engine, noting when each of its processes runs: the schedule the floor replays."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.schedule: list[tuple[str, list[float]]] = []  # per process: its kind and the times it ran

    def _recorded(self, kind: str, gen):
        return recorded(self.env, self.schedule, kind, gen)

    def _life(self, cl, arriving=False):
        return self._recorded("household", super()._life(cl, arriving))

    def _arrivals(self):
        return self._recorded("arrivals", super()._arrivals())

    def _month_ends(self):
        return self._recorded("months", super()._month_ends())

    def _capacity_changes(self):
        return self._recorded("capacity", super()._capacity_changes())


def record(compiled, seed: int, replication: int) -> list[tuple[str, list[float]]]:
    """Every process of one run of the engine, in the order they were started, with the times it ran."""
    model = Recording(compiled, seed, replication)
    simpy_engine.run_model(model)
    return model.schedule


def replay(schedule: list[tuple[str, list[float]]], horizon: float) -> None:
    """Bare SimPy: the recorded processes, started when and by whom they were, resumed by timeouts at
    their recorded times; the arrivals process starts the households that arrive."""
    env = simpy.Environment()
    arriving: dict[float, list[list[float]]] = {}
    for kind, times in schedule:
        if kind == "household" and times[0] > 0.0:
            arriving.setdefault(times[0], []).append(times)

    def process(times):
        now = times[0]
        for t in times[1:]:
            yield env.timeout(t - now)
            now = t

    def arrivals(times):
        now = times[0]
        for t in times[1:]:
            yield env.timeout(t - now)
            now = t
            for household in arriving.get(t, ()):
                env.process(process(household))

    for kind, times in schedule:
        if kind == "arrivals":
            env.process(arrivals(times))
        elif times[0] == 0.0:
            env.process(process(times))
    env.run(until=horizon)


def under_engine_gc(function, *args) -> None:
    """``function(*args)`` under the engine's garbage-collector settings (``simpy_engine.run_model``)."""
    threshold = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(simpy_engine.GC_GEN0, *threshold[1:])
    try:
        function(*args)
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def floor(schedule, horizon: float) -> None:
    """:func:`replay` under the engine's garbage-collector settings."""
    under_engine_gc(replay, schedule, horizon)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="utrecht_baseline")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    compiled = compile_scenario(load_scenario(args.scenario))
    schedule = record(compiled, seed=1, replication=0)
    resumptions = sum(len(times) for _, times in schedule)
    result = simpy_engine.simulate(compiled, seed=1, replication=0)  # warm-up: imports, hazard tables
    ratios, project, floors = [], [], []
    for i in range(args.repeat):
        for side in ("project", "floor") if i % 2 == 0 else ("floor", "project"):
            gc.collect()  # neither side pays for the other's garbage
            t0 = time.process_time()
            if side == "project":
                result = simpy_engine.simulate(compiled, seed=1, replication=0)
                project.append(time.process_time() - t0)
            else:
                floor(schedule, compiled.horizon)
                floors.append(time.process_time() - t0)
        ratios.append(project[-1] / floors[-1])
    ratio = statistics.median(ratios)
    print(f"scenario={args.scenario} horizon={compiled.horizon:g} months")
    print(f"processes={len(schedule)} resumptions={resumptions} households={result.clients} "
          f"timeouts the model asked for={result.events_processed}")
    print(f"CPU seconds (median) engine={statistics.median(project):.3f} floor={statistics.median(floors):.3f}")
    print(f"pair ratios={' '.join(f'{r:.2f}' for r in ratios)}")
    print(f"ratio={ratio:.2f} (median of {args.repeat} pairs; target <= 2.0: {'met' if ratio <= 2.0 else 'NOT met'})")


if __name__ == "__main__":
    main()
