"""Write a calibration: the calibrated scenario TOML and its ``<stem>.fit/`` report folder."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim import __version__  # noqa: E402
from sim.analysis.calibration.fit import FitResult, identifiability  # noqa: E402
from sim.analysis.calibration.params import edit_toml_text  # noqa: E402
from sim.io.safety import FILE_MARKER_TOML, write_new_file  # noqa: E402
from sim.io.tables import atomic_folder  # noqa: E402


def calibrated_sources(result: FitResult, targets_file: str, when: dt.date, ties: dict[str, str]) -> dict[str, str]:
    """The ``source`` text of each fitted path; entries of one dated table share one source."""
    base = f"calibrated: {targets_file}, {when.isoformat()}"
    by_table: dict[str, list[str]] = {}
    for path in result.values:
        head, _, key = path.rpartition(".")
        if head.endswith(".values"):
            by_table.setdefault(head, []).append(key)
    sources = {}
    for path in result.values:
        head, _, key = path.rpartition(".")
        if head in by_table:
            fitted = [k for k in sorted(by_table[head]) if f"{head}.{k}" not in ties]
            tied = [f"{k} = {ties[f'{head}.{k}'].rpartition('.')[2]}" for k in sorted(by_table[head]) if f"{head}.{k}" in ties]
            note = f" (fitted: {', '.join(fitted)}" + (f"; tied: {', '.join(tied)}" if tied else "")
            note += "; any other date: as in the base scenario)"
            sources[path] = base + note
        else:
            sources[path] = base
    return sources


def apply_to_text(text: str, result: FitResult, sources: dict[str, str]) -> str:
    """Scenario TOML text with the fitted values and their sources edited in place."""
    for path, value in result.values.items():
        text = edit_toml_text(text, path, value, sources[path])
    return text


def fit_table(result: FitResult) -> pd.DataFrame:
    """``target, observed, fitted, error, within_tolerance`` (+ context columns); fitted = DES mean."""
    obs = np.array([t.value for t in result.targets])
    sd = result.des_samples.std(axis=0, ddof=1) if len(result.des_samples) > 1 else np.zeros(len(obs))
    return pd.DataFrame(
        {
            "target": [t.name for t in result.targets],
            "observed": obs,
            "fitted": np.round(result.des_mean, 4),
            "error": np.round((result.des_mean - obs) / obs, 5),
            "within_tolerance": result.within(),
            "role": [t.role for t in result.targets],
            "tolerance": [t.tolerance for t in result.targets],
            "weight": [t.weight for t in result.targets],
            "analytic": np.round(result.analytic, 4),
            "des_sd": np.round(sd, 4),
            "unit": [t.unit for t in result.targets],
            "period": [t.period for t in result.targets],
            "source": [t.source for t in result.targets],
        }
    )


def parameter_table(result: FitResult) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "parameter": list(result.values),
            "start": [result.start_values[p] for p in result.values],
            "fitted": list(result.values.values()),
        }
    )


def fit_chart(table: pd.DataFrame, path: Path, title: str) -> None:
    """Fitted / observed for every target, with its tolerance band."""
    fig, ax = plt.subplots(figsize=(11, 0.42 * len(table) + 1.6))
    y = np.arange(len(table))[::-1]
    ratio = table["fitted"] / table["observed"]
    ax.barh(y, 2 * table["tolerance"], left=1 - table["tolerance"], color="#cfe3f3", label="tolerance")
    err = 1.645 * table["des_sd"] / table["observed"]
    colors = np.where(table["within_tolerance"], "#1f6f3f", "#b2182b")
    colors = np.where(table["role"] == "fit", colors, "#999999")
    ax.errorbar(ratio, y, xerr=err, fmt="none", ecolor="#555555", capsize=3, label="DES 90% range")
    ax.scatter(ratio, y, c=colors, zorder=3, label="DES mean (green within, red outside, grey: not fitted)")
    ax.scatter(table["analytic"] / table["observed"], y, marker="x", color="#444444", zorder=3, label="analytic")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(y, table["target"])
    ax.set_xlabel("model / observed")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def draws_file(out: Path) -> Path:
    """The parameter draws next to a calibrated scenario file: ``<stem>.draws.csv``."""
    return out.with_name(f"{out.stem}.draws.csv")


def with_uncertainty(text: str, draws_name: str, source: str) -> str:
    """Scenario TOML text whose ``[uncertainty]`` section names ``draws_name`` (replaced, or appended)."""
    section = f'[uncertainty]\ndraws = "{draws_name}"\nsource = "{source}"\n'
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == "[uncertainty]"), None)
    if start is None:
        return text.rstrip("\n") + "\n\n" + section
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    return "".join(lines[:start]) + section + ("\n" if end < len(lines) else "") + "".join(lines[end:])


def draws_table(draws: list[dict[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(draws)


def report_folder(out: Path) -> Path:
    """The report folder next to a calibrated scenario file: ``<stem>.fit/``."""
    return out.with_name(f"{out.stem}.fit")


def write_report(
    result: FitResult,
    base_text: str,
    out: Path,
    targets_file: str,
    ties: dict[str, str],
    settings: dict,
    when: dt.date | None = None,
    force: bool = False,
    protected: tuple[Path, ...] = (),
    draws: list[dict[str, float]] | None = None,
) -> Path:
    """Write ``out`` (the calibrated scenario) and ``<out stem>.fit/``; returns the folder.

    Both follow the output rule of :mod:`sim.io.safety`: ``out`` must be a new file
    (or, with ``force``, one this program wrote) and never one of ``protected`` (the
    base scenario and the targets); the folder is new or one of ours.
    """
    when = when or dt.date.today()
    sources = calibrated_sources(result, targets_file, when, ties)
    header = f"{FILE_MARKER_TOML} calibrate {__version__} on {when.isoformat()} (--force may replace this file)\n"
    text = header + apply_to_text(base_text, result, sources)
    if draws:
        text = with_uncertainty(
            text, draws_file(out).name,
            f"calibrated: {targets_file}, {when.isoformat()}; {len(draws)} draws from the Laplace approximation of the "
            "posterior (normal on the fitting scale, calibration report covariance.csv), the first the fitted values",
        )  # fmt: skip
    folder = report_folder(out)
    with atomic_folder(folder, force=force, kind="calibration") as tmp:
        table = fit_table(result)
        table.to_csv(tmp / "fit.csv", index=False)
        parameter_table(result).to_csv(tmp / "parameters.csv", index=False)
        if result.log_covariance is not None:
            free = [p for p in result.values if p not in ties]
            pd.DataFrame(result.log_covariance, index=free, columns=free).to_csv(tmp / "covariance.csv")
            ident, corr = identifiability(result, ties)
            ident.to_csv(tmp / "identifiability.csv", index=False)
            corr.to_csv(tmp / "correlations.csv")
        fit_chart(table, tmp / "fit.png", f"Calibration to {Path(targets_file).name}")
        manifest = {
            "targets_file": targets_file,
            "date": when.isoformat(),
            "converged": result.converged,
            "optimizer_message": result.message,
            "all_fitting_targets_within_tolerance": bool(result.within()[result.fitting()].all()),
            "rounds": result.history,
            "analytic_evaluations": result.nfev,
            "settings": settings,
            "ties": ties,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        if draws:
            write_new_file(draws_file(out), draws_table(draws).to_csv(index=False).encode("utf-8"), force, protected)
        write_new_file(out, text.encode("utf-8"), force, protected)  # last: the scenario comes with its report
    return folder
