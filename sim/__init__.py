"""caseload-sim: discrete-event simulation of bijstand caseload flows and their budgets.

The public API; everything else is internal.
"""

__version__ = "0.1.0"

import os as _os

# The analytic model multiplies many small matrices; a multithreaded BLAS only adds contention on a
# machine shared with DES worker processes (measured: one analytic evaluation 0.18 s single-threaded,
# >20 s with two processes' BLAS threads competing for 2 cores). Set before numpy loads its BLAS;
# an explicit setting in the environment wins.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_name, "1")

from sim.analytic import erlang_c, expected, mean_wait  # noqa: E402
from sim.engines.backends import run_replications  # noqa: E402
from sim.engines.result import Result  # noqa: E402
from sim.engines.simpy_engine import simulate  # noqa: E402
from sim.model import Scenario, ScenarioError, load_scenario  # noqa: E402
from sim.model.compiled import Compiled, compile_scenario  # noqa: E402
from sim.model.records import FLOWS, Event  # noqa: E402

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
