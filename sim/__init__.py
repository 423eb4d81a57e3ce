"""caseload-sim: discrete-event simulation of bijstand caseload flows and their budgets.

The public API; everything else is internal.
"""

__version__ = "0.1.0"

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
