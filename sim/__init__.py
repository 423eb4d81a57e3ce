"""caseload-sim: discrete-event simulation of bijstand caseload flows and their budgets.

The public API; everything else is internal. Names are imported when first
used, so that ``import sim`` (and ``caseload-sim --help``) stays fast.
"""

import importlib

__version__ = "0.1.0"

import os as _os

# The analytic model multiplies many small matrices; a multithreaded BLAS only adds contention on a
# machine shared with DES worker processes (measured: one analytic evaluation 0.18 s single-threaded,
# >20 s with two processes' BLAS threads competing for 2 cores). Set before numpy loads its BLAS;
# an explicit setting in the environment wins.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_name, "1")

_HOME = {
    "FLOWS": "sim.model.records",
    "Compiled": "sim.model.compiled",
    "Event": "sim.model.records",
    "Result": "sim.engines.result",
    "Scenario": "sim.model",
    "ScenarioError": "sim.model",
    "compile_scenario": "sim.model.compiled",
    "erlang_c": "sim.analytic",
    "expected": "sim.analytic",
    "load_scenario": "sim.model",
    "mean_wait": "sim.analytic",
    "run_replications": "sim.engines.backends",
    "simulate": "sim.engines.select",  # picks the compiled or the SimPy engine (kernel="auto")
}

__all__ = [
    "FLOWS",
    "Compiled",
    "Event",
    "Result",
    "Scenario",
    "ScenarioError",
    "compile_scenario",
    "erlang_c",
    "expected",
    "load_scenario",
    "mean_wait",
    "run_replications",
    "simulate",
]


def __getattr__(name: str):
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
