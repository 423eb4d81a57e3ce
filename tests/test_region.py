"""The Wassenaar region (issue 11): three municipalities in one scenario, the plan's money split 74/14/12,
each municipality's own I-deel, the re-integration group's 48%, and Wassenaar's three questions as variants.

Replication counts are small (3-4) because the checks are either exact (the books, to the cent) or paired
(common random numbers: a variant differs from the plan only where it changes something); tolerances are
stated where a check is statistical.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import compile_scenario, load_scenario, run_replications, simulate
from sim.analysis.compare import comparison_table, load_arms, metric_values, paired_interval, run_arms
from sim.cli.main import main
from sim.io.tables import annual_table
from sim.model.budget_plan import SHARED_COLUMNS
from sim.model.compiled import split_whole

MUNIS = ["leidschendam_voorburg", "wassenaar", "voorschoten"]
KEY = [74, 14, 12]
VARIANTS = ["wassenaar_region_continue", "wassenaar_region_no_regional", "wassenaar_region_voorschoten_leaves"]


# -- acceptance 1 and 2: listed, valid, runs; annual.csv by municipality -----------------------------------
@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("region") / "run"
    assert main(["run", "wassenaar_region", "-r", "4", "-w", "2", "--out", str(out), "-q"]) == 0
    return out


def test_listed_and_valid(capsys):
    assert main(["scenarios"]) == 0
    listed = capsys.readouterr().out
    for name in ["wassenaar_region", *VARIANTS]:
        assert name in listed
        assert main(["validate", name]) == 0
    assert "wassenaar " not in listed  # the single-municipality scenario it replaces is gone


def test_annual_has_the_three_municipalities_and_their_totals(run_folder):
    annual = pd.read_csv(run_folder / "annual.csv")
    assert list(dict.fromkeys(annual["municipality"])) == ["total", *MUNIS]
    assert len(annual) == 4 * 10 * 4  # replications x years x (total + three)
    parts = annual[annual["municipality"] != "total"].groupby(["replication", "year"])
    total = annual[annual["municipality"] == "total"].set_index(["replication", "year"])
    for column in ("caseload_end", "exits_work", "inflow", "benefit_cost", "i_deel_result", "programme_spent"):
        assert np.allclose(parts[column].sum().sort_index(), total[column].sort_index(), atol=0.011), column
    assert (run_folder / "groups.csv").exists() and (run_folder / "charts" / "budgets.png").exists()


# -- acceptance 2: the books ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def plan_books():
    c = compile_scenario(load_scenario("wassenaar_region"))
    return c, simulate(c, seed=5, replication=0)


def test_shared_costs_split_74_14_12_to_the_cent(plan_books):
    """Every shared line (staff, instruments, programmes, and each programme) of every year is split over
    the three municipalities by the key: the parts are whole cents, add up to the ledger's total exactly,
    and each lies within one cent of its exact share (largest remainder)."""
    c, result = plan_books
    plan = c.budget
    shared = [*SHARED_COLUMNS, *(f"programme_{p.name}_spent" for p in plan.programmes)]
    total = {name: result.budget[:, plan.columns.index(name)] for name in shared}
    seen = 0
    for y, year in enumerate(plan.calendar.years):
        for name in shared:
            whole = int(total[name][y])
            parts = [int(result.budget_by_municipality[y, m, plan.municipal_columns.index(name)]) for m in range(3)]
            assert parts == split_whole(whole, KEY), (year, name)
            assert sum(parts) == whole
            assert all(abs(p - whole * k / 100) < 1 for p, k in zip(parts, KEY))
            seen += whole > 0
    assert seen >= 40  # the plan's lines from 2024, the pilot's from 2021: most of these are not empty
    # the plan's lines in 2024 as the ledger booked them (EUR): the table's 487,000 (trajectories at full
    # occupancy: 16 places x 12 x 260 = 49,920) plus the regional 120,000; staff booked per month to the cent
    y2024 = plan.calendar.years.index(2024)
    assert total["programme_spent"][y2024] == pytest.approx(100 * (95_000 + 120_000 + 32_000 + 190_000 + 49_920 + 120_000), abs=10)


def test_each_municipality_has_its_own_i_deel_and_reserve(plan_books):
    c, result = plan_books
    plan = c.budget
    col = {name: plan.municipal_columns.index(name) for name in ("i_deel_grant", "benefit_cost", "lks_cost",
                                                                  "i_deel_result", "reserve_balance")}  # fmt: skip
    own = result.budget_by_municipality
    for m, muni in enumerate(plan.municipalities):
        assert own[:, m, col["i_deel_grant"]].tolist() == list(muni.grant)
        result_m = own[:, m, col["i_deel_grant"]] - own[:, m, col["benefit_cost"]] - own[:, m, col["lks_cost"]]
        assert own[:, m, col["i_deel_result"]].tolist() == result_m.tolist()
        assert own[:, m, col["reserve_balance"]].tolist() == (muni.reserve_opening + np.cumsum(result_m)).tolist()
    # never mixed: the region's total is their sum, and the three results differ
    total = result.budget[:, plan.columns.index("i_deel_result")]
    assert total.tolist() == own[:, :, col["i_deel_result"]].sum(axis=1).tolist()
    assert len({tuple(own[:, m, col["i_deel_result"]]) for m in range(3)}) == 3


# -- acceptance 5: the 48% and the all-reason outflow ----------------------------------------------------
def test_reintegration_outflow_to_work_about_48_percent_2019_2022():
    """Exits to work from 1A-1C over their average stock (monitor 'reintegratie'), 2019-2022, 6 replications:
    within 10% of the plan's 48% (43.2-52.8%), on average and in each year. The Monte Carlo standard error
    of a year's mean is about 0.6 points, small beside the 4.8-point band."""
    scenario = load_scenario("wassenaar_region", overrides={"years": 4})
    c = compile_scenario(scenario)
    annual = annual_table(c, run_replications(scenario, seed=11, replications=6, workers=2, progress=False),
                          scenario.monitors)  # fmt: skip
    total = annual[annual["municipality"] == "total"]
    by_year = total.groupby("year")["monitor_reintegratie_pct"].mean()
    everything = total.groupby("year")["monitor_uitstroom_pct"].mean()
    print("re-integration outflow to work, % a year:", by_year.round(1).to_dict(), "mean", round(by_year.mean(), 1))
    print("all-reason outflow of the caseload, % a year:", everything.round(1).to_dict())
    assert 43.2 <= by_year.mean() <= 52.8
    assert ((by_year >= 43.2) & (by_year <= 52.8)).all()
    # every exit reason over the whole caseload: national 23-26% [divosa-benchmark-2023]; the region lands a
    # little above it because its re-integration group's 48% (a tight labour market, dedicated matchmakers)
    # is itself high; the band asserted is where it is plausible, not the national one
    assert 23 <= everything.mean() <= 30


# -- acceptance 3: Wassenaar's three questions through compare ------------------------------------------
@pytest.fixture(scope="module")
def arms():
    return run_arms(load_arms(["wassenaar_region", *VARIANTS]), seed=3, replications=4, workers=2)


def _paired(arms, key, metric, years, municipality="total"):
    base, alt = arms[0], next(a for a in arms if a.key == key)
    diff = [metric_values(alt, metric, y, municipality) - metric_values(base, metric, y, municipality) for y in years]
    return paired_interval(np.sum(diff, axis=0), np.zeros(len(diff[0])))


def test_the_variants_differ_only_from_their_change_on(arms):
    """Common random numbers: before a variant changes anything (2026 for two of them, 2024 for the regional
    money) its years are the plan's, replication by replication."""
    table = comparison_table(arms)
    for key, first in [("wassenaar_region_continue", 2026), ("wassenaar_region_no_regional", 2024),
                       ("wassenaar_region_voorschoten_leaves", 2026)]:  # fmt: skip
        rows = table[(table["scenario"] == key) & (table["year"] < first)]
        assert (rows["diff_vs_base"].dropna().abs() < 1e-9).all(), key  # NaN: ratios with no difference to divide by
        for metric in ("monitor_participatiegroep_flow", "monitor_reintegratie_pct"):
            assert not table[(table["scenario"] == key) & (table["metric"] == metric)].empty


def test_consultants_continuing_keep_the_participation_group_moving(arms):
    """Stopping the incidental consultants (the plan) costs the participation group movements in 2026-2028:
    the 'continue' variant has more, paired 95% interval above zero."""
    mean, low, high = _paired(arms, "wassenaar_region_continue", "monitor_participatiegroep_flow", [2026, 2027, 2028])
    print(f"continue vs plan, participation movements 2026-2028: {mean:+.1f} [{low:+.1f}, {high:+.1f}]")
    assert low > 0
    cost = _paired(arms, "wassenaar_region_continue", "programme_spent", [2026])[0]
    assert cost == pytest.approx(190_000, abs=1)  # two consultants at EUR 95,000


def test_no_regional_money_lowers_the_reintegration_outflow(arms):
    mean, low, high = _paired(arms, "wassenaar_region_no_regional", "monitor_reintegratie_flow", range(2024, 2029))
    print(f"no regional money vs plan, re-integration exits to work 2024-2028: {mean:+.1f} [{low:+.1f}, {high:+.1f}]")
    assert high < 0
    assert _paired(arms, "wassenaar_region_no_regional", "programme_regionaal_spent", [2025])[0] == pytest.approx(-120_000)


def test_voorschoten_leaving_resplits_the_costs_over_two(arms):
    """From 2026 Voorschoten pays no shared cost; Leidschendam-Voorburg and Wassenaar split every shared line
    74:14 to the cent, and because the teams and lines shrink by Voorschoten's 12% they pay what they paid
    in the plan (to a few cents of monthly rounding)."""
    base, leaves = arms[0].annual, next(a for a in arms if a.key == "wassenaar_region_voorschoten_leaves").annual
    lines = [c for c in leaves.columns if c.startswith("programme_") and c.endswith("_spent") and c != "programme_spent"]
    for year in range(2019, 2029):
        rows = leaves[(leaves["year"] == year) & (leaves["replication"] == 0)].set_index("municipality")
        for line in [*lines, "staff_cost", "shared_cost"]:
            total = round(rows.loc["total", line] * 100) if line != "shared_cost" else None
            parts = [round(rows.loc[m, line] * 100) for m in MUNIS]
            if total is not None:
                assert parts == split_whole(total, [74, 14, 0 if year >= 2026 else 12]), (year, line)
            if year >= 2026:
                assert parts[2] == 0, (year, line)
    old = base[(base["year"] == 2027) & (base["replication"] == 0)].set_index("municipality")
    new = leaves[(leaves["year"] == 2027) & (leaves["replication"] == 0)].set_index("municipality")
    for muni in MUNIS[:2]:
        assert new.loc[muni, "shared_cost"] == pytest.approx(old.loc[muni, "shared_cost"], abs=0.5)
    # the shared team no longer serves Voorschoten's households: its re-integration outflow falls
    mean, low, high = _paired(arms, "wassenaar_region_voorschoten_leaves", "monitor_reintegratie_flow", [2026, 2027, 2028],
                              municipality="voorschoten")  # fmt: skip
    print(f"Voorschoten leaves, its re-integration exits to work 2026-2028: {mean:+.1f} [{low:+.1f}, {high:+.1f}]")
    assert high < 0


def test_the_comparison_report_and_workbook_of_a_region(arms, tmp_path):
    """compare's files for a region: comparison.csv by municipality and total, the report and workbook (their
    charts and key figures show the region's total), and explore's band charts."""
    from sim.explore.app import band_charts
    from sim.report.comparison import write_comparison
    from sim.util.i18n import Texts

    out = write_comparison(arms, tmp_path / "compare", years_shown=[2026, 2027, 2028])
    table = pd.read_csv(out / "comparison.csv")
    assert list(dict.fromkeys(table["municipality"])) == ["total", *MUNIS]
    assert {"report.html", "comparison.xlsx", "manifest.json"} <= {p.name for p in out.iterdir()}
    assert (out / "charts" / "i_deel.png").exists()
    assert "Voorschoten leaves" in (out / "report.html").read_text()
    assert len(band_charts(arms[:2], Texts("en"))) >= 3
