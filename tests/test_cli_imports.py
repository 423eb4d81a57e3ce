"""``caseload-sim --help`` loads no heavy library: subcommands import what they need when they run.

(The CPU time of ``--help`` is measured in benchmarks/end_to_end.py, not asserted here.)
"""

import subprocess
import sys

import pytest

HEAVY = ("pandas", "scipy", "dask", "distributed", "numba", "matplotlib", "SALib", "openpyxl", "pyarrow", "pydantic")
PROBE = """
import sys
from sim.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
print(" ".join(sorted({{m.split(".")[0] for m in sys.modules}})))
"""


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["sweep", "--help"], ["compare", "--help"]])
def test_help_imports_no_heavy_library(argv):
    done = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_the_sweep_methods_the_parser_offers_are_the_sweeps():
    from sim.analysis.sweep import METHODS
    from sim.cli.sweep import METHODS as OFFERED

    assert OFFERED == METHODS
