"""Parameter sweeps and global sensitivity analysis (SALib), resumable point by point.

A parameters file names parameter paths (:mod:`sim.model.paths`, the syntax
``goal-seek`` and ``calibrate`` use too) with bounds; ``scenarios/sweeps/``
ships an example::

    metric = "caseload_mean"     # annual metric to analyse (a column of annual.csv)
    [parameters."states.a.transitions.work.rate"]    # ".value" optional
    low = 0.02
    high = 0.08

SALib draws the design (Morris trajectories, Sobol/Saltelli points or a Latin
hypercube); every point is the scenario's data with those values set
(:func:`sim.model.paths.set_many`) and validated, simulated for a number of replications
(the same seeds at every point: common random numbers), and saved as
``points/point-000012.json`` with a checksum that ``--resume`` verifies. The
analysis (Morris, Sobol, or RBD-FAST for the Latin hypercube) is done once all
points are in. The folder follows the output rule of :mod:`sim.io.safety`.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import stats

from sim import __version__
from sim.engines.backends import Backend
from sim.engines.select import FIRST_RUN_NOTE
from sim.io.safety import claim_folder, merge_into, new_folder
from sim.io.tables import ANNUAL_FLOWS, annual_table
from sim.io.workfolder import COMPLETE, TMP_PREFIX, BadUnit, WorkFolder, atomic_write_json
from sim.model import ScenarioError, content_hash, paths, resolve_path
from sim.model.compiled import compile_scenario
from sim.model.limits import MAX_REPLICATION_MONTHS
from sim.model.loader import deep_merge, load_raw, validate
from sim.model.values import Integer, Number
from sim.util.inputs import InputError, read_input, read_input_text
from sim.util.progress import Progress

METHODS = ("morris", "sobol", "lhs")
MIN_N = {"morris": 2, "sobol": 2, "lhs": 10}  # below these SALib's analyses (and bootstraps) degenerate
MAIN_INDEX = {"morris": "mu_star", "sobol": "ST", "lhs": "S1"}
OUTPUTS = ("caseload_mean", "caseload_end", "inflow", "exits_work", "exits_other", "movements")
MAX_POINTS = 10_000  # design points: each is a scenario run of several replications
Bound = Annotated[float, Number, Field(allow_inf_nan=False)]


class Bounds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    low: Bound
    high: Bound

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if not self.low < self.high:
            raise ValueError("low must be < high")
        return self


class SweepParameters(BaseModel):
    """The contents of a sweep's parameters file."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=500)
    metric: str = "caseload_mean"
    year: Annotated[int, Integer] | None = None
    parameters: dict[str, Bounds] = Field(min_length=1, max_length=100)


def load_parameters(path: str | Path) -> SweepParameters:
    """Read and validate a parameters file; problems become a :class:`ScenarioError`."""
    try:
        data = tomllib.loads(read_input_text(path))  # a regular file of at most 1 MB
        return SweepParameters.model_validate(data)
    except InputError as exc:
        raise ScenarioError([str(exc)]) from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise ScenarioError([f"{path}: cannot read parameters ({exc or type(exc).__name__})"]) from None
    except ValidationError as exc:
        raise ScenarioError(
            [f"{path}: {'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        ) from None


def point_data(raw: dict[str, Any], names: list[str], row: np.ndarray | list[float]) -> dict[str, Any]:
    """Scenario data with each parameter path in ``names`` set to its value in ``row``."""
    try:
        return paths.set_many(raw, dict(zip(names, row)))
    except paths.PathError as exc:
        raise ScenarioError([f"parameters.{exc}"]) from None


def problem_of(params: SweepParameters) -> dict[str, Any]:
    """The SALib problem definition."""
    names = list(params.parameters)
    return {"num_vars": len(names), "names": names, "bounds": [[b.low, b.high] for b in params.parameters.values()]}


def design(problem: dict[str, Any], method: str, n: int, seed: int) -> np.ndarray:
    """SALib sample matrix, one row per point.

    Args:
        problem: SALib problem (``num_vars``, ``names``, ``bounds``).
        method: ``morris`` (``n`` trajectories, ``n * (k + 1)`` points), ``sobol``
            (base sample ``n``, ``n * (k + 2)`` points) or ``lhs`` (``n`` points).
        n: Design size as above.
        seed: Seed of the design.
    """
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, n, num_levels=4, seed=seed)
    if method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, n, calc_second_order=False, seed=seed)
    if method == "lhs":
        from SALib.sample import latin

        return latin.sample(problem, n, seed=seed)
    raise ValueError(f"unknown method {method!r} (choose from {', '.join(METHODS)})")


def analyze(problem: dict[str, Any], method: str, x: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    """Sensitivity indices with 95% confidence intervals: ``parameter, index, value, ci_low, ci_high``."""
    if method == "morris":
        from SALib.analyze import morris

        res = morris.analyze(problem, x, y, conf_level=0.95, num_resamples=1000, seed=seed)
        pairs = {"mu_star": "mu_star_conf", "mu": None, "sigma": None}
    elif method == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(problem, y, calc_second_order=False, conf_level=0.95, seed=seed)
        pairs = {"S1": "S1_conf", "ST": "ST_conf"}
    elif method == "lhs":
        from SALib.analyze import rbd_fast

        harmonics = min(10, max(1, (len(y) - 1) // 2))  # RBD-FAST needs more points than 2 M
        with np.errstate(invalid="ignore", divide="ignore"):  # tiny designs: degenerate bootstrap draws
            res = rbd_fast.analyze(problem, x, y, M=harmonics, conf_level=0.95, seed=seed)
        pairs = {"S1": "S1_conf"}
    else:
        raise ValueError(f"unknown method {method!r}")
    rows = []
    for index, conf in pairs.items():
        for name, value, half in zip(
            problem["names"], res[index], res[conf] if conf else [math.nan] * problem["num_vars"]
        ):
            rows.append({"parameter": name, "index": index, "value": float(value),
                         "ci_low": float(value - half), "ci_high": float(value + half)})  # fmt: skip
    return pd.DataFrame(rows)


def halfwidth(values: np.ndarray) -> float:
    """Half-width of the 95% t confidence interval of the mean."""
    n = len(values)
    if n < 2:
        return math.inf
    return float(stats.t.ppf(0.975, n - 1) * np.std(values, ddof=1) / math.sqrt(n))


@dataclass
class SweepSettings:
    method: str = "morris"
    n: int = 4
    seed: int = 1
    replications: int = 5
    years: int | None = None
    target_halfwidth: float | None = None
    max_replications: int = 200
    resume: bool = False
    kernel: str = "auto"  # sim.engines.select.KERNELS


def design_size(method: str, n: int, k: int) -> int:
    """Points of a design of size ``n`` over ``k`` parameters (see :func:`design`)."""
    return {"morris": n * (k + 1), "sobol": n * (k + 2)}.get(method, n)


def run_sweep(
    scenario_path: str | Path, params: SweepParameters, settings: SweepSettings, out: Path | None, backend: Backend,
    force: bool = False, quiet: bool = True,
) -> Path:  # fmt: skip
    """Run every design point (skipping saved ones when resuming), then analyse and write outputs.

    Progress (points done, with an ETA) goes to stderr unless ``quiet``.

    Args:
        out: Output folder; None makes a new one under ``runs/``.

    Returns:
        The sweep folder.
    """
    if settings.n < MIN_N.get(settings.method, 1):
        raise ValueError(f"--method {settings.method} needs --n >= {MIN_N[settings.method]}")
    points = design_size(settings.method, settings.n, len(params.parameters))
    if points > MAX_POINTS:
        raise ValueError(f"--n {settings.n}: the {settings.method} design has {points:,} points, more than the limit of {MAX_POINTS:,}")
    path = resolve_path(scenario_path)
    raw = load_raw(path)
    if settings.years:
        raw = deep_merge(raw, {"years": settings.years})
    base = validate(raw, origin=str(path))
    integers = _check_paths(raw, params)
    _check_metric(base, params)
    problem = problem_of(params)

    def applied(row) -> list[float | int]:
        # counts (e.g. initial stocks) are integers in the scenario: the design value is rounded
        return [round(v) if name in integers else float(v) for name, v in zip(problem["names"], row)]

    for corner in ([b.low for b in params.parameters.values()], [b.high for b in params.parameters.values()]):
        validate(point_data(raw, problem["names"], applied(corner)), origin=str(path))
    per_point = settings.max_replications if settings.target_halfwidth else settings.replications
    if points * per_point * 12 * base.years > MAX_REPLICATION_MONTHS:
        raise ValueError(
            f"--n x --replications: {points:,} points x {per_point} replications x {12 * base.years} months is "
            f"more than the limit of {MAX_REPLICATION_MONTHS:,} replication-months"
        )
    x = design(problem, settings.method, settings.n, settings.seed)
    identity = {
        "scenario_sha256": content_hash(base),
        "parameters_sha256": hashlib.sha256(params.model_dump_json().encode()).hexdigest(),
        "method": settings.method, "n": settings.n, "seed": settings.seed,
        "replications": settings.replications, "target_halfwidth": settings.target_halfwidth,
        "max_replications": settings.max_replications,
    }  # fmt: skip
    if out is None:
        claim = new_folder("sweep", f"sweep-{settings.method}")
    else:
        claim = claim_folder(Path(out), "sweep", force=force, resume=settings.resume)
    with claim:
        folder = WorkFolder(claim.path, identity, sub="points", unit="point", suffix=".json")
        folder.open(resume=settings.resume)
        stamp = {"identity_sha256": _sha256(identity), "version": __version__}
        done = folder.reusable(range(len(x)), lambda p, i: load_point(p, stamp | {"point": i}))
        with Progress(len(x), f"sweep {settings.method}", unit="points", quiet=quiet, initial=len(done)) as bar:
            if settings.kernel != "simpy":
                bar.note_if_slow(FIRST_RUN_NOTE)
            for i, row in enumerate(x):
                if i in done:
                    continue
                values = applied(row)
                scenario = validate(point_data(raw, problem["names"], values), origin=str(path))
                # a sweep varies parameters itself: parameter draws would blur exactly what it measures
                scenario = scenario.model_copy(update={"uncertainty": None})
                record = _run_point(scenario, params, settings, backend)
                save_point(folder.path(i), {"point": i, "inputs": dict(zip(problem["names"], values))} | record, stamp)
                bar.update()
        _write_outputs(folder, problem, params, settings, x, stamp)
    return claim.path


def _sha256(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def save_point(path: Path, record: dict[str, Any], stamp: dict[str, Any]) -> None:
    """Write a point record with its stamp and the SHA-256 of the rest (verified by :func:`load_point`)."""
    body = record | stamp
    atomic_write_json(path, body | {"sha256": _sha256(body)})


def load_point(path: Path, expect: dict[str, Any]) -> dict[str, Any]:
    """A saved point record, checked against its checksum and ``expect``.

    Raises:
        BadUnit: Unreadable, damaged, or written for other work.
    """
    try:
        data = json.loads(read_input(path))
    except (InputError, ValueError) as exc:
        raise BadUnit(f"{path}: not a readable point file ({exc})") from None
    if not isinstance(data, dict) or data.pop("sha256", None) != _sha256(data):
        raise BadUnit(f"{path}: checksum does not match its content")
    for key, value in expect.items():
        if data.get(key) != value:
            raise BadUnit(f"{path}: written for {key} {data.get(key)!r}, this sweep has {value!r}")
    return data


def _run_point(scenario, params: SweepParameters, settings: SweepSettings, backend: Backend) -> dict[str, Any]:
    """Replications of one point, in batches until the metric's CI half-width meets the target."""
    compiled = compile_scenario(scenario)
    year = params.year or scenario.start.year + scenario.years - 1
    rows: list[pd.DataFrame] = []
    n = 0
    while True:
        batch = range(n, min(n + settings.replications, settings.max_replications))
        results = sorted(backend.map(scenario, settings.seed, batch, settings.kernel), key=lambda r: r.replication)
        for res in results:
            annual = annual_table(compiled, [res], scenario.monitors)
            rows.append(annual[annual["year"] == year])
        n = batch.stop
        table = pd.concat(rows, ignore_index=True)
        if params.metric not in table.columns:
            raise ScenarioError([f"metric: {params.metric!r} is not a column of annual.csv"])
        hw = halfwidth(table[params.metric].to_numpy(float))
        if settings.target_halfwidth is None or hw <= settings.target_halfwidth or n >= settings.max_replications:
            break
    outputs = {name: float(table[name].mean()) for name in dict.fromkeys((params.metric, *OUTPUTS))}
    return {"replications": n, "outputs": outputs, "halfwidth": hw}


def _write_outputs(folder: WorkFolder, problem, params: SweepParameters, settings: SweepSettings, x, stamp) -> None:
    out = folder.root
    (out / COMPLETE).unlink(missing_ok=True)
    records = [load_point(folder.path(i), stamp | {"point": i}) for i in range(len(x))]
    table = pd.DataFrame(
        [{"point": r["point"], **r["inputs"], "replications": r["replications"], **r["outputs"],
          f"{params.metric}_halfwidth": r["halfwidth"]} for r in records]
    )  # fmt: skip
    frames = []
    for metric in dict.fromkeys((params.metric, *OUTPUTS)):
        y = table[metric].to_numpy(float)
        frames.append(analyze(problem, settings.method, x, y, settings.seed).assign(metric=metric))
    sensitivity = pd.concat(frames, ignore_index=True)[["metric", "parameter", "index", "value", "ci_low", "ci_high"]]
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}outputs-", dir=out))
    try:
        table.to_parquet(tmp / "sweep.parquet", index=False)
        sensitivity.to_csv(tmp / "sensitivity.csv", index=False)
        (tmp / "charts").mkdir()
        main = MAIN_INDEX[settings.method]
        tornado_chart(sensitivity[(sensitivity["metric"] == params.metric) & (sensitivity["index"] == main)],
                      tmp / "charts" / "sensitivity.png", f"{params.metric}: {main} ({settings.method})")  # fmt: skip
        merge_into(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    atomic_write_json(out / COMPLETE, folder.identity | {"points": len(x), "metric": params.metric})


def tornado_chart(indices: pd.DataFrame, path: Path, title: str) -> None:
    """Horizontal bars of one index per parameter, largest on top, with 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = indices.sort_values("value")
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.45 * len(data)))
    err = np.vstack([data["value"] - data["ci_low"], data["ci_high"] - data["value"]])
    ax.barh(data["parameter"], data["value"], xerr=np.nan_to_num(err), color="#1f4e79", capsize=3)
    ax.set_title(title)
    ax.set_xlabel("sensitivity index (bars: 95% interval)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _check_paths(raw: dict[str, Any], params: SweepParameters) -> set[str]:
    """Check every parameter path names a number; return the paths that are counts (whole numbers)."""
    problems = []
    for dotted in params.parameters:
        try:
            paths.get(raw, dotted)
        except paths.PathError as exc:
            problems.append(f"parameters.{dotted}: not a number in the scenario ({str(exc).split(': ', 1)[-1]})")
    if problems:
        raise ScenarioError(problems)
    return {dotted for dotted in params.parameters if paths.is_count(dotted)}


def _check_metric(scenario, params: SweepParameters) -> None:
    known = {"caseload_end", "caseload_mean", *ANNUAL_FLOWS, *(f"stock_{name}" for name in scenario.states)}
    problems = []
    if params.metric not in known:
        problems.append(f"metric: {params.metric!r} is not a column of annual.csv ({', '.join(sorted(known))})")
    first, last = scenario.start.year, scenario.start.year + scenario.years - 1
    if params.year is not None and not first <= params.year <= last:
        problems.append(f"year: {params.year} is outside the simulated years {first}-{last}")
    if problems:
        raise ScenarioError(problems)
