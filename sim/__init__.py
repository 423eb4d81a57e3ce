"""caseload-sim: discrete-event simulation of bijstand caseload flows and their budgets.

The public API; everything else is internal.
"""

__version__ = "0.1.0"

from .analytic import erlang_c, expected, mean_wait  # noqa: E402
from .compiled import Compiled, compile_scenario  # noqa: E402
from .engine import Result, simulate  # noqa: E402
from .records import FLOWS, Event  # noqa: E402
from .runner import run_replications  # noqa: E402
from .scenario import Scenario, ScenarioError, load_scenario  # noqa: E402

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
