"""Places: a household holds one place while it is in a state with places, and waits for at most one.

Two configurations the bundled scenarios do not have, where the SimPy engine
once booked places wrongly: a start from intake whose arrangement is drawn at
assignment into a state with places (the destination was re-read as "assign"
when the place came), and a household waiting for a place in one state that
then asks for a place in another (its first ticket stayed queued and later took
a place for nobody). The check is an invariant, exact in every replication: at
the end of the run each pool's places in use are the households in its state,
and its waiting list holds only households that wait for it.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import compile_scenario, load_scenario
from sim.engines import simpy_engine
from sim.model.compiled import ASSIGN

SCENARIO = """
name = "places"
start = 2020-01-01
years = 3

[inflow]
rate = { value = 30, source = "assumption" }

[intake]
mean_months = { value = 0.5, source = "assumption" }
shares = { values = { p = 0.5, q = 0.5 }, source = "assumption" }

[states.p]
label = "an instrument with 3 places, assigned at intake"
places = { value = 3, source = "assumption" }
initial = { value = 0, source = "assumption" }
[states.p.transitions.done]
to = "out"
kind = "exit_work"
rate = { value = 0.3, source = "assumption" }

[states.r]
label = "an instrument with 2 places"
places = { value = 2, source = "assumption" }
initial = { value = 0, source = "assumption" }
[states.r.transitions.done]
to = "out"
kind = "exit_work"
rate = { value = 0.3, source = "assumption" }

[states.q]
label = "waits for a place in p or in r, whichever it asks for"
initial = { value = 20, source = "assumption" }
initial_duration_months = { value = 3, source = "assumption" }
[states.q.transitions.to_p]
to = "p"
kind = "transfer"
rate = { value = 0.5, source = "assumption" }
[states.q.transitions.to_r]
to = "r"
kind = "transfer"
rate = { value = 0.5, source = "assumption" }
[states.q.transitions.leave]
to = "out"
kind = "exit_other"
rate = { value = 0.01, source = "assumption" }
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    path = tmp_path_factory.mktemp("places") / "places.toml"
    path.write_text(SCENARIO)
    return compile_scenario(load_scenario(path))


def test_the_scenario_has_both_configurations(compiled):
    names = [s.name for s in compiled.states]
    intake = compiled.states[names.index("intake")]
    assert any(tr.to == ASSIGN for tr in intake.transitions)  # p is drawn at assignment
    q = compiled.states[names.index("q")]
    assert {compiled.states[tr.to].name for tr in q.transitions if tr.to >= 0} == {"p", "r"}


@pytest.mark.parametrize("replication", range(4))
def test_places_in_use_are_the_households_that_hold_them(compiled, replication):
    model = simpy_engine.Model(compiled, seed=11, replication=replication)
    result = simpy_engine.run_model(model)
    names = [s.name for s in compiled.states]
    for state, capacity in (("p", 3), ("r", 2)):
        s = names.index(state)
        pool = model.places[s]
        assert pool.in_use == result.stock[-1, s] <= capacity, state
        assert np.all(result.stock[:, s] <= capacity), state
        queued = sum(1 for *_, ticket in pool._queue if not ticket.cancelled)
        waiting = sum(1 for cl in _clients(model) if cl.place is not None and cl.place_to == s)
        assert pool.waiting == queued == waiting, state
    flows_in = result.flows.sum(axis=(0, 1))
    assert flows_in.sum() > 0


def _clients(model):
    import gc

    return [o for o in gc.get_objects() if isinstance(o, simpy_engine.Client) and o.state is not None]
