"""Fit free scenario parameters to observed targets: analytic inner loop, DES confirmation.

The inner loop is :func:`scipy.optimize.least_squares` on the analytic Markov
model (deterministic, a fraction of a second per evaluation) over the log of
each free parameter (or the parameter itself, for one whose prior is on the
linear scale, e.g. an elasticity). With prior rows in the targets file the
objective is penalised least squares: each fitting target's residual in units
of its standard deviation (the tolerance is read as the half-width of a 95%
interval) plus each prior's ``(x - median) / sd``, i.e. a maximum a posteriori
fit; the Laplace approximation ``(J'J)^-1`` at the optimum is the posterior
covariance, from which :func:`draw_parameters` draws an ensemble.

A scenario with many attribute profiles makes the analytic model slow (it is one
chain per profile); ``keep_attributes`` fits on a surrogate in which every other
attribute is replaced by its share-weighted mean multiplier on each transition
(:func:`surrogate`). The DES confirmation runs the real scenario, and its offsets
carry what the surrogate misses into the next round. The analytic model assumes unlimited werkmatcher slots and
instrument places, so the optimum is then run through DES replications with
common random numbers. Where the DES mean differs from the analytic value the
difference is carried into the next round as a fixed offset (the analytic model
is corrected by what the DES shows, a "space mapping" step) and the fit is
repeated, until every fitting target lies within its tolerance in the DES or
the rounds run out. The result reports the DES values, not the analytic ones.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from sim.analysis.calibration.params import get_value, round_value, set_values
from sim.analysis.calibration.targets import (
    Target,
    cut_data,
    duration_share_from_result,
    horizon_months,
    measure,
    measured,
    priors,
    reinflow_analytic,
    reinflow_from_events,
)
from sim.analytic import expected
from sim.engines.backends import worker_init
from sim.engines.select import simulate
from sim.model.compiled import compile_scenario
from sim.model.loader import validate
from sim.util.progress import Progress

Z95 = 1.959964  # a tolerance is read as the half-width of a 95% interval
BOUND = np.log(20.0)  # a parameter may move by at most a factor 20 from its start value


@dataclass
class FitSettings:
    """How hard to fit; the CI test uses small values, the shipped calibration the defaults."""

    replications: int = 10  # DES replications per confirmation round
    rounds: int = 3  # analytic fit + DES confirmation rounds
    stages: int = 3  # Erlang stages per duration band in the analytic model
    seed: int = 20150101
    workers: int = 1
    max_nfev: int = 200
    keep_attributes: tuple[str, ...] | None = None  # None: the analytic model runs every attribute profile


@dataclass
class FitResult:
    """The calibrated values and how well they reproduce the targets."""

    values: dict[str, float]  # path -> fitted value (rounded as written)
    start_values: dict[str, float]
    targets: list[Target]
    analytic: np.ndarray  # [target]
    des_mean: np.ndarray  # [target]
    des_samples: np.ndarray  # [replication, target]
    converged: bool
    rounds_used: int
    nfev: int
    message: str
    history: list[dict] = field(default_factory=list)
    log_covariance: np.ndarray | None = None  # [free, free] on the fitting scale (log or linear), see fit()
    scales: dict[str, str] = field(default_factory=dict)  # free path -> 'log' or 'linear'
    prior: dict[str, tuple[float, float, str]] = field(default_factory=dict)  # free path -> (median, sd, scale)

    def fitting(self) -> np.ndarray:
        """Mask of the targets that drove the fit (the others are reported only)."""
        return np.array([t.role == "fit" and t.weight > 0 for t in self.targets])

    def within(self) -> np.ndarray:
        """Per reported target: DES mean within tolerance of the observed value."""
        obs = np.array([t.value for t in self.targets])
        tol = np.array([t.tolerance for t in self.targets])
        return np.abs(self.des_mean - obs) <= tol * obs


def evaluate_analytic(
    data: dict[str, Any], targets: list[Target], stages: int, keep_attributes: tuple[str, ...] | None = None
) -> np.ndarray:
    """Every target's value in the analytic model of scenario data ``data`` (or of its :func:`surrogate`)."""
    if keep_attributes is not None:
        data = surrogate(data, keep_attributes)
    scenario = validate(data)
    c = compile_scenario(scenario)
    e = expected(scenario, stages=stages)
    out = []
    for t in targets:
        share = None
        if t.measure.startswith("reinflow"):
            share = reinflow_analytic(c, t, e.flows)
        elif t.measure.startswith("duration_share"):
            share = _duration_share_analytic(data, c, t, e.stock, stages)
        out.append(measure(c, t, e.stock, e.flows, share))
    return np.array(out)


def _duration_share_analytic(data: dict[str, Any], c, t: Target, stock: np.ndarray, stages: int) -> float:
    """Households at the period end whose spell began more than N months before, over all households."""
    _, last = t.months(c.calendar.start)
    cut = cut_data(data, t, c.calendar.start)
    on = np.array([s.on_caseload for s in c.states])
    total = float(stock[last][on].sum())
    if cut is None or total <= 0:
        return 1.0
    e = expected(validate(cut | {"years": (last + 12) // 12}), stages=stages)
    return float(e.stock[last][on].sum()) / total


def surrogate(data: dict[str, Any], keep: tuple[str, ...]) -> dict[str, Any]:
    """Scenario data with only the attributes in ``keep``: every other attribute's multipliers on a
    transition become their share-weighted mean, folded into the transition's rate (and its priority
    rules and attribute-specific maximum stays are dropped; the analytic model has no capacity anyway)."""
    import copy

    data = copy.deepcopy(data)
    attributes = data.get("attributes", {})
    dropped = {name: attr["levels"]["values"] for name, attr in attributes.items() if name not in keep}
    if not dropped:
        return data
    data["attributes"] = {k: v for k, v in attributes.items() if k in keep}

    def kept(key: str) -> bool:
        return key.partition(".")[0] not in dropped

    for state in data["states"].values():
        state["priority"] = [r for r in state.get("priority", []) if r.get("attribute") in (None, *keep)]
        stay = state.get("max_stay")
        if stay and stay.get("by_attribute"):
            values = {k: v for k, v in stay["by_attribute"]["values"].items() if kept(k)}
            stay["by_attribute"] = dict(stay["by_attribute"], values=values) if values else None
            if not values:
                del stay["by_attribute"]
        for tr in state.get("transitions", {}).values():
            multipliers = tr.get("attribute_multipliers")
            if not multipliers:
                continue
            values = multipliers["values"]
            factor = 1.0
            for name, shares in dropped.items():
                factor *= sum(share * values.get(f"{name}.{level}", 1.0) for level, share in shares.items())
            tr["rate"] = dict(tr["rate"], value=tr["rate"]["value"] * factor)
            rest = {k: v for k, v in values.items() if kept(k)}
            if rest:
                tr["attribute_multipliers"] = dict(multipliers, values=rest)
            else:
                del tr["attribute_multipliers"]
    for team in data.get("werkmatchers", {}).values():
        team["priority"] = [r for r in team.get("priority", []) if r.get("attribute") in (None, *keep)]
    return data


def _des_one(args) -> list[float]:
    data, targets, seed, replication = args
    c = compile_scenario(validate(data))
    return measure_run(c, targets, simulate(c, seed, replication, log_events=any(t.measure.startswith("reinflow") for t in targets)))


def measure_run(c, targets: list[Target], res) -> list[float]:
    """Every target's value in one DES run (``res`` with an event log when a target is a re-inflow share)."""
    out = []
    for t in targets:
        share = None
        if t.measure.startswith("reinflow"):
            share = reinflow_from_events(res.events, t, c.calendar.start)
        elif t.measure.startswith("duration_share"):
            share = duration_share_from_result(c, t, res.durations, res.stock)
        out.append(measure(c, t, res.stock, res.flows, share))
    return out


def evaluate_des(
    data: dict[str, Any], targets: list[Target], settings: FitSettings, progress: Progress | None = None
) -> np.ndarray:
    """[replication, target] over DES replications 0..R-1 (the same seeds every call: CRN)."""
    jobs = [(data, targets, settings.seed, r) for r in range(settings.replications)]
    rows = []
    with ProcessPoolExecutor(max_workers=settings.workers, initializer=worker_init) if settings.workers > 1 else nullcontext() as pool:
        for row in pool.map(_des_one, jobs) if pool is not None else map(_des_one, jobs):
            rows.append(row)
            if progress is not None:
                progress.update()
    return np.array(rows)


def check_request(raw: dict[str, Any], targets: list[Target], free: list[str], ties: dict[str, str]) -> dict[str, float]:
    """Refuse a calibration that cannot start (before any output is touched); the free parameters' start values.

    Raises:
        ValueError: No fitting target, no or unknown free parameter, a tie to a non-free parameter,
            or a start value <= 0.
    """
    if not [t for t in targets if t.role == "fit" and t.weight > 0]:
        raise ValueError("no fitting targets (role 'fit' with weight > 0)")
    if not free:
        raise ValueError("give at least one --free parameter")
    for dest, src in ties.items():
        if src not in free:
            raise ValueError(f"--tie {dest}={src}: {src} is not a free parameter")
        get_value(raw, dest)
    prior = priors(targets)  # priors of parameters that are not free are not used
    start = {p: get_value(raw, p) for p in free}
    if any(v <= 0 for p, v in start.items() if prior.get(p, (0, 0, "log"))[2] == "log"):
        raise ValueError("free parameters must start > 0 (they are fitted on a log scale; a prior row with unit 'linear' fits one on its own scale)")
    return start


def to_scale(values: dict[str, float], scales: dict[str, str]) -> np.ndarray:
    return np.array([np.log(v) if scales[p] == "log" else v for p, v in values.items()])


def from_scale(x: np.ndarray, free: list[str], scales: dict[str, str]) -> dict[str, float]:
    return {p: float(np.exp(v)) if scales[p] == "log" else float(v) for p, v in zip(free, x)}


def fit(
    raw: dict[str, Any],
    targets: list[Target],
    free: list[str],
    settings: FitSettings,
    ties: dict[str, str] | None = None,
    log=print,
    progress: Progress | None = None,
) -> FitResult:
    """Calibrate the ``free`` paths of scenario data ``raw`` to the ``fit`` targets.

    Args:
        raw: plain scenario data (``load_raw``), not yet validated.
        targets: all targets; only role ``fit`` with weight > 0 drive the fit.
        free: dotted parameter paths to fit.
        settings: effort settings.
        ties: ``{dest: src}`` paths set equal to a fitted path (e.g. a later inflow year).
        log: printer of one line per round.
        progress: counts analytic evaluations and DES replications; a round that stops early
            skips the rest of its budget, a fit that converges early finishes the bar.
    """
    ties = ties or {}
    start = check_request(raw, targets, free, ties)
    prior = priors(targets)
    targets = measured(targets)
    scales = {p: prior.get(p, (0, 0, "log"))[2] for p in free}
    fitting = [t for t in targets if t.role == "fit" and t.weight > 0]
    months = horizon_months(fitting, raw_start(raw))
    base = dict(raw, years=max(1, -(-months // 12)))
    extra = [t for t in targets if t.role != "fit" or t.weight == 0]
    reported = fitting + [t for t in extra if t.months(raw_start(raw))[1] < 12 * base["years"]]
    n_fit = len(fitting)
    obs = np.array([t.value for t in fitting])
    scale = np.array([t.tolerance * t.value / np.sqrt(t.weight) / Z95 for t in fitting])  # sd of each observation
    x0 = to_scale(start, scales)
    linear = np.array([scales[p] == "linear" for p in free])
    width = np.array([max(5 * prior[p][1], 1.0) if scales[p] == "linear" else BOUND for p in free])
    centre = np.array([(np.log(prior[p][0]) if scales[p] == "log" else prior[p][0]) if p in prior else np.nan for p in free])
    spread = np.array([prior[p][1] if p in prior else np.nan for p in free])
    has_prior = ~np.isnan(centre)
    keep = settings.keep_attributes

    def prior_residuals(z: np.ndarray) -> np.ndarray:
        return (z[has_prior] - centre[has_prior]) / spread[has_prior]

    def data_at(x: np.ndarray, rounded: bool = False) -> dict[str, Any]:
        vals = from_scale(x, free, scales)
        if rounded:
            vals = {p: round_value(v) for p, v in vals.items()}
        vals |= {dest: vals[src] for dest, src in ties.items()}
        return set_values(base, vals)

    offset = np.zeros(len(fitting))
    x = x0.copy()
    nfev, history = 0, []
    converged, message = False, ""
    des = np.zeros((settings.replications, len(reported)))
    analytic_at = np.zeros(len(reported))
    budget = analytic_budget(settings, len(free))
    for round_ in range(1, settings.rounds + 1):

        calls = 0

        def residuals(z: np.ndarray, offset: np.ndarray = offset) -> np.ndarray:  # this round's offset
            nonlocal calls
            calls += 1
            if progress is not None and calls <= budget:
                progress.update()
            model = evaluate_analytic(data_at(z), fitting, settings.stages, keep)
            return np.concatenate([(model + offset - obs) / scale, prior_residuals(z)])

        low, high = x0 - width, x0 + width
        sol = least_squares(
            residuals, np.clip(x, low, high), bounds=(low, high), x_scale=1.0, diff_step=np.where(linear, 1e-2, 1e-3),
            max_nfev=settings.max_nfev, xtol=1e-6, ftol=1e-8,
        )  # fmt: skip
        if progress is not None and calls < budget:
            progress.update(budget - calls)  # the optimiser stopped before its evaluation budget
        nfev += sol.nfev
        x = sol.x
        data = data_at(x, rounded=True)
        analytic_at = evaluate_analytic(data, reported, settings.stages, keep)
        des = evaluate_des(data, reported, settings, progress)
        mean = des.mean(axis=0)[:n_fit]
        inside = np.abs(mean - obs) <= np.array([t.tolerance for t in fitting]) * obs
        history.append(
            {"round": round_, "cost": float(sol.cost), "status": int(sol.status), "nfev": int(sol.nfev),
             "des_within": int(inside.sum()), "targets": len(fitting)}
        )  # fmt: skip
        log(f"round {round_}: least_squares {sol.message} (cost {sol.cost:.3g}, {sol.nfev} evaluations); "
            f"DES: {inside.sum()}/{len(fitting)} targets within tolerance")  # fmt: skip
        converged, message = sol.status > 0, sol.message
        if inside.all():
            break
        offset = mean - analytic_at[:n_fit]  # what the DES adds to the analytic model (capacity limits)
    # Laplace approximation of the posterior of the parameters on their fitting scale (log or linear):
    # the residuals are in standard deviations (each target's tolerance read as the half-width of a 95%
    # interval of its observation; each prior's own sd), so the covariance is (J'J)^-1.
    covariance = np.linalg.pinv(sol.jac.T @ sol.jac)
    values = {p: round_value(v) for p, v in from_scale(x, free, scales).items()}
    values |= {dest: values[src] for dest, src in ties.items()}
    # report every target (validation ones too, when the run covers them) at the final values
    return FitResult(
        values=values,
        start_values=start | {dest: get_value(raw, dest) for dest in ties},
        targets=reported,
        analytic=analytic_at,
        des_mean=des.mean(axis=0),
        des_samples=des,
        converged=converged,
        rounds_used=len(history),
        nfev=nfev,
        message=str(message),
        history=history,
        log_covariance=covariance,
        scales=scales,
        prior={p: prior[p] for p in free if p in prior},
    )


def draw_parameters(result: FitResult, n: int, seed: int, ties: dict[str, str] | None = None) -> list[dict[str, float]]:
    """``n`` parameter sets from the Laplace approximation (normal on the fitting scale), ties applied.

    The first set is the fitted values themselves, so the ensemble is centred on the fit.
    """
    ties = ties or {}
    free = [p for p in result.values if p not in ties]
    mean = to_scale({p: result.values[p] for p in free}, result.scales)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(12,)))
    x = rng.multivariate_normal(mean, result.log_covariance, size=n, method="eigh")
    x[0] = mean
    out = []
    for row in x:
        values = {p: round_value(v) for p, v in from_scale(row, free, result.scales).items()}
        values |= {dest: values[src] for dest, src in ties.items()}
        out.append(values)
    return out


def identifiability(result: FitResult, ties: dict[str, str] | None = None) -> tuple[Any, Any]:
    """(per parameter: fitted value, posterior sd, prior sd, sd ratio, verdict; correlation matrix).

    A parameter whose posterior sd is more than 0.7 of its prior sd is *not pinned down by the data*
    (the prior decides it); one without a prior and a sd above 1 on the log scale (a factor e) is
    *weakly identified*; a correlation beyond 0.8 in size names a trade-off the targets cannot settle.
    """
    import pandas as pd

    ties = ties or {}
    free = [p for p in result.values if p not in ties]
    cov = result.log_covariance
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    corr = cov / np.outer(np.where(sd > 0, sd, 1), np.where(sd > 0, sd, 1))
    rows = []
    for i, p in enumerate(free):
        prior_sd = result.prior[p][1] if p in result.prior else float("nan")
        ratio = sd[i] / prior_sd if p in result.prior else float("nan")
        partners = [f"{free[j]} ({corr[i, j]:+.2f})" for j in range(len(free)) if j != i and abs(corr[i, j]) > 0.8]
        if p in result.prior and ratio > 0.7:
            verdict = "not pinned down by the data (posterior sd > 0.7 x prior sd)"
        elif p not in result.prior and sd[i] > 1.0:
            verdict = "weakly identified (sd above 1 on its scale)"
        elif partners:
            verdict = "identified only jointly with " + "; ".join(partners)
        else:
            verdict = "identified by the data"
        rows.append({"parameter": p, "scale": result.scales[p], "fitted": result.values[p], "posterior_sd": round(float(sd[i]), 4),
                     "prior_median": result.prior[p][0] if p in result.prior else float("nan"), "prior_sd": prior_sd,
                     "sd_ratio": round(float(ratio), 3), "strong_correlations": "; ".join(partners), "verdict": verdict})  # fmt: skip
    return pd.DataFrame(rows), pd.DataFrame(np.round(corr, 3), index=free, columns=free)


def analytic_budget(settings: FitSettings, n_free: int) -> int:
    """Analytic evaluations one round may use, counting the finite-difference Jacobian's.

    ``least_squares`` counts ``max_nfev`` in residual evaluations without the ``n_free`` extra
    ones of each Jacobian, so a round may call the model up to ``max_nfev * (n_free + 1)`` times.
    """
    return settings.max_nfev * (n_free + 1)


def progress_total(settings: FitSettings, n_free: int) -> int:
    """Units of work of a whole fit at most: every round's analytic budget and DES replications."""
    return settings.rounds * (analytic_budget(settings, n_free) + settings.replications)


def raw_start(raw: dict[str, Any]) -> dt.date:
    start = raw.get("start")
    if isinstance(start, dt.date):
        return start
    return dt.date.fromisoformat(str(start))
