"""Parameter sweeps and global sensitivity analysis (SALib), resumable point by point.

A parameters file names dotted key paths into the scenario with bounds::

    metric = "caseload_mean"     # annual metric to analyse (a column of annual.csv)
    [parameters."states.a.transitions.work.rate.value"]
    low = 0.02
    high = 0.08

SALib draws the design (Morris trajectories, Sobol/Saltelli points or a Latin
hypercube); every point is a scenario with those values applied through
``load_scenario(..., overrides=...)``, simulated for a number of replications
(the same seeds at every point: common random numbers), and saved as
``points/point-000012.json``. The analysis (Morris, Sobol, or RBD-FAST for the
Latin hypercube) is done once all points are in.
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
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import stats

from sim.engines.backends import Backend
from sim.io.tables import ANNUAL_FLOWS, annual_table, write_json
from sim.io.workfolder import COMPLETE, TMP_PREFIX, WorkFolder, atomic_write_json
from sim.model import ScenarioError, content_hash, load_scenario, resolve_path
from sim.model.compiled import compile_scenario

METHODS = ("morris", "sobol", "lhs")
MIN_N = {"morris": 2, "sobol": 2, "lhs": 10}  # below these SALib's analyses (and bootstraps) degenerate
MAIN_INDEX = {"morris": "mu_star", "sobol": "ST", "lhs": "S1"}
OUTPUTS = ("caseload_mean", "caseload_end", "inflow", "exits_work", "exits_other", "movements")


class Bounds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    low: float = Field(allow_inf_nan=False)
    high: float = Field(allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if not self.low < self.high:
            raise ValueError("low must be < high")
        return self


class SweepParameters(BaseModel):
    """The contents of a sweep's parameters file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    metric: str = "caseload_mean"
    year: int | None = None
    parameters: dict[str, Bounds] = Field(min_length=1, max_length=100)


def load_parameters(path: str | Path) -> SweepParameters:
    """Read and validate a parameters file; problems become a :class:`ScenarioError`."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        return SweepParameters.model_validate(data)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError([f"{path}: cannot read parameters ({exc})"]) from None
    except ValidationError as exc:
        raise ScenarioError(
            [f"{path}: {'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
        ) from None


def overrides_for(paths: list[str], row: np.ndarray | list[float]) -> dict[str, Any]:
    """Nested override tables setting each dotted ``path`` to its value in ``row``."""
    nested: dict[str, Any] = {}
    for path, value in zip(paths, row):
        *tables, last = path.split(".")
        node = nested
        for key in tables:
            node = node.setdefault(key, {})
        node[last] = value.item() if isinstance(value, np.generic) else value
    return nested


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


def run_sweep(
    scenario_path: str | Path, params: SweepParameters, settings: SweepSettings, out: Path, backend: Backend,
    force: bool = False,
) -> Path:  # fmt: skip
    """Run every design point (skipping saved ones when resuming), then analyse and write outputs."""
    if settings.n < MIN_N.get(settings.method, 1):
        raise ValueError(f"--method {settings.method} needs --n >= {MIN_N[settings.method]}")
    path = resolve_path(scenario_path)
    base_overrides = {"years": settings.years} if settings.years else {}
    base = load_scenario(path, overrides=base_overrides or None)
    integers = _check_paths(base, params)
    _check_metric(base, params)
    problem = problem_of(params)

    def applied(row) -> list[float | int]:
        # counts (e.g. initial stocks) are integers in the scenario: the design value is rounded
        return [round(v) if name in integers else float(v) for name, v in zip(problem["names"], row)]

    for corner in ([b.low for b in params.parameters.values()], [b.high for b in params.parameters.values()]):
        load_scenario(path, overrides=_merge(base_overrides, overrides_for(problem["names"], applied(corner))))
    x = design(problem, settings.method, settings.n, settings.seed)
    identity = {
        "scenario_sha256": content_hash(base),
        "parameters_sha256": hashlib.sha256(params.model_dump_json().encode()).hexdigest(),
        "method": settings.method, "n": settings.n, "seed": settings.seed,
        "replications": settings.replications, "target_halfwidth": settings.target_halfwidth,
        "max_replications": settings.max_replications,
    }  # fmt: skip
    folder = WorkFolder(out, identity, sub="points", unit="point", suffix=".json")
    folder.open(resume=settings.resume, force=force)
    done = folder.done()
    for i, row in enumerate(x):
        if i in done:
            continue
        values = applied(row)
        scenario = load_scenario(path, overrides=_merge(base_overrides, overrides_for(problem["names"], values)))
        record = _run_point(scenario, params, settings, backend)
        atomic_write_json(folder.path(i), {"point": i, "inputs": dict(zip(problem["names"], values))} | record)
    _write_outputs(folder, problem, params, settings, x)
    return out


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
            annual = annual_table(compiled, [res])
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


def _write_outputs(folder: WorkFolder, problem, params: SweepParameters, settings: SweepSettings, x) -> None:
    out = folder.root
    (out / COMPLETE).unlink(missing_ok=True)
    records = [json.loads(folder.path(i).read_text()) for i in range(len(x))]
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
        for p in sorted(tmp.iterdir()):
            if (out / p.name).is_dir():
                shutil.rmtree(out / p.name)
            p.replace(out / p.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_json(out / f"{TMP_PREFIX}{COMPLETE}", folder.identity | {"points": len(x), "metric": params.metric})
    (out / f"{TMP_PREFIX}{COMPLETE}").replace(out / COMPLETE)


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


def _check_paths(scenario, params: SweepParameters) -> set[str]:
    """Check every parameter path names a number; return the paths whose schema type is an integer."""
    problems, integers = [], set()
    for dotted in params.parameters:
        node: Any = scenario
        for key in dotted.split("."):
            node = _child(node, key)
        if isinstance(node, bool) or not isinstance(node, int | float):
            problems.append(f"parameters.{dotted}: not a number in the scenario")
        elif isinstance(node, int):
            integers.add(dotted)
    if problems:
        raise ScenarioError(problems)
    return integers


def _child(node: Any, key: str) -> Any:
    """``node[key]`` in validated scenario objects (fields by name or TOML alias), else None."""
    if isinstance(node, dict):
        return node.get(key)
    if isinstance(node, BaseModel):
        for name, field in type(node).model_fields.items():
            if key in (name, field.alias):
                return getattr(node, name)
    return None


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


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    from sim.model.loader import deep_merge

    return deep_merge(base, extra)
