"""Waiting lists as exact event logs (SimPy-style): priority order, capacity, and places."""

import numpy as np

from sim import compile_scenario, simulate
from sim.model.records import FLOW_INDEX
from tests.conftest import scenario_from_text

ONE_SLOT = """
name = "one slot"
start = 2020-01-01
years = 1
[attributes.age_band]
levels = {{ values = {{ youth = 0.5, adult = 0.5 }}, source = "test" }}
[inflow]
rate = {{ value = 0, source = "test" }}
[intake]
mean_months = {{ value = 0, source = "test" }}
shares = {{ values = {{ q = 1.0 }}, source = "test" }}
[states.q]
label = "queue"
initial = {{ value = {n}, source = "test" }}
initial_duration_months = {{ value = 12, source = "test" }}
[states.q.transitions.done]
to = "out"
kind = "exit_work"
rate = {{ value = 2.0, source = "test" }}
requires_guidance = true
[werkmatchers.team]
states = ["q"]
fte = {{ value = 1, source = "test" }}
caseload_norm = {{ value = 1, source = "test" }}
contacts_per_fte_month = {{ value = 1, source = "test" }}
reference_contacts_per_client_month = {{ value = 1, source = "test" }}
unguided_contacts_per_client_month = {{ value = 1, source = "test" }}
[[werkmatchers.team.priority]]
name = "jongeren"
attribute = "age_band"
equals = "youth"
"""


def test_one_slot_serves_youth_first_then_in_order_of_request():
    compiled = compile_scenario(scenario_from_text(ONE_SLOT.format(n=8)))
    result = simulate(compiled, seed=3, replication=0, log_events=True)
    youth = {c for c, levels in _levels(compiled, result).items() if levels[0] == "youth"}
    served = [ev.client for ev in result.events if ev.kind == "guidance"]
    exits = [ev for ev in result.events if ev.kind == "exit_work"]
    # the first client takes the free slot at t=0; after that every youth is served before any adult,
    # and within a group in the order they asked (client numbers are the order of request)
    rest = served[1:]
    order = [c for c in rest if c in youth] + [c for c in rest if c not in youth]
    assert rest == order
    assert [c for c in rest if c in youth] == sorted(c for c in rest if c in youth)
    assert [c for c in rest if c not in youth] == sorted(c for c in rest if c not in youth)
    # one slot: each service starts exactly when the previous client leaves
    starts = [ev.time for ev in result.events if ev.kind == "guidance"]
    assert starts[0] == 0.0
    assert np.allclose(starts[1 : len(exits) + 1][: len(exits) - 1], [e.time for e in exits][: len(exits) - 1])


def _levels(compiled, result):
    from sim.engines.simpy_engine import Model

    model = Model(compiled, seed=3, replication=0)
    names = compiled.attributes.levels
    return {
        cl: tuple(names[a][i] for a, i in enumerate(model._new_client(1, cl).levels))
        for cl in {ev.client for ev in result.events}
    }


PLACES = """
name = "places"
start = 2020-01-01
years = 4
[inflow]
rate = { value = 10, source = "test" }
[intake]
mean_months = { value = 0, source = "test" }
shares = { values = { a = 1.0 }, source = "test" }
[states.a]
label = "waiting for a course"
initial = { value = 0, source = "test" }
[states.a.transitions.course]
to = "course"
kind = "transfer"
movement = "plaatsing"
rate = { value = 0.5, source = "test" }
[states.a.transitions.other]
to = "out"
kind = "exit_other"
rate = { value = 0.05, source = "test" }
[states.course]
label = "course with 15 places"
initial = { value = 0, source = "test" }
places = { value = 15, source = "test" }
[states.course.transitions.done]
to = "out"
kind = "exit_work"
rate = { value = 0.25, source = "test" }

[levers.more_places]
target = "places.course"
from = 2022-01-01
add = 15
source = "test"
"""


def test_places_are_never_exceeded_and_a_lever_opens_more():
    compiled = compile_scenario(scenario_from_text(PLACES))
    result = simulate(compiled, seed=11, replication=0, log_events=True)
    occupancy, peak_before, peak_after = 0, 0, 0
    for ev in result.events:
        if ev.to_state == "course" and ev.kind != "queue":
            occupancy += 1
        elif ev.state == "course" and ev.kind == "exit_work":
            occupancy -= 1
        if ev.time < 24:
            peak_before = max(peak_before, occupancy)
        else:
            peak_after = max(peak_after, occupancy)
    assert peak_before == 15  # demand (10/month into a 4-month course) far exceeds 15 places
    assert peak_after == 30
    waits = result.flows[:, :, FLOW_INDEX["place_waits"]].sum()
    placements = result.flows[:, :, FLOW_INDEX["plaatsing"]].sum()
    assert waits > 100 and placements > 0
    # a movement is counted when the place is taken, not when it is asked for
    starts = sum(1 for ev in result.events if ev.to_state == "course" and ev.kind != "queue")
    assert placements == starts
