"""Every cross-reference check of the schema: one planted mistake each, refused with the words a user needs.

Each case edits a valid scenario (tests/data/three_states.toml, tests/data/region.toml or a small budget
case) in one place; the error must name the key path and say what is wrong.
"""

from __future__ import annotations

import pytest

from sim import ScenarioError

from .conftest import DATA, scenario_from_text

THREE = (DATA / "three_states.toml").read_text()
REGION = (DATA / "region.toml").read_text()
TEAM = """
[werkmatchers.team]
states = ["a"]
fte = { value = 10, source = "assumption" }
caseload_norm = { value = 50, source = "assumption" }
contacts_per_fte_month = { value = 40, source = "assumption" }
reference_contacts_per_client_month = { value = 0.8, source = "assumption" }
unguided_contacts_per_client_month = { value = 0.1, source = "assumption" }
"""
BUDGET = """
[budget.i_deel]
grant = { values = { 2020-01-01 = 1_000_000 }, source = "assumption" }
monthly_benefit = { values = { 2020-01-01 = 1000 }, source = "assumption" }
reserve_opening = { value = 0, source = "assumption" }
"""


def _add(text: str, extra: str) -> str:
    return text + "\n" + extra


def _sub(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


CASES = {
    "intake to an unknown state": (_sub(THREE, "a = 0.6, b = 0.4", "a = 0.6, nowhere = 0.4"), "intake.shares.nowhere: unknown state"),
    "intake off the caseload": (_sub(THREE, "a = 0.6, b = 0.4", "a = 0.6, employed = 0.4"), "intake can only assign to on-caseload states"),
    "search period level": (_add(THREE, '[intake.search_period]\nattribute = "age_band"\nlevel = "baby"\nmonths = { value = 1, source = "assumption" }\nwithdraw_share = { value = 0.1, source = "assumption" }'), "intake.search_period: unknown attribute level age_band.baby"),
    "team state unknown": (_add(THREE, TEAM.replace('states = ["a"]', 'states = ["zz"]')), "werkmatchers.team.states: unknown state 'zz'"),
    "state served twice": (_add(_add(THREE, TEAM), TEAM.replace("[werkmatchers.team]", "[werkmatchers.other]")), "'a' is already served by 'team'"),
    "leave back onto the caseload": (_sub(THREE, 'to = "intake"\nkind = "reinflow"', 'to = "out"\nkind = "leave"').replace('[states.b.transitions.up]\nto = "a"\nkind = "transfer"', '[states.b.transitions.up]\nto = "a"\nkind = "leave"'), "leave must lead from an off-caseload state"),
    "transfer off the caseload": (_sub(THREE, '[states.a.transitions.down]\nto = "b"', '[states.a.transitions.down]\nto = "employed"'), "transfer must stay on the same side of the caseload"),
    "intake only by reinflow": (_sub(THREE, '[states.a.transitions.down]\nto = "b"', '[states.a.transitions.down]\nto = "intake"'), "only a reinflow transition can lead to intake"),
    "guidance without a team": (_sub(THREE, '[states.a.transitions.training]\nto = "a"', '[states.a.transitions.training]\nrequires_guidance = true\nto = "a"'), "requires_guidance: state 'a' is served by no werkmatcher team"),
    "max stay then": (_add(THREE, '[states.b.max_stay]\nmonths = { value = 24, source = "assumption" }\nthen = "nothing"'), "states.b.max_stay.then: 'nothing' is not a transition of 'b'"),
    "max stay level": (_add(THREE, '[states.b.max_stay]\nmonths = { value = 24, source = "assumption" }\nthen = "up"\nby_attribute = { values = { "age_band.baby" = 6 }, source = "assumption" }'), "states.b.max_stay.by_attribute.age_band.baby: unknown attribute level"),
    "lever on an unknown team": (_add(THREE, '[levers.x]\ntarget = "werkmatchers.nobody.fte"\nfrom = 2021-01-01\nadd = 1\nsource = "assumption"'), "unknown werkmatcher team 'nobody'"),
    "lever on places of a state without": (_add(THREE, '[levers.x]\ntarget = "places.a"\nfrom = 2021-01-01\nadd = 1\nsource = "assumption"'), "'a' is not a state with places"),
    "monitor state": (_sub(THREE, 'states = ["a"]\nstart = 2020-01-01', 'states = ["zz"]\nstart = 2020-01-01'), "monitors.programme.states: unknown state 'zz'"),
    "monitor start mid-quarter": (_sub(THREE, 'states = ["a"]\nstart = 2020-01-01', 'states = ["a"]\nstart = 2020-02-01'), "must be the first day of a quarter"),
    "inflow covariate": (_add(THREE, "[inflow.covariates.ww]\nreference = { value = 1, source = \"assumption\" }\nelasticity = { value = 1, source = \"assumption\" }"), "inflow.covariates.ww: unknown covariate"),
    "hazard covariate": (_add(THREE, "[states.b.transitions.up.covariates.ww]\nreference = { value = 1, source = \"assumption\" }\nelasticity = { value = 1, source = \"assumption\" }"), "states.b.transitions.up.covariates.ww: unknown covariate"),
    "budget starting mid-year": (_add(_sub(THREE, "start = 2020-01-01", "start = 2020-07-01"), BUDGET), "must start on 1 January"),
    "budget without a grant": (_add(THREE, BUDGET.replace('grant = { values = { 2020-01-01 = 1_000_000 }, source = "assumption" }\n', "")), "grant and reserve_opening are required"),
    "cost without a budget": (_add(THREE, '[[states.b.costs]]\nper_month = { value = 10, source = "assumption" }\npaid_by = "municipality"'), "costs are booked in the [budget] section"),
    "a cost on no budget line": (_add(_add(THREE, BUDGET), '[[states.b.costs]]\nper_month = { value = 10, source = "assumption" }\npaid_by = "pot.nowhere"'), "'pot.nowhere' is not a budget line"),
    "priority on an unknown attribute": (_add(THREE, TEAM + '[[werkmatchers.team.priority]]\nname = "x"\nattribute = "colour"\nequals = "red"'), "unknown attribute 'colour'"),
    "priority on an unknown level": (_add(THREE, TEAM + '[[werkmatchers.team.priority]]\nname = "x"\nattribute = "age_band"\nequals = "baby"'), "'baby' is not a level of 'age_band'"),
    "priority criterion twice": (_add(THREE, TEAM + '[[werkmatchers.team.priority]]\nname = "x"\nattribute = "age_band"\nequals = "youth"\nspell_months_below = 3'), "give exactly one of"),
    "priority level without attribute": (_add(THREE, TEAM + '[[werkmatchers.team.priority]]\nname = "x"\nequals = "youth"\nspell_months_below = 3'), "attribute and equals go together"),
    "band edges out of order": (_sub(THREE, 'rate = { value = 0.015, source = "assumption" }', 'rate = { value = 0.015, source = "assumption" }\nduration_bands = { edges = [12, 6], multipliers = [1, 1, 1], source = "assumption" }'), "edges must be strictly increasing"),
    "band multipliers count": (_sub(THREE, 'rate = { value = 0.015, source = "assumption" }', 'rate = { value = 0.015, source = "assumption" }\nduration_bands = { edges = [6, 12], multipliers = [1, 1], source = "assumption" }'), "needs 3 multipliers for 2 edges"),
    "loonwaarde range": (_sub(THREE, "loonwaarde = { low = 0.5, high = 1.0", "loonwaarde = { low = 0.9, high = 0.5"), "low must be <= high"),
    "region shares": (_sub(REGION, "inflow_share = { value = 0.13", "inflow_share = { value = 0.23"), "the inflow_share values must sum to 1"),
    "region grant twice": (_sub(REGION, "[budget.i_deel]\n", '[budget.i_deel]\ngrant = { values = { 2024-01-01 = 1 }, source = "assumption" }\n'), "in a region the grants are the municipalities' own"),
    "region without an I-deel": (REGION.replace('i_deel = { grant = { values = { 2024-01-01 = 1_500_000 }, source = "assumption" }, reserve_opening = { value = 200_000, source = "assumption" } }\n', "", 1), "municipalities.small.i_deel: each municipality of a region with a [budget] needs its own I-deel"),
    "region without a cost key": (REGION.replace('cost_key = { values = { 2024-01-01 = 74 }, source = "assumption" }\n', ""), "municipalities.big.cost_key"),
    "a multiplier on an unknown municipality": (_sub(REGION, '"municipality.small" = 0.5', '"municipality.nowhere" = 0.5'), "municipality.nowhere: unknown attribute level"),
    "the municipality attribute is reserved": (_add(REGION, '[attributes.municipality]\nlevels = { values = { x = 1.0 }, source = "assumption" }'), "reserved for the municipalities of a region"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_planted_mistake_is_refused_with_its_key(name):
    text, words = CASES[name]
    with pytest.raises(ScenarioError) as caught:
        scenario_from_text(text)
    message = "\n".join(caught.value.problems)
    assert words in message, message


def test_the_unplanted_scenarios_are_valid():
    """The base texts themselves load: every failure above comes from its planted mistake."""
    for text in (THREE, REGION, _add(THREE, TEAM), _add(THREE, BUDGET)):
        scenario_from_text(text)


def test_a_lever_from_before_the_start_acts_from_the_start():
    """A variant that starts later than the scenario it extends (a forecast from today's caseload) inherits
    levers dated before its start: they load, and act on the part of their window inside the horizon."""
    from sim import compile_scenario

    lever = '[levers.x]\ntarget = "inflow"\nfrom = {}\nmultiply = 2\nsource = "assumption"'
    early = compile_scenario(scenario_from_text(_add(THREE, lever.format("2019-01-01"))))
    at_start = compile_scenario(scenario_from_text(_add(THREE, lever.format("2020-01-01"))))
    plain = compile_scenario(scenario_from_text(THREE))
    assert early.inflow == at_start.inflow
    assert early.inflow[0][1] == pytest.approx(2 * plain.inflow[0][1])
