"""The report's parts without a simulation: catalogues, readable parameter differences, default years."""

import datetime as dt

import pytest

from sim.model import load_scenario
from sim.report.figures import policy_years
from sim.report.params import differences
from sim.util.i18n import LANGS, Texts, catalogue, choose_lang


@pytest.fixture(scope="module")
def scenarios():
    names = ("utrecht_baseline", "werkbeweging", "corona_2020", "budget_cut", "caseload_50")
    return {n: load_scenario(n) for n in names}


def test_catalogues_have_the_same_keys_and_placeholders():
    import string

    nl, en = catalogue("nl"), catalogue("en")
    assert set(nl) == set(en), set(nl) ^ set(en)
    for key, text in en.items():
        if isinstance(text, str):
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            assert fields == {f for _, f, _, _ in string.Formatter().parse(nl[key]) if f}, key


def test_numbers_in_each_language():
    nl, en = Texts("nl"), Texts("en")
    assert nl.euro(1234567.4) == "€ 1.234.567" and en.euro(1234567.4) == "€1,234,567"
    assert nl.euro(-2500, sign=True) == "\u2212€ 2.500" and en.number(1500, sign=True) == "+1,500"
    assert nl.number(1.475, 3) == "1,475" and nl.date(dt.date(2019, 7, 1)) == "1 jul 2019"
    assert nl.years([2019, 2020, 2021]) == "2019–2021" and en.join(["a", "b", "c"]) == "a, b and c"
    assert choose_lang(None, []) == "nl" and choose_lang("en", []) == "en" and set(LANGS) == {"nl", "en"}


def test_a_lever_is_one_readable_row(scenarios):
    # werkbeweging runs during corona (it extends corona_2020): against corona_2020 only the programme differs
    section = differences(scenarios["corona_2020"], scenarios["werkbeweging"], Texts("en"))
    assert {r["parameter"].split(" › ")[-1] for r in section.values} <= {"budget", "planned spend", "planned_spend"}
    assert len(section.levers) == 5
    fte = section.levers[0]
    assert fte["target"].startswith("Werkmatchers arrangement 3: werkmatcher FTE")
    assert fte["change"] == "+15" and fte["window"] == "1 Jul 2019 to 31 Dec 2021" and "utrecht-werkbeweging-2021" in fte["source"]
    assert section.levers[2]["change"] == "× 1.08" and "Arrangement 1: Direct naar werk" in section.levers[2]["target"]


def test_only_values_that_differ(scenarios):
    t = Texts("nl")
    assert differences(scenarios["utrecht_baseline"], scenarios["utrecht_baseline"], t).empty
    cut = differences(scenarios["utrecht_baseline"], scenarios["budget_cut"], t)
    assert cut.levers == [] and len(cut.values) == 1
    assert cut.values[0]["alternative"] == "vanaf 1 jan 2015: € 600.000; vanaf 1 jan 2021: € 100.000"
    norm = differences(scenarios["utrecht_baseline"], scenarios["caseload_50"], t)
    assert {(r["base"], r["alternative"]) for r in norm.values} == {("12", "68"), ("280 clients per FTE", "50 clients per FTE")}
    assert all("value" not in r["parameter"] and "source" not in r["parameter"] for r in norm.values)


def test_policy_years(scenarios):
    base = scenarios["utrecht_baseline"]
    years = list(range(2015, 2025))
    assert policy_years(base, scenarios["werkbeweging"], years) == {2019, 2020, 2021}
    assert policy_years(base, scenarios["corona_2020"], years) == {2020, 2021}
    assert policy_years(base, scenarios["budget_cut"], years) == {2021, 2022, 2023, 2024}
    assert policy_years(base, scenarios["caseload_50"], years) == set()  # -> the last 3 years
