"""Comparison outputs: ``comparison.csv``, charts, ``report.html``, ``comparison.xlsx`` and a manifest.

:func:`build_outputs` writes everything into a folder and is shared by the
``compare`` command and the ``explore`` page (which offers the same report and
workbook for what is on screen), so both read the same tables and charts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim import __version__
from sim.analysis.compare import Arm, comparison_table
from sim.analysis.monitor import first_movements, monitor_table
from sim.io.tables import TOTAL, atomic_folder, write_json
from sim.model import content_hash
from sim.report import charts as ch
from sim.report.figures import default_years, key_figures, simulated_years, summary
from sim.report.html import render_report
from sim.report.params import differences
from sim.report.workbook import write_workbook
from sim.util.i18n import Texts, choose_lang


@dataclass
class Outputs:
    """What :func:`build_outputs` wrote."""

    folder: Path
    lang: str
    years: list[int]
    charts: list[ch.Chart] = field(default_factory=list)


def write_comparison(
    arms: list[Arm],
    out: Path,
    force: bool = False,
    monitor_from: dt.date | None = None,
    lang: str | None = None,
    years_shown: list[int] | None = None,
) -> Path:
    """Write every comparison output to ``out``, atomically (a half-written folder never appears).

    Args:
        arms: The base first, then the alternatives (run with the same seed for common random numbers).
        out: Output folder; must be empty unless ``force``.
        monitor_from: First quarter of the Werkbeweging monitor; given, the monitor is always drawn.
        lang: ``nl`` or ``en``; default the base scenario's ``language``, else Dutch.
        years_shown: Years of the key figures; default :func:`sim.report.figures.default_years`.
    """
    with atomic_folder(out, force=force) as tmp:
        build_outputs(arms, tmp, monitor_from=monitor_from, lang=lang, years_shown=years_shown)
    return out


def build_outputs(
    arms: list[Arm],
    folder: Path,
    monitor_from: dt.date | None = None,
    lang: str | None = None,
    years_shown: list[int] | None = None,
) -> Outputs:
    """Write the comparison's files into an existing ``folder`` (see :func:`write_comparison`)."""
    folder = Path(folder)
    t = Texts(choose_lang(lang, [a.scenario for a in arms]))
    available = simulated_years(arms[0])
    years = sorted(set(years_shown)) if years_shown else default_years(arms)
    missing = [y for y in years if y not in available]
    if missing:
        asked = ", ".join(map(str, missing))
        raise ValueError(f"--years-shown {asked}: not simulated ({available[0]}-{available[-1]})")
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    table = comparison_table(arms)  # every municipality of a region and its total
    table.to_csv(folder / "comparison.csv", index=False)
    arms = [region_total(a) for a in arms]  # the charts, key figures and sheets show a region's total
    charts_dir = folder / "charts"
    charts_dir.mkdir(exist_ok=True)
    charts = [ch.caseload_chart(arms, charts_dir / "caseload.png", t),
              ch.exits_chart(arms, charts_dir / "exits_work.png", t)]  # fmt: skip
    if len(arms) > 1:
        charts.append(ch.difference_chart(arms, charts_dir / "difference.png", t))
    charts.append(ch.ideel_chart(arms, charts_dir / "i_deel.png", t))
    monitors = _monitors(arms, monitor_from)
    if monitors:
        charts.append(ch.monitor_chart([a for a in arms if a.key in monitors], charts_dir / "monitor.png", t,
                                       monitor_from))  # fmt: skip
    charts = [c for c in charts if c is not None]
    rows = key_figures(arms, years)
    words = summary(arms, years, t)
    sections = [differences(arms[0].scenario, arm.scenario, t) for arm in arms[1:]]
    page = render_report(arms, rows, words, charts, sections, t, created)
    (folder / "report.html").write_text(page, encoding="utf-8")
    meta = {
        "base": arms[0].key,
        "scenarios": {a.key: {"name": a.scenario.name, "sha256": content_hash(a.scenario)} for a in arms},
        "seed": arms[0].seed,
        "replications": int(arms[0].caseload.shape[0]),
        "common_random_numbers": len({a.seed for a in arms}) == 1,
        "version": __version__,
        "created": created,
        "language": t.lang,
        "years_shown": years,
    }
    write_workbook(folder / "comparison.xlsx", arms, rows, sections, table, monitors, t, meta)
    write_json(folder / "manifest.json", meta)
    return Outputs(folder, t.lang, years, charts)


def region_total(arm: Arm) -> Arm:
    """The arm with only a region's ``total`` rows in its annual table (unchanged for one municipality)."""
    annual = arm.annual
    if "municipality" not in annual:
        return arm
    total = annual[annual["municipality"] == TOTAL].drop(columns="municipality").reset_index(drop=True)
    return dataclasses.replace(arm, annual=total)


def _monitors(arms: list[Arm], start: dt.date | None) -> dict[str, pd.DataFrame]:
    """A programme's movements monitor, for comparisons about the programme: ``--monitor-from`` given, or
    a lever of some scenario starting at the start of the monitor the base scenario declares. A corona
    or budget comparison gets none."""
    found = first_movements(arms[0].scenario)
    if found is None:
        return {}
    start_at = start or found[1].start
    relevant = start is not None or any(lever.start == start_at for a in arms for lever in a.scenario.levers.values())
    if not relevant:
        return {}
    frames = {a.key: monitor_table(a, start=start) for a in arms}
    return {k: f for k, f in frames.items() if not f.empty}
