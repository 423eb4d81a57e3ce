"""Out-of-sample validation: predict the ``validation`` targets (year-end 2020) and compare.

Run as ``caseload-sim backtest --scenario scenarios/corona_2020.toml --targets ...``:
the scenario (the calibrated baseline plus the corona levers) is simulated with
DES replications and the prediction of each validation target is reported as
the replication median with a 90% band (5th-95th percentile), next to the
observed value. The band covers the simulation's own randomness; with ``--fit
DIR`` (a calibration report folder) a second band also draws the fitted parameters
from their approximate covariance (``covariance.csv``). Neither covers the
uncertainty of the corona levers themselves; the report says so.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.analysis.calibration.params import set_values  # noqa: E402
from sim.analysis.calibration.targets import horizon_months, load_targets, measure, state_mask  # noqa: E402
from sim.analytic import expected  # noqa: E402
from sim.engines.select import simulate  # noqa: E402
from sim.io.tables import atomic_folder  # noqa: E402
from sim.model import load_scenario  # noqa: E402
from sim.model.compiled import compile_scenario  # noqa: E402
from sim.model.loader import content_hash, load_raw, resolve_path, validate  # noqa: E402
from sim.util.inputs import read_input_text  # noqa: E402


def validate_scenario(scenario_path: str, targets_file: str, replications: int, seed: int, fit_dir: Path | None = None):
    """(table, caseload samples [replication, month], analytic caseload [month], scenario)."""
    probe = load_scenario(scenario_path)
    every = load_targets(targets_file)
    fitted_until = max(t.months(probe.start)[1] for t in every if t.role == "fit")
    targets = [
        t for t in every
        if t.role == "validation" and t.months(probe.start)[0] > fitted_until and not t.measure.startswith("reinflow")
    ]  # out of sample: after the last fitted month
    if not targets:
        raise ValueError(f"{targets_file}: no validation targets after the fitting period")
    years = max(probe.years, -(-horizon_months(targets, probe.start) // 12))
    scenario = load_scenario(scenario_path, overrides={"years": years})
    c = compile_scenario(scenario)
    on = state_mask(c, "on_caseload")
    samples, paths = [], []
    for r in range(replications):  # the same seeds as any other run: CRN with the baseline
        res = simulate(c, seed, r)
        samples.append([measure(c, t, res.stock, res.flows, None) for t in targets])
        paths.append(res.stock[:, on].sum(axis=1))
    samples = np.array(samples)
    with_params = _parameter_draws(scenario_path, years, targets, fit_dir, replications, seed) if fit_dir else None
    e = expected(scenario)
    analytic = [measure(c, t, e.stock, e.flows, None) for t in targets]
    rows = []
    for i, t in enumerate(targets):
        lo, med, hi = np.percentile(samples[:, i], [5, 50, 95])
        rows.append(
            {"target": t.name, "observed": t.value, "predicted_median": med, "band90_low": lo, "band90_high": hi,
             "analytic": analytic[i], "error": (med - t.value) / t.value,
             "observed_in_band": bool(lo <= t.value <= hi), "within_tolerance": abs(med - t.value) <= t.tolerance * t.value,
             "tolerance": t.tolerance, "period": t.period, "source": t.source}
        )  # fmt: skip
        if with_params is not None:
            plo, pmed, phi = np.percentile(with_params[:, i], [5, 50, 95])
            rows[-1] |= {"with_parameters_median": pmed, "with_parameters_band90_low": plo,
                         "with_parameters_band90_high": phi, "observed_in_parameter_band": bool(plo <= t.value <= phi)}  # fmt: skip
    return pd.DataFrame(rows).round(4), np.array(paths), e.stock[:, on].sum(axis=1), scenario


def _parameter_draws(scenario_path, years, targets, fit_dir: Path, replications: int, seed: int) -> np.ndarray:
    """[replication, target]: each replication with its own draw of the fitted parameters."""
    fitted = pd.read_csv(io.StringIO(read_input_text(fit_dir / "parameters.csv"))).set_index("parameter")["fitted"]
    cov = pd.read_csv(io.StringIO(read_input_text(fit_dir / "covariance.csv")), index_col=0)
    names = list(cov.index)
    mean = np.log(fitted[names].to_numpy(dtype=float))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    raw = load_raw(resolve_path(scenario_path)) | {"years": years}
    out = []
    for r in range(replications):
        draw = np.exp(rng.multivariate_normal(mean, cov.to_numpy(dtype=float), method="eigh"))
        c = compile_scenario(validate(set_values(raw, dict(zip(names, draw)))))
        res = simulate(c, seed, r)
        out.append([measure(c, t, res.stock, res.flows, None) for t in targets])
    return np.array(out)


def write(table, caseload, analytic, scenario, out: Path, observed_year_end: dict[int, float], settings: dict,
          force: bool = False) -> None:  # fmt: skip
    """Write validation.csv, validation.png and manifest.json into ``out`` (new, or a validation folder of ours)."""
    with atomic_folder(out, force=force, kind="validation") as tmp:
        _write(table, caseload, analytic, scenario, tmp, observed_year_end, settings)


def _write(table, caseload, analytic, scenario, out: Path, observed_year_end: dict[int, float], settings: dict) -> None:
    table.to_csv(out / "validation.csv", index=False)
    start = scenario.start
    months = [dt.date(start.year + (start.month - 1 + m) // 12, (start.month - 1 + m) % 12 + 1, 28) for m in range(caseload.shape[1])]
    lo, med, hi = np.percentile(caseload, [5, 50, 95], axis=0)
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.fill_between(months, lo, hi, alpha=0.3, color="#3182bd", linewidth=0, label="DES 90% band")
    ax.plot(months, med, color="#08519c", label="DES median")
    ax.plot(months, analytic, color="#444444", linestyle="--", linewidth=1, label="analytic (unlimited capacity)")
    years = sorted(observed_year_end)
    ax.scatter([dt.date(y, 12, 31) for y in years], [observed_year_end[y] for y in years], color="#b2182b", zorder=3,
               label="observed 31 Dec (2020: validation)")  # fmt: skip
    ax.set_ylabel("households on bijstand")
    ax.set_title(f"{scenario.name}: calibrated model vs observed year-end caseload", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "validation.png", dpi=120)
    plt.close(fig)
    (out / "manifest.json").write_text(
        json.dumps(settings | {"scenario": scenario.name, "scenario_sha256": content_hash(scenario)}, indent=2, default=str) + "\n"
    )
