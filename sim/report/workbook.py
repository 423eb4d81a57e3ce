"""``comparison.xlsx``: a workbook finance staff can use as it is.

One sheet per purpose (summary, I-deel and budgets by year, caseload and flows
by year, P(deficit), the monitor, parameter differences, all figures, metadata),
each with a title row that names its unit, a frozen bold header row with an
autofilter, numbers stored as numbers with a euro or thousands format, and
every text that Excel could read as a formula (``=``, ``+``, ``-``, ``@``, tab,
carriage return) stored as text: a scenario's ``source`` or ``description`` is
user input and must never become a live formula (CSV/formula injection).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from sim import __version__
from sim.analysis.compare import Arm
from sim.io.tables import deficit_probability
from sim.model.budget_plan import BASE_COLUMNS, is_count
from sim.report.figures import Row, with_derived
from sim.report.html import uncertainty_note
from sim.report.params import Section

EURO = '"€" #,##0;[Red]"€" -#,##0'
COUNT = "#,##0"
DECIMAL = "#,##0.0"
SHARE = "0.0%"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
MAX_SHEET = 31
FLOW_COLUMNS = ("caseload_end", "caseload_mean", "inflow", "exits_work", "exits_other", "movements", "plaatsing",
                "scholing", "deeltijdwerk", "uitstroom", "reinflow", "refused", "guidance_waits", "place_waits")  # fmt: skip


def sheet_name(title: str, used: set[str]) -> str:
    """A valid, unique sheet name (Excel: at most 31 characters, no ``[]:*?/\\``)."""
    clean = re.sub(r"[\[\]:*?/\\]", " ", title).strip() or "Sheet"
    name, i = clean[:MAX_SHEET], 1
    while name.lower() in {u.lower() for u in used}:
        i += 1
        suffix = f" ({i})"
        name = clean[: MAX_SHEET - len(suffix)] + suffix
    used.add(name)
    return name


def put(ws, row: int, col: int, value, number_format: str | None = None):
    """Write one cell; text that could start a formula is stored as text."""
    if isinstance(value, float) and value != value:  # NaN: an empty cell, not the text "nan"
        value = None
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = value
        if value.startswith(FORMULA_START):
            cell.data_type = "s"  # openpyxl would otherwise store '=...' as a formula
            cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
    else:
        cell.value = value.item() if hasattr(value, "item") else value
    if number_format and isinstance(cell.value, int | float):
        cell.number_format = number_format
    return cell


def table_sheet(wb, used: set[str], title: str, heading: str, header: list[str], rows: list[list],
                formats: list[str | None] | None = None) -> None:  # fmt: skip
    """A sheet: a title row, a frozen bold header row with an autofilter, then ``rows``."""
    ws = wb.create_sheet(sheet_name(title, used))
    put(ws, 1, 1, heading).font = Font(bold=True, size=12)
    for j, text in enumerate(header, start=1):
        cell = put(ws, 2, j, text)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, values in enumerate(rows, start=3):
        for j, value in enumerate(values, start=1):
            fmt = formats[j - 1] if formats and j - 1 < len(formats) else None
            put(ws, i, j, value, fmt if not isinstance(fmt, list) else fmt[i - 3])
    ws.freeze_panes = "A3"
    if rows:
        ws.auto_filter.ref = f"A2:{get_column_letter(len(header))}{len(rows) + 2}"
    for j, text in enumerate(header, start=1):
        longest = max([len(str(text)) // 2 + 2] + [len(_shown(r[j - 1])) for r in rows[:300] if j - 1 < len(r)])
        ws.column_dimensions[get_column_letter(j)].width = min(70, max(10, longest + 2))


def write_workbook(path: Path, arms: list[Arm], rows: list[Row], sections: list[Section], comparison: pd.DataFrame,
                   monitors: dict[str, pd.DataFrame], t, meta: dict) -> None:  # fmt: skip
    """Write ``comparison.xlsx`` (see the module docstring for its sheets)."""
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()
    labels = [a.scenario.name for a in arms]
    n = arms[0].caseload.shape[0]
    _summary(wb, used, arms, rows, t)
    years = sorted(int(y) for y in arms[0].annual["year"].unique())
    money = [c for c in ("i_deel_grant", "benefit_cost", "lks_cost", "i_deel_cost", "i_deel_result",
                         "reserve_balance", "reserve_uncovered", "fund_topup", "revolving_fund_balance",
                         "revolving_fund_spent", "participatiebudget_grant", "participatiebudget_spent",
                         "staff_cost", "programme_budget", "programme_spent")
             if all(c in with_derived(a.annual) for a in arms)]  # fmt: skip
    money += [c for c in arms[0].annual.columns
              if c not in money and c in _ledger_money(arms[0].annual) and all(c in a.annual for a in arms)]  # fmt: skip
    if money:
        table_sheet(wb, used, t("workbook.ideel"), f"{t('workbook.ideel')}: {t('workbook.mean')}, "
                    f"{t('workbook.eur_year')} ({n} {t('workbook.replications').lower()})",
                    [t("workbook.scenario"), t("workbook.measure"), t("workbook.unit"), *map(str, years)],
                    _wide(arms, money, years, t, t("workbook.eur_year")), [None, None, None, *[EURO] * len(years)])  # fmt: skip
    flows = [c for c in FLOW_COLUMNS if all(c in a.annual for a in arms)]
    flows += [c for c in arms[0].annual.columns if c.startswith("stock_") and all(c in a.annual for a in arms)]
    table_sheet(wb, used, t("workbook.caseload"), f"{t('workbook.caseload')}: {t('workbook.mean')} "
                f"({n} {t('workbook.replications').lower()})",
                [t("workbook.scenario"), t("workbook.measure"), t("workbook.unit"), *map(str, years)],
                _wide(arms, flows, years, t, None), [None, None, None, *[DECIMAL] * len(years)])  # fmt: skip
    if all("i_deel_result" in a.annual for a in arms):
        risk = []
        for label, arm in zip(labels, arms):
            for r in deficit_probability(arm.annual).itertuples():
                risk.append([label, int(r.year), r.mean, r.p5, r.p95, int(r.n)])
        table_sheet(wb, used, t("workbook.deficit"), t("report.footnote_deficit", n=n),
                    [t("workbook.scenario"), t("workbook.year"), f"{t('workbook.p_deficit')} ({t('workbook.share')})",
                     t("workbook.p_low"), t("workbook.p_high"), t("workbook.replications")], risk,
                    [None, None, SHARE, SHARE, SHARE, COUNT])  # fmt: skip
    if monitors:
        mon = [[next(a.scenario.name for a in arms if a.key == k), *r] for k, f in monitors.items()
               for r in f[["quarter", "movements", "cumulative", "cumulative_p5", "cumulative_p95",
                           "cumulative_base", "cumulative_target"]].itertuples(index=False)]  # fmt: skip
        table_sheet(wb, used, t("workbook.monitor"), t("chart.monitor_axis"),
                    [t("workbook.scenario"), t("workbook.quarter"), "movements", "cumulative", "cumulative p5",
                     "cumulative p95", "cumulative base", "cumulative target"], mon,
                    [None, None, *[DECIMAL] * 6])  # fmt: skip
    _parameters(wb, used, sections, t)
    data = comparison.assign(label=comparison["scenario"].map({a.key: a.scenario.name for a in arms}))
    table_sheet(wb, used, t("workbook.data"), t("report.footnote_intervals", n=n),
                [t("workbook.measure"), t("workbook.year"), t("workbook.scenario"), t("workbook.mean"),
                 t("workbook.difference"), t("workbook.ci_low"), t("workbook.ci_high")],
                data[["metric", "year", "label", "mean", "diff_vs_base", "diff_ci_low", "diff_ci_high"]]
                .values.tolist(),
                [None, None, None, DECIMAL, DECIMAL, DECIMAL, DECIMAL])  # fmt: skip
    _metadata(wb, used, arms, t, meta)
    wb.save(path)


def _summary(wb, used, arms: list[Arm], rows: list[Row], t) -> None:
    labels = [a.scenario.name for a in arms]
    header = [t("workbook.year"), t("workbook.measure"), t("workbook.unit"), *labels]
    for label in labels[1:]:
        header += [f"{t('workbook.difference')}: {label}", t("workbook.ci_low"), t("workbook.ci_high")]
    out, formats = [], []
    for row in rows:
        fmt = {"eur": EURO, "eur_per_exit": EURO, "share": SHARE}.get(row.unit, COUNT)
        unit = {"eur": t("workbook.eur_year"), "eur_per_exit": t("workbook.eur"), "share": t("workbook.share"),
                }.get(row.unit, t("workbook.households") if row.measure == "caseload_end" else t("workbook.per_year"))  # fmt: skip
        values = [row.year, t(f"measure.{row.measure}"), unit, *[f.mean if f else None for f in row.figures]]
        for f in row.figures[1:]:
            shows_diff = f is not None and f.diff is not None
            values += [f.diff, f.low, f.high] if shows_diff else [None, None, None]
        out.append(values)
        formats.append(fmt)
    ws_rows = out
    table_sheet(wb, used, t("workbook.summary"), t("report.key_figures"), header, ws_rows,
                [None, None, None] + [formats] * (len(header) - 3))  # fmt: skip


def _wide(arms: list[Arm], columns: list[str], years: list[int], t, unit: str | None) -> list[list]:
    rows = []
    for arm in arms:
        table = with_derived(arm.annual)
        means = table.groupby("year")[columns].mean()
        for c in columns:
            name = column_label(c, t)
            u = unit or (t("workbook.households") if c.startswith(("caseload", "stock_")) else t("workbook.per_year"))
            rows.append([arm.scenario.name, name, u, *[float(means.loc[y, c]) for y in years]])
    return rows


def column_label(column: str, t) -> str:
    """A reader's label for an ``annual.csv`` column (the column name itself where there is none)."""
    for section in ("measure", "column"):
        if t.has(f"{section}.{column}"):
            return t(f"{section}.{column}")
    if column.startswith("stock_"):
        return t("column.stock", state=column.removeprefix("stock_"))
    for what in ("allocated", "spent"):
        if column.startswith("pot_") and column.endswith(f"_{what}"):
            return t(f"column.pot_{what}", name=column[4 : -len(what) - 1])
    for what in ("budget", "spent", "carry_over"):
        if column.startswith("programme_") and column.endswith(f"_{what}"):
            return t(f"column.programme_{what}_of", name=column[10 : -len(what) - 1])
    return column


def _ledger_money(annual: pd.DataFrame) -> list[str]:
    pots = [c for c in annual.columns if c.startswith("pot_")]
    return [c for c in (*BASE_COLUMNS, *pots) if c in annual and not is_count(c)]


def _parameters(wb, used, sections: list[Section], t) -> None:
    rows = []
    for s in sections:
        for lever in s.levers:
            rows.append([s.label, lever["target"], "", lever["change"], lever["window"], lever["source"]])
        for v in s.values:
            rows.append([s.label, v["parameter"], v["base"], v["alternative"], "", v["source"]])
    table_sheet(wb, used, t("workbook.parameters"), t("report.parameters"),
                [t("workbook.scenario"), t("workbook.parameter"), t("report.base"), t("workbook.change"),
                 t("workbook.window"), t("workbook.source")], rows)  # fmt: skip


def _metadata(wb, used, arms: list[Arm], t, meta: dict) -> None:
    rows = [
        [t("workbook.meta_base"), arms[0].scenario.name],
        [t("workbook.meta_seed"), meta["seed"]],
        [t("workbook.meta_replications"), meta["replications"]],
        [t("workbook.meta_crn"), t("workbook.yes") if meta["common_random_numbers"] else t("workbook.no")],
        [t("workbook.meta_version"), __version__],
        [t("workbook.meta_date"), meta.get("created") or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")],
        [t("workbook.meta_language"), t.lang],
        [t("workbook.meta_band_sheets"), t("workbook.meta_band_text")],
        [t("workbook.meta_band_sheets"), uncertainty_note(arms[0].scenario, t)],
    ]
    for i, arm in enumerate(arms, start=1):
        role = t("report.base") if i == 1 else t("report.alternative")
        rows.append([f"{t('workbook.meta_scenario', i=i)} ({role})", arm.scenario.name])
        what = f"{t('workbook.meta_scenario', i=i)}: {t('workbook.description').lower()}"
        rows.append([what, arm.scenario.description])
        rows.append([f"{t('workbook.meta_scenario', i=i)}: file", arm.key])
    header = [t("workbook.key"), t("workbook.value")]
    table_sheet(wb, used, t("workbook.metadata"), t("workbook.metadata"), header, rows)


def _shown(value) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}"
    return "" if value is None else str(value)
