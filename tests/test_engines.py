"""The compiled engine against the SimPy engine (the reference): one model, the same numbers.

Both engines draw the same random numbers (``Streams`` rows, the arrival
stream, the counter-based overflow generator) and the compiled kernel repeats
the SimPy engine's arithmetic and its order of simultaneous events, so with the
same seed every output agrees replication by replication: stock and flows
(integers) exactly, person-months and the ledger's table exactly too, and so
do the outputs by municipality, by attribute level and the year-end spell
durations. That is checked for every bundled scenario, the test scenarios
(``tests/data``), two caseload extracts (one row per household; counts in
finite and open duration bands), the place configurations of
``tests/test_places.py`` and a stress scenario that drives the rare paths (a
one-slot team with always-served and tie-break rules that stops serving a
level, places that open and close mid-month and on month starts with a
maximum stay and a cost a month from a pot, refusals, households past their
row).

The task's weaker criterion is checked as well, on the same runs: every
state's mean stock and every flow's mean total per state, at three horizons,
within 3 standard errors of the difference of two means (``se = sqrt(se_a^2 +
se_b^2)``). 3 SE is the usual two-sided bound for a difference of two
independent means, a false alarm in about 1 of 370 comparisons (0.27%)
under normality. With identical runs the difference is 0; the check is there
for a future mechanism whose two implementations agree in law but not bit for
bit (it then has the power of 30 replications a side, about 0.8 SD of a
replication at 3 SE). Every model here runs on the compiled engine: none is
skipped.

Replications: 30 of the full horizon for the small models; 10 of 2 years
for those the size of Utrecht, Zwolle or the Wassenaar region (~0.3-0.5 s
each on the SimPy engine), starting where a variant's levers or budget change
(``START``). With 10 a side the 3-SE check still has the power to see a
difference of about 1.3 SD of a replication.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from sim import compile_scenario, load_scenario
from sim.engines import fast, select, simpy_engine
from sim.engines.result import Result
from sim.model.compiled import Compiled
from sim.model.loader import bundled_names
from sim.model.records import FLOWS
from sim.model.streams import Streams
from tests.conftest import DATA, ROOT, scenario_from_text
from tests.test_places import SCENARIO as PLACES_SCENARIO
from tests.test_stays_and_costs import BEHOUD as STAYS_BEHOUD
from tests.test_stays_and_costs import HEAD as STAYS_HEAD

REPLICATIONS = 30  # a side, for the small models; the large ones run LARGE_REPLICATIONS
LARGE_REPLICATIONS = 10
SEED = 20260101
HORIZONS = (6, 18, 36)  # months: stocks at their ends, flows summed up to them
# their own years, REPLICATIONS
SMALL = {"three_states", "validation_full", "stress", "places", "stays", "region", "three_states_counts"}
YEARS = 2  # the large models: two budget years reach a settlement, duration counts and the next year's pots
# a variant whose levers or budget change after two years starts where they do (a budget starts on 1 January)
START = {"corona_2020": dt.date(2020, 1, 1), "werkbeweging": dt.date(2019, 1, 1), "budget_cut": dt.date(2020, 1, 1)}

STRESS = """
name = "stress"
start = 2020-01-01
years = 4
[attributes.age_band]
levels = { values = { youth = 0.4, adult = 0.6 }, source = "test" }
[attributes.motivation]
levels = { values = { high = 0.5, low = 0.5 }, source = "test" }
[inflow]
rate = { value = 12, source = "test" }
[intake]
mean_months = { value = 0.3, source = "test" }
shares = { values = { a = 0.5, b = 0.5 }, source = "test" }
[intake.search_period]
attribute = "age_band"
level = "youth"
months = { value = 0.75, source = "test" }
withdraw_share = { value = 0.2, source = "test" }
[states.a]
label = "guided"
initial = { value = 60, source = "test" }
initial_duration_months = { value = 6, source = "test" }
loonwaarde = { low = 0.5, high = 1.0, source = "test" }
[states.a.transitions.course]
to = "a"
kind = "movement"
movement = "scholing"
rate = { value = 0.9, source = "test: many sojourns, so households run past their row" }
requires_guidance = true
[states.a.transitions.train]
to = "t"
kind = "transfer"
movement = "plaatsing"
rate = { value = 0.2, source = "test" }
duration_bands = { edges = [2, 5], multipliers = [2.0, 1.0, 0.5], source = "test" }
[states.a.transitions.work]
to = "employed"
kind = "exit_work"
rate = { value = 0.08, source = "test" }
intensity_elasticity = { value = 0.7, source = "test" }
[states.a.transitions.down]
to = "b"
kind = "transfer"
rate = { value = 0.05, source = "test" }
[states.b]
label = "guided too"
initial = { value = 60, source = "test" }
initial_duration_months = { value = 12, source = "test" }
loonwaarde = { low = 0.0, high = 0.5, source = "test" }
[states.b.transitions.train]
to = "t"
kind = "transfer"
movement = "plaatsing"
rate = { value = 0.15, source = "test" }
[states.b.transitions.up]
to = "a"
kind = "transfer"
rate = { value = 0.1, source = "test" }
[states.b.transitions.other]
to = "out"
kind = "exit_other"
rate = { value = 0.03, source = "test" }
[states.t]
label = "training place"
initial = { value = 5, source = "test" }
initial_duration_months = { value = 1, source = "test" }
places = { value = 6, source = "test" }
[states.t.max_stay]
months = { value = 2.5, source = "test: stays end at their maximum, initial stays uniform within it" }
by_attribute = { values = { "age_band.youth" = 1.5 }, source = "test" }
then = "quit"
[[states.t.costs]]
label = "trainer"
per_month = { value = 25, source = "test" }
after_months = { value = 0.5, source = "test: a cost from a pot every month, so the kernel's purses sync monthly" }
paid_by = "pot.a"
[[states.t.priority]]
name = "nieuw"
spell_months_below = 3
always = true
[[states.t.priority]]
name = "kansrijk"
loonwaarde_at_least = 0.6
[[states.t.priority]]
name = "motivatie"
attribute = "motivation"
equals = "high"
[states.t.transitions.done]
to = "a"
kind = "transfer"
rate = { value = 0.5, source = "test" }
[states.t.transitions.quit]
to = "b"
kind = "dropout"
rate = { value = 0.2, source = "test" }
[states.t.transitions.work]
to = "employed"
kind = "exit_work"
rate = { value = 0.15, source = "test: a financed household leaving for work, whose saved benefit months the fund counts" }
[states.employed]
label = "in work"
on_caseload = false
initial = { value = 10, source = "test" }
initial_duration_months = { value = 3, source = "test" }
loonwaarde = { low = 0.4, high = 0.9, source = "test" }
[states.employed.transitions.back]
to = "intake"
kind = "reinflow"
rate = { value = 0.4, source = "test: many intakes, so households run past their loonwaarde draws" }
[states.employed.transitions.gone]
to = "out"
kind = "leave"
rate = { value = 0.01, source = "test" }
[werkmatchers.team]
states = ["a", "b"]
fte = { value = 1, source = "test" }
caseload_norm = { value = 40, source = "test" }
contacts_per_fte_month = { value = 20, source = "test" }
reference_contacts_per_client_month = { value = 0.5, source = "test" }
unguided_contacts_per_client_month = { value = 0.1, source = "test" }
tie_break = "any"
cost_per_fte_year = { value = 60_000, source = "test" }
stops_serving = { values = { "motivation.low" = 2022-07-01 }, source = "test: slots held and waited for are given up" }
[[werkmatchers.team.priority]]
name = "jongeren"
attribute = "age_band"
equals = "youth"
always = true
[[werkmatchers.team.priority]]
name = "nieuw"
spell_months_below = 2
[[werkmatchers.team.priority]]
name = "motivatie"
attribute = "motivation"
equals = "high"
[levers.more_places]
target = "places.t"
from = 2021-03-01
to = 2021-09-16
add = 10
source = "test: opens on a month start, closes mid-month"
[levers.fewer_staff]
target = "werkmatchers.team.fte"
from = 2022-01-01
multiply = 0.5
source = "test: capacity falls on a year end"
[levers.shock]
target = "hazard.*.work"
from = 2020-07-10
to = 2021-02-01
multiply = 0.4
source = "test"
[budget.i_deel]
grant = { values = { 2020-01-01 = 1_500_000 }, source = "test" }
monthly_benefit = { values = { 2020-01-01 = 1270 }, source = "test" }
reserve_opening = { value = 0, source = "test" }
[budget.lks]
state = "employed"
minimum_wage_month = { values = { 2020-01-01 = 1653.60 }, source = "test" }
hours_share = { values = { 2020-01-01 = 0.8 }, source = "test" }
loonwaarde_rise_max = { value = 0.05, source = "test" }
loonwaarde_cap = { value = 1.0, source = "test" }
[budget.participatiebudget]
grant = { values = { 2020-01-01 = 100_000 }, source = "test" }
wsw = { opening_amount = { value = 20_000, source = "test" }, attrition_per_year = { value = 0.05, source = "test" } }
[budget.participatiebudget.pots.b]
amount = { values = { 2020-01-01 = 3_000 }, source = "test: runs out, so starts are refused" }
pays = ["b.train"]
unit_cost = { value = 200, source = "test" }
[budget.participatiebudget.pots.a]
amount = { values = { 2020-01-01 = 3_000 }, source = "test" }
unit_cost = { value = 100, source = "test" }
[budget.revolving_fund]
opening_balance = { value = 1_000, source = "test" }
topup_share = { value = 0.5, source = "test" }
unit_cost = { value = 100, source = "test" }
pays = ["a.train"]
fallback_pot = "a"
counterfactual = "a.work"
"""


# tests/test_places.py's scenario (an intake assignment into a state with places; a state leading into two),
# with first-come-first-served places in p for everyone but the always-served youngest spells
PLACES = PLACES_SCENARIO.replace(
    '[states.p.transitions.done]',
    'tie_break = "fifo"\n[[states.p.priority]]\nname = "nieuw"\nspell_months_below = 0.2\nalways = true\n'
    '[[states.p.priority]]\nname = "kansrijk"\nloonwaarde_at_least = 0.5\n[states.p.transitions.done]',
)
# caseload extracts: Utrecht's example (one row per household) and counts in finite and open duration bands
EXTRACTS = {"utrecht_extract": ("utrecht_baseline", DATA / "caseload_example.csv"),
            "three_states_counts": (DATA / "three_states.toml", DATA / "caseload_three_states.csv")}  # fmt: skip


# tests/test_stays_and_costs.py's maximum stay and cost a month, with an immediate intake into the costed state
STAYS = STAYS_HEAD.format(years=3, inflow=20) + STAYS_BEHOUD
TEXTS = {"stress": STRESS, "places": PLACES, "stays": STAYS}


def _scenarios() -> list[str]:
    return [*bundled_names(), "three_states", "validation_full", "region", *EXTRACTS, *TEXTS]


def _compiled(name: str):
    if name in TEXTS:
        return compile_scenario(scenario_from_text(TEXTS[name]))
    if name in ("three_states", "validation_full", "region"):
        return compile_scenario(load_scenario(DATA / f"{name}.toml"))
    if name in EXTRACTS:
        scenario, extract = EXTRACTS[name]
        overrides = None if name in SMALL else {"years": YEARS}
        return compile_scenario(load_scenario(scenario, overrides=overrides, caseload=extract))
    overrides = {"years": YEARS} | ({"start": START[name]} if name in START else {})
    return compile_scenario(load_scenario(name, overrides=overrides))


_runs: dict[str, tuple] = {}


def runs(name: str):
    """(compiled, SimPy results, compiled-engine results) of ``name``."""
    if name not in _runs:
        c = _compiled(name)
        assert fast.unsupported(c) == [], name  # the compiled engine runs every model: none is skipped
        n = REPLICATIONS if name in SMALL else LARGE_REPLICATIONS
        reference = [simpy_engine.simulate(c, SEED, r) for r in range(n)]
        compiled = [fast.simulate(c, SEED, r) for r in range(n)]
        _runs[name] = (c, reference, compiled)
    return _runs[name]


# every array and number of a Result but the wall time and the event log (the compiled engine keeps none)
FIELDS = [f.name for f in dataclasses.fields(Result) if f.name not in ("wall_seconds", "events")]


@pytest.mark.parametrize("name", _scenarios())
def test_the_engines_agree(name):
    """Identical outputs with the same seed; and, weaker, means within 3 SE (one test: the runs are shared)."""
    c, reference, compiled = runs(name)
    for a, b in zip(reference, compiled):
        for field in FIELDS:
            x, y = getattr(a, field), getattr(b, field)
            assert (x is None) == (y is None), f"{field} in replication {a.replication}"
            if isinstance(x, np.ndarray):
                assert x.dtype == y.dtype and np.array_equal(x, y), f"{field} differs in replication {a.replication}"
            else:
                assert x == y, f"{field} differs in replication {a.replication}"
    problems = _beyond_3_se(c, reference, compiled)
    assert not problems, "\n".join(problems)


def test_every_output_is_compared():
    """The bundled region has outputs by municipality, by group, durations and a budget: all in FIELDS, all set."""
    _, reference, _ = runs("wassenaar_region")
    assert all(getattr(reference[0], field) is not None for field in FIELDS)


def _beyond_3_se(c, reference, compiled) -> list[str]:
    """Every state's stock and every (state, flow) total, at HORIZONS, whose means differ by more than 3 SE."""
    problems = []
    for month in (m for m in HORIZONS if m <= c.n_months):
        for what in ("stock", "flows"):
            a, b = (np.stack([r.stock[month - 1] if what == "stock" else r.flows[:month].sum(axis=0) for r in runs])
                    .astype(float) for runs in (reference, compiled))  # fmt: skip
            se = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
            gap = np.abs(a.mean(axis=0) - b.mean(axis=0))
            for idx in zip(*np.nonzero(gap > 3 * np.maximum(se, 1e-9))):
                label = c.states[idx[0]].name + (f" {FLOWS[idx[1]]}" if what == "flows" else "")
                problems.append(f"{what} {label} to month {month}: {a.mean(0)[idx]:.2f} vs {b.mean(0)[idx]:.2f}")
    return problems


def test_the_stress_scenario_reaches_the_rare_paths(monkeypatch):
    c, reference, _ = runs("stress")
    totals = np.stack([r.flows.sum(axis=(0, 1)) for r in reference]).sum(axis=0)
    for flow in ("guidance_waits", "place_waits", "refused", "withdrawn", "reinflow"):
        assert totals[FLOWS.index(flow)] > 0, flow
    overflowing, barred = [], []
    real, real_barred = Streams.overflow, simpy_engine.Model._barred
    monkeypatch.setattr(Streams, "overflow", lambda self, p, n: overflowing.append(n) or real(self, p, n))
    monkeypatch.setattr(simpy_engine.Model, "_barred",
                        lambda self, cl, team: barred.append(cl.slot is not None) or real_barred(self, cl, team))  # fmt: skip
    result = simpy_engine.simulate(c, SEED, 0, log_events=True)
    assert len(overflowing) > 10  # households went past their row (7th sojourn, 5th intake)
    assert sum(barred) > 0  # households the team stopped serving gave up a slot they held or waited for
    # stays in t ending at their maximum (2.5 months, 1.5 for youth) rather than by a clock
    entered = {}
    ended = []
    for ev in result.events:
        if ev.to_state == "t" and ev.state != "t":
            entered[ev.client] = ev.time
        elif ev.state == "t" and ev.transition == "quit" and ev.client in entered:
            ended.append(round(ev.time - entered.pop(ev.client), 9))
    assert ended.count(2.5) > 5 and ended.count(1.5) > 5
    assert max(ended) <= 2.5
    # the monthly cost from pot a drains it: starts it pays for are refused
    assert any(ev.kind == "refused" and ev.state == "a" for ev in result.events)


def test_the_kernel_needs_the_ledger_every_month_when_a_pot_pays_monthly(monkeypatch):
    """The ledger books the stress scenario's cost a month on pot a at every month end; the kernel decides
    starts on its copy of the pot, so the driver must book and sync it monthly, not only at year ends:
    without that the kernel pays from a balance the ledger no longer has, and the budget comes out wrong."""
    from sim.engines import fast_model

    _, reference, _ = runs("stress")
    build = fast_model._build
    monkeypatch.setattr(fast_model, "_build", lambda c: build(c)._replace(sync_monthly=False))
    c = _compiled("stress")  # a new model: its kernel view is built with the patch
    differ = [not np.array_equal(fast.simulate(c, SEED, r).budget, reference[r].budget) for r in range(REPLICATIONS)]
    assert any(differ)


@pytest.mark.parametrize("name", ["utrecht_baseline", "stays"])
def test_booking_the_ledger_every_month_changes_nothing(monkeypatch, name):
    """The kernel stops for the ledger at year ends only where no pot is paid monthly; stopping at every month
    end instead (the driver books one month at a time, taking the purses and the fund's savings each time) gives
    the same budget, so what the kernel hands over does not depend on when it is taken."""
    from sim.engines import fast_model

    _, reference, _ = runs(name)
    build = fast_model._build
    monkeypatch.setattr(fast_model, "_build", lambda c: build(c)._replace(sync_monthly=True))
    c = _compiled(name)
    assert not build(c).sync_monthly  # the scenario's own kernel stops at year ends only
    for r in range(2):
        assert np.array_equal(fast.simulate(c, SEED, r).budget, reference[r].budget)


def test_the_places_scenario_gives_up_one_place_for_another(monkeypatch):
    """A household waiting for a place in p that asks for one in r gives up the first (its ticket, granted
    or not, wakes the next in line): the path the compiled engine copies."""
    c, _, _ = runs("places")
    left = []
    real = simpy_engine.Model._leave_place_queue
    monkeypatch.setattr(simpy_engine.Model, "_leave_place_queue", lambda self, cl: left.append(cl.state) or real(self, cl))
    simpy_engine.simulate(c, SEED, 0)
    assert c.index("q") in left


def test_auto_falls_back_to_simpy_and_says_why(monkeypatch):
    c = _compiled("three_states")
    assert select.choose(c).kernel == "compiled"
    assert select.choose(c, log_events=True) == ("simpy", "an event log is kept by the SimPy engine only")
    with pytest.raises(ValueError, match="event logs"):
        select.choose(c, "compiled", log_events=True)
    with pytest.raises(ValueError, match="unknown kernel"):
        select.choose(c, "fast")
    # a mechanism the kernel does not run yet (a new name in Compiled.features): auto falls back, compiled refuses
    monkeypatch.setattr(Compiled, "features", property(lambda self: frozenset({"attributes", "a_new_mechanism"})))
    choice = select.choose(c)
    assert choice.kernel == "simpy" and "a_new_mechanism" in choice.reason
    with pytest.raises(ValueError, match="a_new_mechanism"):
        select.choose(c, "compiled")
    assert select.simulate(c, 1, 0).stock.shape == (c.n_months, len(c.states))  # ran on SimPy


# models that together reach the kernel's mechanisms and paths (stress: most; places: both place configurations;
# stays: an immediate intake into a costed state; region: municipalities and fixed levels; three_states_counts:
# the duration ranges of an extract; the Wassenaar variant: a region whose team stops serving a municipality)
INTERPRETED = ("stress", "places", "stays", "region", "three_states_counts", "wassenaar_region_voorschoten_leaves")


def test_the_kernel_as_plain_python_gives_the_same_outputs():
    """With ``NUMBA_DISABLE_JIT=1`` (in a process of its own) the kernel is plain Python: the same outputs as the
    SimPy engine, and coverage measures the kernel modules' lines in that process (pyproject.toml's
    subprocess patch), which it cannot do inside compiled code."""
    env = os.environ | {"NUMBA_DISABLE_JIT": "1"}
    done = subprocess.run([sys.executable, "-m", "tests.kernel_as_python", *INTERPRETED], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the same outputs" in done.stdout


def test_the_overflow_generator_is_the_same_in_numba_and_python():
    from sim.engines.fast_random import client_key, exponential, uniform
    from sim.model.streams import CounterRandom, overflow_base
    from sim.model.streams import client_key as py_key

    rng = np.random.default_rng(1)
    for seed in (0, 1, 2**63 + 5, 2**100 + 7):
        for replication, population, number in rng.integers(0, 10**6, size=(50, 3)).tolist():
            base = overflow_base(seed, replication)
            key = py_key(base, population, number)
            assert key == int(client_key(np.uint64(base), population, number))
            draws = CounterRandom(key)
            for count in range(1, 7):
                expected = uniform(np.uint64(key), count) if count % 2 else exponential(np.uint64(key), count)
                assert (draws.random() if count % 2 else draws.exponentials(1)[0]) == expected
            assert draws.exponentials(3) == [exponential(np.uint64(key), count) for count in (7, 8, 9)]  # in one call


def test_numba_computes_logarithms_as_python_does():
    """Clocks past the row are -log1p(-u) and initial spells log(1 - u) in both engines: the same C library."""
    from numba import njit

    @njit
    def logs(u):
        out = np.empty((2, u.size))
        for i in range(u.size):
            out[0, i] = -math.log1p(-u[i])
            out[1, i] = math.log(1.0 - u[i])
        return out

    u = np.random.default_rng(2).random(200_000)
    got = logs(u)
    assert got[0].tolist() == [-math.log1p(-x) for x in u.tolist()]
    assert got[1].tolist() == [math.log(1.0 - x) for x in u.tolist()]
