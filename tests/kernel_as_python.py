"""The compiled engine's kernel as plain Python against the SimPy engine (run by ``tests/test_engines.py``).

``python -m tests.kernel_as_python NAME...`` with ``NUMBA_DISABLE_JIT=1`` (numba reads it at import, hence a
process of its own): every ``njit`` function of ``sim/engines/fast_*.py`` is then an ordinary Python function,
which coverage can trace, and the models named (``tests.test_engines._compiled``) run on both engines;
any output that differs is printed and the exit status is 1.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np

from sim.engines import fast, simpy_engine
from sim.engines.fast_struct import INTERPRETED
from tests.test_engines import FIELDS, SEED, _compiled

REPLICATIONS = 2


def differences(name: str) -> list[str]:
    c = _compiled(name)
    out = []
    for r in range(REPLICATIONS):
        a, b = simpy_engine.simulate(c, SEED, r), fast.simulate(c, SEED, r)
        for field in FIELDS:
            x, y = getattr(a, field), getattr(b, field)
            same = np.array_equal(x, y) if isinstance(x, np.ndarray) and isinstance(y, np.ndarray) else x == y
            if not same:
                out.append(f"{name}, replication {r}: {field} differs")
    return out


def main(names: list[str]) -> int:
    if not INTERPRETED:
        print("NUMBA_DISABLE_JIT=1 is not set: the kernel would run compiled")
        return 2
    warnings.simplefilter("ignore", RuntimeWarning)  # numpy's scalar uint64 arithmetic wraps on purpose (fast_random)
    with np.errstate(over="ignore"):
        problems = [line for name in names for line in differences(name)]
    print("\n".join(problems) or f"the same outputs: {', '.join(names)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
