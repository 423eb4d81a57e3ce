"""Maximum stays, costs per month in a state, staff costs and rationing rules: exact event logs and cents.

Each case is small enough to compute by hand; the expected values are in the docstrings.
"""

from __future__ import annotations

import pytest

from sim import ScenarioError, compile_scenario, simulate
from sim.model.compiled import TIE_ANY, TIE_FIFO, TIE_ORDERED, Priority, Rule, priority_score

from .conftest import scenario_from_text

HEAD = """
name = "stays and costs"
start = 2015-01-01
years = {years}
[attributes.age_band]
levels = {{ values = {{ youth = 0.3, adult = 0.7 }}, source = "assumption" }}
[inflow]
rate = {{ value = {inflow}, source = "assumption" }}
[intake]
mean_months = {{ value = 0, source = "assumption" }}
shares = {{ values = {{ behoud = 1.0 }}, source = "assumption" }}
[budget.i_deel]
grant = {{ values = {{ 2015-01-01 = 0 }}, source = "assumption" }}
monthly_benefit = {{ values = {{ 2015-01-01 = 1000 }}, source = "assumption" }}
reserve_opening = {{ value = 0, source = "assumption" }}
[budget.programmes.extra]
budget = {{ values = {{ 2015-01-01 = 1_000_000 }}, source = "assumption" }}
planned_spend = {{ values = {{ 2015-01-01 = 0 }}, source = "assumption" }}
"""

BEHOUD = """
[states.behoud]
label = "work with retention of benefit"
initial = { value = 0, source = "assumption" }
[states.behoud.max_stay]
months = { value = 24, source = "assumption" }
by_attribute = { values = { "age_band.youth" = 6 }, source = "assumption" }
then = "no_progress"
[[states.behoud.costs]]
label = "premium"
per_month = { value = 50, source = "assumption" }
after_months = { value = 6, source = "assumption" }
paid_by = "programme.extra"
[states.behoud.transitions.no_progress]
to = "participation"
kind = "transfer"
rate = { value = 0, source = "assumption: only when the stay runs out" }
[states.behoud.transitions.work]
to = "out"
kind = "exit_work"
rate = { value = 0.01, source = "assumption" }
[states.participation]
label = "participation"
initial = { value = 0, source = "assumption" }
"""


def test_a_stay_ends_at_its_maximum_and_youth_at_six_months():
    """Every household that does not find work leaves 'behoud' exactly 24 months after it came (6 for youth)."""
    scenario = scenario_from_text(HEAD.format(years=4, inflow=20) + BEHOUD)
    c = compile_scenario(scenario)
    youth = c.attributes.levels[0].index("youth")
    result = simulate(c, seed=4, replication=0, log_events=True)
    arrived = {ev.client: ev.time for ev in result.events if ev.kind == "arrival" and ev.transition == "arrival"}
    forced = [(ev.client, ev.time) for ev in result.events if ev.transition == "no_progress"]
    from sim.engines.simpy_engine import Model

    model = Model(c, seed=4, replication=0)
    stays = {}
    for client, t in forced:
        is_youth = model._new_client(2, client - 1_000_000_000).levels[0] == youth
        stays.setdefault(is_youth, []).append(t - arrived[client])
    assert len(stays[True]) > 20 and len(stays[False]) > 20
    assert stays[True] == pytest.approx([6.0] * len(stays[True]), abs=1e-9)
    assert stays[False] == pytest.approx([24.0] * len(stays[False]), abs=1e-9)
    # nobody stays longer than the limit
    work = [ev for ev in result.events if ev.transition == "work"]
    assert all(ev.time - arrived[ev.client] <= 24.0 + 1e-9 for ev in work)


def test_cost_per_month_after_six_months_of_the_stay():
    """One adult from 1 January 2015, no work hazard: the premium of EUR 50 a month runs from month 6
    to month 24 when the stay ends: 2015: 6 x 50 = 300.00; 2016: 12 x 50 = 600.00; 2017: 0."""
    text = (HEAD.format(years=3, inflow=0) + BEHOUD).replace(
        'initial = { value = 0, source = "assumption" }\n[states.behoud.max_stay]',
        'initial = { value = 1, source = "assumption" }\ninitial_duration_months = { value = 1, source = "assumption" }\n'
        "[states.behoud.max_stay]",
    ).replace('rate = { value = 0.01, source = "assumption" }', 'rate = { value = 0, source = "assumption" }')
    text = text.replace('levels = { values = { youth = 0.3, adult = 0.7 }', 'levels = { values = { youth = 0.0, adult = 1.0 }')
    c = compile_scenario(scenario_from_text(text))
    result = simulate(c, seed=1, replication=0, log_events=True)
    col = c.budget.columns
    # an initial household's stay so far is drawn uniformly within the maximum: read it from the log
    left = next(ev.time for ev in result.events if ev.transition == "no_progress")
    entered = left - 24.0
    expected = []
    for year in range(3):
        begin, end = max(entered + 6.0, 12.0 * year), min(left, 12.0 * (year + 1))
        expected.append(round(50 * max(0.0, end - begin) * 100))
    assert result.budget[:, col.index("instrument_cost")].tolist() == pytest.approx(expected, abs=1 * 12)  # cents rounded monthly
    assert result.budget[:, col.index("programme_spent")].tolist() == result.budget[:, col.index("instrument_cost")].tolist()


STAFF = """
[states.behoud]
label = "a state served by the team"
initial = { value = 0, source = "assumption" }
[werkmatchers.team]
states = ["behoud"]
fte = { value = 10, source = "assumption" }
caseload_norm = { value = 50, source = "assumption" }
contacts_per_fte_month = { value = 40, source = "assumption" }
reference_contacts_per_client_month = { value = 0.8, source = "assumption" }
unguided_contacts_per_client_month = { value = 0.1, source = "assumption" }
cost_per_fte_year = { value = 90_000, source = "assumption" }
[levers.plus_five]
target = "werkmatchers.team.fte"
from = 2015-07-01
to = 2016-07-01
add = 5
paid_by = "programme.extra"
source = "assumption"
"""


def test_staff_cost_and_the_fte_a_lever_adds():
    """10 FTE at EUR 90,000 a year = 900,000.00 a year from the municipality; +5 FTE from 1 July 2015 to
    1 July 2016 paid by the programme: 2015 5 x 90,000 / 2 = 225,000.00, 2016 the same."""
    c = compile_scenario(scenario_from_text(HEAD.format(years=2, inflow=0) + STAFF))
    result = simulate(c, seed=1, replication=0)
    t = dict(zip(c.budget.columns, result.budget.T.tolist()))
    assert t["staff_cost"] == [112_500_000, 112_500_000]
    assert t["municipality_cost"] == [90_000_000, 90_000_000]
    assert t["programme_spent"] == [22_500_000, 22_500_000]
    assert t["programme_overspent"] == [0, 0]


@pytest.mark.parametrize(("bad", "words"), [
    ('paid_by = "programme.extra"\nsource', "levers.plus_five.paid_by"),
    ('paid_by = "pot.nowhere"', "werkmatchers.team.paid_by: 'pot.nowhere' is not a budget line"),
])  # fmt: skip
def test_budget_lines_are_checked(bad, words):
    text = HEAD.format(years=1, inflow=0) + STAFF
    if bad.startswith("paid_by = \"pot"):
        text = text.replace('cost_per_fte_year = { value = 90_000, source = "assumption" }',
                            'cost_per_fte_year = { value = 90_000, source = "assumption" }\n' + bad)  # fmt: skip
    else:
        text = text.replace('target = "werkmatchers.team.fte"', 'target = "werkmatchers.team.caseload_norm"')
    with pytest.raises(ScenarioError, match=words.replace(".", r"\.")):
        scenario_from_text(text)


def _priority(tie: int, always: tuple[bool, ...]) -> Priority:
    names = ("nieuw", "jongeren", "kansrijk", "motivatie")
    return Priority(tuple(Rule(n, 0, 0, 0, 0.0, a) for n, a in zip(names, always)), tie)


def test_rationing_rules():
    """Utrecht's rules: new inflow and youth always served; kansrijk and motivatie in no order.

    Always-served clients go first. With tie-break 'any' a client meeting kansrijk or motivatie goes
    before one meeting neither (within the always-served too), and
    kansrijk does not outrank motivatie; 'fifo' ignores them; 'ordered' without always-rules is the
    lexicographic rank of earlier versions."""
    always = (True, True, False, False)
    score = lambda tie, hits: priority_score(_priority(tie, always), list(hits))  # noqa: E731
    assert score(TIE_ANY, (1, 0, 0, 0)) == score(TIE_ANY, (0, 1, 0, 0)) < score(TIE_ANY, (0, 0, 1, 1))
    assert score(TIE_ANY, (0, 1, 1, 0)) < score(TIE_ANY, (1, 0, 0, 0))  # within the always-served, the others still count
    assert score(TIE_ANY, (0, 0, 1, 0)) == score(TIE_ANY, (0, 0, 0, 1)) == score(TIE_ANY, (0, 0, 1, 1))
    assert score(TIE_ANY, (0, 0, 1, 0)) < score(TIE_ANY, (0, 0, 0, 0))
    assert score(TIE_FIFO, (0, 0, 1, 0)) == score(TIE_FIFO, (0, 0, 0, 0)) > score(TIE_FIFO, (0, 1, 0, 0))
    assert score(TIE_ORDERED, (1, 0, 0, 0)) < score(TIE_ORDERED, (0, 0, 1, 1)) < score(TIE_ORDERED, (0, 0, 1, 0))
    lexicographic = _priority(TIE_ORDERED, (False,) * 4)
    assert priority_score(lexicographic, [0, 1, 1, 1]) == -7 and priority_score(lexicographic, [1, 0, 0, 0]) == -8
