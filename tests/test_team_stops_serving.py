"""A team that stops serving an attribute level from a date (a municipality leaving a shared service).

On ``tests/data/region.toml`` (three municipalities, one shared team over state ``ready`` whose 240 slots
are fewer than its clients) the team stops serving the municipality ``small`` from 1 January 2025.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim import ScenarioError, compile_scenario, load_scenario, simulate
from sim.model.records import FLOW_INDEX

from .conftest import DATA

# job finding responds to contact (region.toml's does not): a guided household finds work faster
CONTACT = {"states": {"ready": {"transitions": {"work": {"intensity_elasticity": {"value": 0.5, "source": "assumption"}}}}}}
STOP = CONTACT | {"werkmatchers": {"shared": {"stops_serving": {
    "values": {"municipality.small": dt.date(2025, 1, 1)}, "source": "assumption: leaves the partnership"}}}}  # fmt: skip


@pytest.fixture(scope="module")
def runs():
    base = compile_scenario(load_scenario(DATA / "region.toml", overrides=CONTACT))
    stop = compile_scenario(load_scenario(DATA / "region.toml", overrides=STOP))
    return base, [simulate(base, seed=s, replication=0) for s in (1, 2)], stop, [simulate(stop, seed=s, replication=0) for s in (1, 2)]


def test_no_slot_for_the_level_from_the_date_and_nothing_changes_before(runs):
    base, base_results, stop, stop_results = runs
    small = stop.municipalities.index("small")
    ready = stop.index("ready")
    assert stop.teams[0].stops == ((len(stop.attributes.names) - 1, small, 12.0),)
    for b, s in zip(base_results, stop_results):
        # before the date the runs are the same, draw for draw (common random numbers)
        assert np.array_equal(b.flows[:12], s.flows[:12])
        # from the date on the team neither takes a small-town household on nor lists it as waiting
        for flow in ("guidance_starts", "guidance_waits"):
            assert s.flows_by_municipality[12:, small, ready, FLOW_INDEX[flow]].sum() == 0
            assert b.flows_by_municipality[12:, small, ready, FLOW_INDEX[flow]].sum() > 0
    # the small town's clients now have the unguided hazards: fewer exits to work (paired, two seeds)
    work = FLOW_INDEX["exits_work"]
    before = sum(b.flows_by_municipality[12:, small, ready, work].sum() for b in base_results)
    after = sum(s.flows_by_municipality[12:, small, ready, work].sum() for s in stop_results)
    assert after < 0.9 * before


def test_the_slots_it_frees_go_to_the_others(runs):
    """The other municipalities' households get the slots: more guidance starts from 2025 than in the base."""
    base, base_results, stop, stop_results = runs
    ready = stop.index("ready")
    big = stop.municipalities.index("big")
    starts = FLOW_INDEX["guidance_starts"]
    assert sum(s.flows_by_municipality[12:, big, ready, starts].sum() for s in stop_results) > sum(
        b.flows_by_municipality[12:, big, ready, starts].sum() for b in base_results
    )


def test_an_unknown_level_is_refused():
    bad = {"werkmatchers": {"shared": {"stops_serving": {"values": {"municipality.nowhere": dt.date(2025, 1, 1)},
                                                          "source": "assumption"}}}}  # fmt: skip
    with pytest.raises(ScenarioError, match=r"werkmatchers\.shared\.stops_serving\.municipality\.nowhere: unknown"):
        load_scenario(DATA / "region.toml", overrides=bad)
