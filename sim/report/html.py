"""``report.html``: rendered from a jinja2 template (``templates/report.html.j2``), charts embedded.

The page reads top-down for a council letter: the summary in plain words, the
key figures for the chosen years (money in euros with thousands separators, a
difference and its interval only for the alternatives), the charts with real
captions, and last the parameter differences. It is one file: styles inline,
images as ``data:`` URIs, nothing fetched, and a print stylesheet for A4.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from sim import __version__
from sim.analysis.compare import Arm
from sim.report.charts import Chart
from sim.report.figures import POLICY_COSTS, Row
from sim.report.params import Section


@dataclass
class DiffCell:
    text: str = ""
    ci: str = ""
    clear: bool = False


def environment() -> Environment:
    return Environment(loader=PackageLoader("sim.report", "templates"), autoescape=select_autoescape(["html", "j2"]),
                       trim_blocks=True, lstrip_blocks=True)  # fmt: skip


def uncertainty_note(scenario, t) -> str:
    """What the intervals and bands cover: simulation noise only, or parameter uncertainty too."""
    u = scenario.uncertainty
    if u is None or not u.values:
        return t("report.footnote_uncertainty_fixed")
    return t("report.footnote_uncertainty_draws", draws=len(u.values))


def render_report(arms: list[Arm], rows: list[Row], summary: list[str], charts: list[Chart], sections: list[Section],
                  t, created: str) -> str:  # fmt: skip
    """The report as one HTML string."""
    base = arms[0]
    n = base.caseload.shape[0]
    key_rows: dict[int, list[dict]] = {}
    for row in rows:
        key_rows.setdefault(row.year, []).append(_row(row, t))
    footnotes = [t("report.footnote_intervals", n=n), uncertainty_note(base.scenario, t)]
    if any(r.unit == "eur" for r in rows):
        footnotes.append(t("report.footnote_money"))
    if any(r.measure == "cost_per_extra_exit" for r in rows):
        present = [c for c in POLICY_COSTS if any(r.measure == c for r in rows)]
        footnotes.append(t("report.footnote_cost_per_exit", costs=t.join([t(f"costs.{c}") for c in present])))
    if any(r.measure == "p_deficit" for r in rows):
        footnotes.append(t("report.footnote_deficit", n=n))
    subtitle = t("report.subtitle", alternatives=t.join([a.scenario.name for a in arms[1:]]) or "—",
                 base=base.scenario.name)  # fmt: skip
    images = [
        {"data": base64.b64encode(Path(c.path).read_bytes()).decode("ascii"), "caption": c.caption,
         "alt": c.caption.split(". ")[0]}
        for c in charts
    ]  # fmt: skip
    return environment().get_template("report.html.j2").render(
        t=t, lang=t.lang, arms=arms, subtitle=subtitle, summary=summary, key_rows=sorted(key_rows.items()),
        footnotes=footnotes, charts=images, sections=sections, replications=n, seed=base.seed,
        version=__version__, created=created,
        lever_columns=lambda s: _columns(s.levers, [("target", t("report.lever_target")),
                                                   ("change", t("report.lever_change")),
                                                   ("window", t("report.lever_window")),
                                                   ("source", t("report.lever_source"))]),
        value_columns=lambda s: _columns(s.values, [("parameter", t("report.parameter")),
                                                   ("base", base.scenario.name),
                                                   ("alternative", s.label),
                                                   ("source", t("report.source"))]),
    )  # fmt: skip


def _columns(rows: list[dict], columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The columns that hold something in at least one row (no always-empty column)."""
    return [(key, title) for key, title in columns if any(str(r.get(key, "")).strip() for r in rows)]


def _row(row: Row, t) -> dict:
    def value(f) -> str:
        if f is None:
            return t("report.not_available")
        if row.unit == "share":
            return f"{t.percent(f.mean)} ({t.percent(f.low)}–{t.percent(f.high)}; n = {f.n})"
        if row.unit in ("eur", "eur_per_exit"):
            return t.euro(f.mean)
        return t.number(f.mean)

    def diff(f) -> DiffCell:
        if f is None or f.diff is None:
            return DiffCell()
        if f.diff == 0 and f.low == f.high == 0:  # identical in every replication: say so, not "+0 (+0 to +0)"
            return DiffCell(t("report.no_difference"))
        fmt = t.euro if row.unit == "eur" else t.number
        return DiffCell(fmt(f.diff, sign=True), f"{fmt(f.low, sign=True)} … {fmt(f.high, sign=True)}", f.clear)

    return {"label": t(f"measure.{row.measure}"), "cells": [value(f) for f in row.figures],
            "diffs": [diff(f) for f in row.figures[1:]]}  # fmt: skip
