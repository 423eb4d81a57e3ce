"""What plain Python pays for the bare process: a minimal SimPy model against its replayed floor.

``benchmarks/engine_vs_simpy.py`` sets the SimPy engine a target of 2.0x a
floor that replays the engine's own schedule in bare SimPy. This benchmark
asks what that ratio is for the least Python the process needs. :func:`simulate` is the
capacity-free process (the one ``benchmarks/reference_kernel.py`` runs)
written as a SimPy model with as little Python per event as the process
allows: closures over local lists instead of objects, random numbers from
pre-drawn pools instead of common-random-number rows, the engine's own
samplers (``sim.engines.sampling``) for the next event, and only the outputs
the tables need (end-of-month stock, flows, person-months per month and state).
It has none of the engine's mechanisms beyond that: no waiting lists, places,
money, maximum stays, focus groups, duration counts, event log or overflow
streams. It is the same process as the engines in law, not number for number
(``tests/test_benchmark_inputs.py``).

Its schedule is recorded and replayed by ``engine_vs_simpy.floor`` exactly as
the engine's is, so the two ratios printed are measured alike, in one run:

* minimal model / its floor: the bare process in lean plain Python (an
  engine that does more per event than this model pays more);
* SimPy engine / its floor, on the same capacity-free scenario.

CPU time of this process, ``--repeat`` rounds of the four sides in alternating
order; each ratio is the median of its per-round ratios.

    python benchmarks/python_limit.py [--scenario NAME] [--years N] [--repeat 5]
"""

from __future__ import annotations

import argparse
import bisect
import gc
import math
import statistics
import time

import numpy as np
import simpy
from _scenarios import capacity_free
from engine_vs_simpy import floor, record, recorded, under_engine_gc

from sim import compile_scenario
from sim.engines import sampling, simpy_engine
from sim.model.compiled import ASSIGN, INTAKE, NO_TEAM, OUT, Compiled
from sim.model.records import FLOW_INDEX, FLOWS

F_ENTRIES, F_INFLOW, F_WITHDRAWN = FLOW_INDEX["entries"], FLOW_INDEX["inflow"], FLOW_INDEX["withdrawn"]
N_FLOWS = len(FLOWS)
POOL = 65_536  # random numbers drawn from the generator at a time


def simulate(c: Compiled, seed: int, wrap=None, env: simpy.Environment | None = None) -> tuple:
    """One replication of the capacity-free model ``c``: (stock, flows, person_months) as in ``Result``.

    ``wrap(kind, generator)``, if given, is applied to every process before SimPy starts it in ``env``
    (a new environment by default): the benchmark records the schedule through it."""
    if c.teams or any(p is not None for p in c.places) or c.budget is not None or c.initial is not None:
        raise ValueError("the minimal model runs capacity-free models with stock-given initial populations")
    if any(st.max_stay is not None for st in c.states):
        raise ValueError("the minimal model has no maximum stays")
    env = env or simpy.Environment()
    rng = np.random.default_rng(seed)
    wrap = wrap or (lambda kind, generator: generator)
    n_states, n_months, horizon, cal = len(c.states), c.n_months, c.horizon, c.segments
    month_cells = n_states * N_FLOWS
    profiles = c.attributes.profiles
    tables = [[sampling.live(c.hazard_table(s, NO_TEAM, p).tolist()) for s in range(n_states)]
              for p in range(len(profiles))]  # fmt: skip
    shape = [(len(st.transitions), st.duration_edges) for st in c.states]
    steps = [[(tr.to, tuple(s * N_FLOWS + f for f in tr.flows), tr.new_spell) for tr in st.transitions]
             for s, st in enumerate(c.states)]  # fmt: skip
    on_caseload = [st.on_caseload for st in c.states]
    uppers, assigned = [b[1] for b in c.intake.bins], [b[2] for b in c.intake.bins]
    last_bin, immediate = len(uppers) - 1, c.intake.rate == 0.0
    profile_cdf, last_profile = np.cumsum(c.attributes.shares).tolist(), len(profiles) - 1
    search = c.intake.search

    flows = [0] * (n_months * month_cells)
    stock, area, since = [0] * n_states, [0.0] * n_states, [0.0] * n_states
    stock_history = np.zeros((n_months, n_states), dtype=np.int64)
    person_months = np.zeros((n_months, n_states))
    exps, next_exp = [], 0  # a pool of unit exponentials and the index of the next unused one
    uniforms, next_uniform = [], 0

    def uniform() -> float:
        nonlocal uniforms, next_uniform
        if next_uniform >= len(uniforms):
            uniforms, next_uniform = rng.random(POOL).tolist(), 0
        next_uniform += 1
        return uniforms[next_uniform - 1]

    def assign() -> int:
        return assigned[min(bisect.bisect_right(uppers, uniform()), last_bin)]

    def move(s: int, delta: int, now: float) -> None:
        area[s] += stock[s] * (now - since[s])
        since[s] = now
        stock[s] += delta

    def enter_intake(now: float) -> int:
        """The household applies now: the intake's inflow, and its state after the intake's entry."""
        s = assign() if immediate else INTAKE
        base = int(now) * month_cells
        flows[base + INTAKE * N_FLOWS + F_INFLOW] += 1
        flows[base + s * N_FLOWS + F_ENTRIES] += 1
        move(s, 1, now)
        return s

    def life(s: int, spell: float, profile: int, arriving: bool):
        nonlocal exps, next_exp
        table = tables[profile]
        if arriving:
            if search is not None and profiles[profile][search.attribute] == search.level:
                if uniform() < search.withdraw_share:
                    flows[int(env.now) * month_cells + INTAKE * N_FLOWS + F_WITHDRAWN] += 1
                    return
                yield env.timeout(search.months)
            spell = env.now
            s = enter_intake(spell)
        now = env.now
        while True:
            n, edges = shape[s]
            if next_exp + n > len(exps):
                exps, next_exp = rng.standard_exponential(POOL).tolist(), 0
            first, next_exp = next_exp, next_exp + n
            nxt = sampling.ring(table[s], exps, first, n, now, spell, cal, edges, horizon)
            if nxt is None:
                return
            yield env.timeout(nxt[0] - now)
            now = nxt[0]
            to, cells, new_spell = steps[s][nxt[1]]
            base = int(now) * month_cells
            for f in cells:
                flows[base + f] += 1
            if to == s:
                continue
            move(s, -1, now)
            if to == OUT:
                return
            if to == ASSIGN:
                to = assign()
            if new_spell or on_caseload[to] != on_caseload[s]:
                spell = now
            if to == INTAKE:
                s = enter_intake(now)
            else:
                move(to, 1, now)
                flows[base + to * N_FLOWS + F_ENTRIES] += 1
                s = to

    def arrivals():
        ends = [start for start, _ in c.inflow[1:]] + [horizon]
        segment, t = 0, 0.0
        rate, end = c.inflow[0][1], ends[0]
        while True:
            need = -math.log(1.0 - uniform())
            while not (rate > 0 and t + need / rate < end):  # invert the cumulative inflow rate
                need -= rate * (end - t)
                t = end
                segment += 1
                if segment >= len(c.inflow):
                    return
                rate, end = c.inflow[segment][1], ends[segment]
            t += need / rate
            yield env.timeout(t - env.now)
            profile = min(bisect.bisect_right(profile_cdf, uniform()), last_profile)
            env.process(wrap("household", life(INTAKE, t, profile, True)))

    def close_month(month: int, t: float) -> None:
        for s in range(n_states):
            move(s, 0, t)
            person_months[month, s] = area[s]
            area[s] = 0.0
        stock_history[month] = stock

    def month_ends():
        for month in range(n_months - 1):
            yield env.timeout(month + 1 - env.now)
            close_month(month, month + 1.0)

    for s, st in enumerate(c.states):
        for _ in range(st.initial):
            profile = min(bisect.bisect_right(profile_cdf, uniform()), last_profile)
            move(s, 1, 0.0)
            spell = st.initial_duration * math.log(1.0 - uniform())
            env.process(wrap("household", life(s, spell, profile, False)))
    env.process(wrap("arrivals", arrivals()))
    env.process(wrap("months", month_ends()))
    env.run(until=horizon)
    close_month(n_months - 1, horizon)
    return stock_history, np.array(flows, dtype=np.int64).reshape(n_months, n_states, N_FLOWS), person_months


def record_minimal(c: Compiled, seed: int) -> list[tuple[str, list[float]]]:
    """The minimal model's schedule, as ``engine_vs_simpy.record`` gives the engine's."""
    schedule: list[tuple[str, list[float]]] = []
    env = simpy.Environment()
    simulate(c, seed, lambda kind, gen: recorded(env, schedule, kind, gen), env)
    return schedule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="utrecht_baseline")
    parser.add_argument("--years", type=int, default=None, help="horizon (default: the scenario's)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    c = compile_scenario(capacity_free(args.scenario, years=args.years))
    schedules = {"minimal": record_minimal(c, seed=1), "engine": record(c, seed=1, replication=0)}
    sides = {  # what each side of a round runs
        "minimal": lambda: under_engine_gc(simulate, c, 1),
        "minimal floor": lambda: floor(schedules["minimal"], c.horizon),
        "engine": lambda: simpy_engine.simulate(c, seed=1, replication=0),
        "engine floor": lambda: floor(schedules["engine"], c.horizon),
    }
    sides["engine"]()  # warm-up: imports, hazard tables
    seconds: dict[str, list[float]] = {side: [] for side in sides}
    for i in range(args.repeat):  # model and floor, model against model: each order every other round
        order = ("minimal", "engine") if i % 2 == 0 else ("engine", "minimal")
        for model in order:
            for side in (model, f"{model} floor") if i % 2 == 0 else (f"{model} floor", model):
                gc.collect()
                t0 = time.process_time()
                sides[side]()
                seconds[side].append(time.process_time() - t0)

    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(seconds[a], seconds[b]))

    print(f"scenario={args.scenario}, capacity-free, horizon={c.horizon:g} months")
    for model, schedule in schedules.items():
        resumptions = sum(len(times) for _, times in schedule)
        print(f"{model}: processes={len(schedule)} resumptions={resumptions} CPU seconds (median) "
              f"model={statistics.median(seconds[model]):.3f} floor={statistics.median(seconds[model + ' floor']):.3f}")
    print(f"minimal model / its floor = {ratio('minimal', 'minimal floor'):.2f} "
          f"(median of {args.repeat} rounds): the bare process in lean plain Python")
    print(f"SimPy engine / its floor = {ratio('engine', 'engine floor'):.2f}; "
          f"SimPy engine / minimal model = {ratio('engine', 'minimal'):.2f}")


if __name__ == "__main__":
    main()
