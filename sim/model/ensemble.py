"""Which parameter draw each replication runs, and the scenario with a draw's values (sim/model/uncertainty.py)."""

from __future__ import annotations

import sim.model.paths as paths
from sim.model.compiled import Compiled, compile_scenario
from sim.model.loader import content_hash, validate
from sim.model.streams import Stream, generator

_compiled: dict[tuple[str, int | None], Compiled] = {}  # (scenario hash, draw) -> compiled model, per process
CACHE = 256  # compiled draws kept per process (~1 MB each at Utrecht's size): a 200-draw ensemble fits, so a draw is
# compiled once per worker however many replications use it


def draw_index(scenario, seed: int, replication: int) -> int | None:
    """Which draw replication ``replication`` uses; None when the scenario has no ensemble."""
    u = scenario.uncertainty
    if u is None or not u.values:
        return None
    return int(generator(seed, replication, Stream.PARAMETERS).integers(len(u.values)))


def with_draw(scenario, index: int):
    """``scenario`` with the parameter values of draw ``index`` (validated like any scenario)."""
    data = scenario.model_dump(mode="python", by_alias=True)
    for key in ("initial_population", "uncertainty"):  # their rows are not dumped: put back after validation
        data.pop(key, None)
    data = paths.set_many(data, scenario.uncertainty.values[index])
    out = validate(data, origin=f"{scenario.name}, parameter draw {index}")
    keep = {k: getattr(scenario, k) for k in ("initial_population", "language", "observed", "uncertainty")}
    return out.model_copy(update=keep)


def compiled_for(scenario, seed: int, replication: int, key: str | None = None) -> Compiled:
    """The compiled model replication ``replication`` runs: the scenario's, or with its parameter draw.

    ``key`` is the scenario's content hash when the caller knows it (saves hashing per replication).
    """
    index = draw_index(scenario, seed, replication)
    cache_key = (key or content_hash(scenario), index)
    found = _compiled.get(cache_key)
    if found is None:
        if len(_compiled) >= CACHE:
            _compiled.clear()
        found = _compiled[cache_key] = compile_scenario(scenario if index is None else with_draw(scenario, index))
    return found


def without_paths(scenario, names: list[str]):
    """``scenario`` whose parameter draws no longer set ``names`` (canonical paths): what a caller sets itself
    (goal-seek's lever) must not be overwritten by a draw."""
    u = scenario.uncertainty
    if u is None or not u.values:
        return scenario
    values = [{k: v for k, v in row.items() if k not in names} for row in u.values]
    return scenario.model_copy(update={"uncertainty": u.model_copy(update={"values": values})})
