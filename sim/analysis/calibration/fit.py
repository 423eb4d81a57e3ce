"""Fit free scenario parameters to observed targets: analytic inner loop, DES confirmation.

The inner loop is :func:`scipy.optimize.least_squares` on the analytic Markov
model (deterministic, a fraction of a second per evaluation) over the log of
each free parameter. The analytic model assumes unlimited werkmatcher slots and
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
from sim.analysis.calibration.targets import Target, horizon_months, measure, reinflow_analytic, reinflow_from_events
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
    log_covariance: np.ndarray | None = None  # [free, free] on the log scale, see fit()

    def fitting(self) -> np.ndarray:
        """Mask of the targets that drove the fit (the others are reported only)."""
        return np.array([t.role == "fit" and t.weight > 0 for t in self.targets])

    def within(self) -> np.ndarray:
        """Per reported target: DES mean within tolerance of the observed value."""
        obs = np.array([t.value for t in self.targets])
        tol = np.array([t.tolerance for t in self.targets])
        return np.abs(self.des_mean - obs) <= tol * obs


def evaluate_analytic(data: dict[str, Any], targets: list[Target], stages: int) -> np.ndarray:
    """Every target's value in the analytic model of scenario data ``data``."""
    scenario = validate(data)
    c = compile_scenario(scenario)
    e = expected(scenario, stages=stages)
    out = []
    for t in targets:
        share = reinflow_analytic(c, t, e.flows) if t.measure.startswith("reinflow") else None
        out.append(measure(c, t, e.stock, e.flows, share))
    return np.array(out)


def _des_one(args) -> list[float]:
    data, targets, seed, replication = args
    c = compile_scenario(validate(data))
    needs_log = any(t.measure.startswith("reinflow") for t in targets)
    res = simulate(c, seed, replication, log_events=needs_log)
    out = []
    for t in targets:
        share = reinflow_from_events(res.events, t, c.calendar.start) if t.measure.startswith("reinflow") else None
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
    start = {p: get_value(raw, p) for p in free}
    if any(v <= 0 for v in start.values()):
        raise ValueError("free parameters must start > 0 (they are fitted on a log scale)")
    return start


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
    fitting = [t for t in targets if t.role == "fit" and t.weight > 0]
    months = horizon_months(fitting, raw_start(raw))
    base = dict(raw, years=max(1, -(-months // 12)))
    extra = [t for t in targets if t.role != "fit" or t.weight == 0]
    reported = fitting + [t for t in extra if t.months(raw_start(raw))[1] < 12 * base["years"]]
    n_fit = len(fitting)
    obs = np.array([t.value for t in fitting])
    scale = np.array([t.tolerance * t.value / np.sqrt(t.weight) for t in fitting])
    x0 = np.log(np.array([start[p] for p in free]))

    def data_at(x: np.ndarray, rounded: bool = False) -> dict[str, Any]:
        vals = dict(zip(free, np.exp(x)))
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
            return (evaluate_analytic(data_at(z), fitting, settings.stages) + offset - obs) / scale

        sol = least_squares(
            residuals, x, bounds=(x0 - BOUND, x0 + BOUND), x_scale=1.0, diff_step=1e-3,
            max_nfev=settings.max_nfev, xtol=1e-6, ftol=1e-8,
        )  # fmt: skip
        if progress is not None and calls < budget:
            progress.update(budget - calls)  # the optimiser stopped before its evaluation budget
        nfev += sol.nfev
        x = sol.x
        data = data_at(x, rounded=True)
        analytic_at = evaluate_analytic(data, reported, settings.stages)
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
    # Approximate covariance of the log-parameters, reading each target's tolerance as the
    # half-width of a 95% interval of its observation (sd = tolerance / 1.96):
    # (J'J)^-1 / 1.96^2 for the tolerance-scaled residuals (weights included).
    covariance = np.linalg.pinv(sol.jac.T @ sol.jac) / Z95**2
    values = {p: round_value(float(v)) for p, v in zip(free, np.exp(x))}
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
    )


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
