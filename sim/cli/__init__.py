"""The ``caseload-sim`` command line: one module per subcommand (``sim/cli/<name>.py``).

Each subcommand module defines ``register(subparsers)`` and a ``handle(args)``
that imports what it needs when it runs, so ``caseload-sim --help`` stays fast.
"""

from sim.cli.main import main

__all__ = ["main"]
