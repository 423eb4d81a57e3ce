"""Comparison outputs: charts, a self-contained HTML report and an Excel workbook.

``report.html`` embeds its charts as base64 PNGs, so it can be mailed or
attached to a council letter as one file. ``comparison.xlsx`` has one sheet
per table with a bold header, frozen top row and fitted column widths.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim import __version__  # noqa: E402
from sim.analysis.compare import Arm, comparison_table, key_table, parameter_differences  # noqa: E402
from sim.analysis.monitor import monitor_chart, monitor_table  # noqa: E402
from sim.io.plots import fan, save_fan_figure, save_figure  # noqa: E402
from sim.io.tables import atomic_folder, write_json  # noqa: E402
from sim.model import content_hash  # noqa: E402

COLOURS = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6")
METRIC_LABELS = {
    "caseload_end": "households on bijstand at 31 December",
    "exits_work": "exits to work in the year",
    "movements": "movements towards work in the year",
    "inflow": "new applications (inflow) in the year",
    "exits_other": "exits for other reasons in the year",
}


def paths_chart(arms: list[Arm], path: Path) -> None:
    """Caseload and monthly exits to work per scenario: median with a 5-95% band."""
    dates = pd.to_datetime(arms[0].months)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7.5), sharex=True)
    for i, arm in enumerate(arms):
        colour = COLOURS[i % len(COLOURS)]
        fan(top, dates, arm.caseload, colour, arm.key)
        fan(bottom, dates, _rolling(arm.exits_work, 3), colour, arm.key)
    top.set_ylabel("households on bijstand")
    top.set_title("Caseload per scenario")
    bottom.set_ylabel("exits to work a month (3-month mean)")
    bottom.set_title("Exits to work per scenario")
    top.legend(loc="upper left", frameon=False)
    _date_axis(bottom)
    save_fan_figure(fig, path, arms[0].caseload.shape[0])


def difference_chart(arms: list[Arm], path: Path) -> None:
    """Paired difference to the base per month: mean with its 95% band, caseload and exits to work."""
    from scipy import stats

    dates = pd.to_datetime(arms[0].months)
    base = arms[0]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7.5), sharex=True)
    for i, arm in enumerate(arms[1:], start=1):
        colour = COLOURS[i % len(COLOURS)]
        for ax, diff in (
            (top, arm.caseload - base.caseload),
            (bottom, np.cumsum(arm.exits_work - base.exits_work, axis=1)),
        ):
            n = diff.shape[0]
            mean = diff.mean(axis=0)
            half = stats.t.ppf(0.975, max(n - 1, 1)) * diff.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else 0 * mean
            ax.fill_between(dates, mean - half, mean + half, color=colour, alpha=0.25, linewidth=0)
            ax.plot(dates, mean, color=colour, label=f"{arm.key} - {base.key}", linewidth=1.6)
    for ax in (top, bottom):
        ax.axhline(0, color="#555", linewidth=0.8)
    top.set_ylabel("households")
    top.set_title(f"Difference in caseload vs {base.key}")
    bottom.set_ylabel("exits to work (cumulative)")
    bottom.set_title(f"Cumulative difference in exits to work vs {base.key}")
    top.legend(loc="upper left", frameon=False)
    _date_axis(bottom)
    save_figure(fig, path, "Lines: mean paired difference (common random numbers); bands: 95% confidence interval.")


def write_comparison(arms: list[Arm], out: Path, force: bool = False, monitor_from: dt.date | None = None) -> Path:
    """Write comparison.csv, charts/, report.html, comparison.xlsx and manifest.json to ``out``."""
    table = comparison_table(arms)
    key = key_table(table)
    with atomic_folder(out, force=force) as tmp:
        table.to_csv(tmp / "comparison.csv", index=False)
        charts = tmp / "charts"
        charts.mkdir()
        paths_chart(arms, charts / "paths.png")
        if len(arms) > 1:
            difference_chart(arms, charts / "difference.png")
        monitors = {}
        for arm in arms:
            frame = monitor_table(arm, start=monitor_from)
            if not frame.empty:
                monitors[arm.key] = frame
                monitor_chart(frame, charts / f"monitor_{arm.key}.png", f"Movements monitor: {arm.key}")
        diffs = {arm.key: parameter_differences(arms[0].scenario, arm.scenario) for arm in arms[1:]}
        sheets = {"key_table": key, "comparison": table}
        sheets |= {f"params_{k}"[:31]: v for k, v in diffs.items()}
        sheets |= {f"monitor_{k}"[:31]: v for k, v in monitors.items()}
        write_xlsx(sheets, tmp / "comparison.xlsx")
        images = sorted(charts.glob("*.png"))
        (tmp / "report.html").write_text(report_html(arms, key, diffs, images), encoding="utf-8")
        write_json(
            tmp / "manifest.json",
            {
                "base": arms[0].key,
                "scenarios": {a.key: {"name": a.scenario.name, "sha256": content_hash(a.scenario)} for a in arms},
                "seed": arms[0].seed,
                "replications": int(arms[0].caseload.shape[0]),
                "common_random_numbers": len({a.seed for a in arms}) == 1,
                "version": __version__,
                "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            },
        )
    return out


def write_xlsx(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    """One sheet per table: bold header, frozen first row, column widths fitted to the content."""
    from openpyxl.styles import Font, PatternFill

    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
            ws = writer.sheets[name]
            ws.freeze_panes = "A2"
            for cell in ws[1]:
                cell.font = Font(bold=True, color="FFFFFF")
                cell.fill = PatternFill("solid", fgColor="1F4E79")
            for i, column in enumerate(frame.columns, start=1):
                width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(500)])
                ws.column_dimensions[ws.cell(1, i).column_letter].width = min(60, width + 2)


def report_html(arms: list[Arm], key: pd.DataFrame, diffs: dict[str, pd.DataFrame], images: list[Path]) -> str:
    """A one-file report: what differs between the scenarios, the key table and the charts."""
    base = arms[0]
    n = base.caseload.shape[0]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Scenario comparison: {_e(base.scenario.name)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Scenario comparison</h1><p>Base: <b>{_e(base.scenario.name)}</b> ({_e(base.key)}). "
        f"Alternatives: {', '.join(f'<b>{_e(a.scenario.name)}</b> ({_e(a.key)})' for a in arms[1:]) or 'none'}.</p>",
        f"<p class='note'>{n} replications per scenario, seed {base.seed}, common random numbers: every scenario "
        "sees the same households with the same random draws, so a difference is the effect of the policy and "
        "not of chance. Intervals are 95% confidence intervals of the mean difference to the base.</p>",
        "<h2>Scenarios</h2><ul>",
        *(f"<li><b>{_e(a.key)}</b>: {_e(a.scenario.description)}</li>" for a in arms),
        "</ul><h2>What differs from the base</h2>",
    ]
    for k, frame in diffs.items():
        parts.append(f"<h3>{_e(k)}</h3>")
        parts.append(frame.to_html(index=False, border=0, classes="params") if not frame.empty else "<p>No differences.</p>")
    parts.append("<h2>Key figures</h2>")
    for metric, frame in key.groupby("metric", observed=True, sort=False):
        parts.append(f"<h3>{_e(METRIC_LABELS.get(str(metric), str(metric)))}</h3>")
        parts.append(_key_html(frame, base.key))
    parts.append("<h2>Charts</h2>")
    for image in images:
        data = base64.b64encode(image.read_bytes()).decode("ascii")
        parts.append(f"<figure><img alt='{_e(image.stem)}' src='data:image/png;base64,{data}'>"
                     f"<figcaption>{_e(image.stem.replace('_', ' '))}</figcaption></figure>")
    parts.append(f"<p class='note'>caseload-sim {__version__}; full tables in comparison.csv and comparison.xlsx.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _key_html(frame: pd.DataFrame, base: str) -> str:
    rows = ["<table class='key'><tr><th>year</th><th>scenario</th><th>mean</th><th>difference vs base (95% CI)</th></tr>"]
    for r in frame.itertuples():
        diff = "base" if r.scenario == base else (
            f"{r.diff_vs_base:+,.0f} ({r.diff_ci_low:+,.0f} to {r.diff_ci_high:+,.0f})"
        )
        rows.append(f"<tr><td>{r.year}</td><td>{_e(r.scenario)}</td><td>{r.mean:,.0f}</td><td>{diff}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


CSS = (
    "body{font-family:Helvetica,Arial,sans-serif;max-width:1000px;margin:2em auto;color:#222;line-height:1.4}"
    "h1,h2{color:#1f4e79}table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}"
    "td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:left}th{background:#eef3f8}"
    "img{max-width:100%}figure{margin:1em 0}.note{color:#555;font-size:.9em}"
)


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _rolling(samples: np.ndarray, window: int) -> np.ndarray:
    kernel = np.ones(window) / window
    return np.stack([np.convolve(row, kernel, mode="same") for row in samples])


def _date_axis(ax) -> None:
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))


