"""Out-of-sample validation: predict the ``validation`` targets (year-end 2020) and compare.

Run as ``caseload-sim backtest --scenario scenarios/corona_2020.toml --targets ...``:
the scenario (the calibrated baseline plus the corona levers) is simulated with
DES replications and the prediction of each validation target is reported as
the replication median with a 90% band (5th-95th percentile), next to the
observed value. For a calibrated scenario (one with ``[uncertainty]`` draws) every
replication runs its own parameter draw, so that band is *total* uncertainty
(simulation noise and fitted parameters; ``band_covers`` says which); the
``sim_only_*`` columns give the band of the fitted values alone (simulation noise
only). With ``--fit DIR`` (a calibration report folder) a further band draws the
parameters from that fit's ``covariance.csv``. With ``fitted_until`` (``--fitted-until
YYYY-MM``) the targets after that month count as out of sample: a scenario
refitted on 2015-2018 then predicts 2019 (pseudo out of sample). No band covers
the uncertainty of the corona levers themselves; the report says so.
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
from sim.analysis.calibration.targets import horizon_months, load_targets, measure, state_mask, until  # noqa: E402
from sim.analytic import expected  # noqa: E402
from sim.engines.select import simulate  # noqa: E402
from sim.io.tables import atomic_folder  # noqa: E402
from sim.model import load_scenario  # noqa: E402
from sim.model.compiled import compile_scenario  # noqa: E402
from sim.model.ensemble import compiled_for  # noqa: E402
from sim.model.loader import content_hash, load_raw, resolve_path, validate  # noqa: E402
from sim.model.uncertainty import band_note  # noqa: E402
from sim.util.inputs import read_input_text  # noqa: E402


def validate_scenario(scenario_path: str, targets_file: str, replications: int, seed: int, fit_dir: Path | None = None,
                      fitted_until: str | None = None):  # fmt: skip
    """(table, caseload samples [replication, month], analytic caseload [month], scenario)."""
    probe = load_scenario(scenario_path)
    every = [t for t in load_targets(targets_file) if t.role != "prior"]
    if fitted_until:
        every = until(every, fitted_until)
    fitted_until = max(t.months(probe.start)[1] for t in every if t.role == "fit")
    targets = [
        t for t in every
        if t.role == "validation" and t.months(probe.start)[0] > fitted_until and not t.measure.startswith("reinflow")
    ]  # out of sample: after the last fitted month
    if not targets:
        raise ValueError(f"{targets_file}: no validation targets after the fitting period")
    years = -(-horizon_months(targets, probe.start) // 12)  # only as far as the last target
    scenario = load_scenario(scenario_path, overrides={"years": years})
    fixed = scenario.model_copy(update={"uncertainty": None})
    c = compile_scenario(fixed)
    on = state_mask(c, "on_caseload")
    key = content_hash(scenario)
    samples, fixed_samples, paths = [], [], []
    for r in range(replications):  # the same seeds as any other run: CRN with the baseline
        cr = compiled_for(scenario, seed, r, key)  # this replication's parameter draw (total uncertainty)
        res = simulate(cr, seed, r)
        samples.append([measure(cr, t, res.stock, res.flows, None) for t in targets])
        paths.append(res.stock[:, on].sum(axis=1))
        if scenario.uncertainty is not None and scenario.uncertainty.values:
            res = simulate(c, seed, r)
            fixed_samples.append([measure(c, t, res.stock, res.flows, None) for t in targets])
    samples = np.array(samples)
    fixed_samples = np.array(fixed_samples) if fixed_samples else samples
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
             "tolerance": t.tolerance, "period": t.period, "source": t.source, "band_covers": band_note(scenario)}
        )  # fmt: skip
        flo, fmed, fhi = np.percentile(fixed_samples[:, i], [5, 50, 95])
        rows[-1] |= {"sim_only_median": fmed, "sim_only_band90_low": flo, "sim_only_band90_high": fhi,
                     "observed_in_sim_only_band": bool(flo <= t.value <= fhi)}  # fmt: skip
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
    ax.fill_between(months, lo, hi, alpha=0.3, color="#3182bd", linewidth=0, label=f"DES 90% band ({band_note(scenario).split(' (')[0]})")
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
