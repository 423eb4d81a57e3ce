"""One model, two engines: pick the one that runs a compiled model, and run it.

The SimPy engine (:mod:`sim.engines.simpy_engine`) is the readable reference:
it runs every mechanism and keeps event logs, and new mechanisms land there
first. The compiled engine (:mod:`sim.engines.fast`) gives the same results
(``tests/test_engines.py``) many times faster, for the mechanisms it runs.
``auto`` picks the compiled engine when it runs every mechanism the model uses
(``Compiled.features``) and no event log is asked for, else the SimPy engine,
and says why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # the CLI imports this module to build its parser: keep it light
    from sim.engines.result import Result
    from sim.model.compiled import Compiled

KERNELS = ("auto", "simpy", "compiled")
# why a run that may use the compiled engine has finished nothing after a few seconds (Progress.note_if_slow)
BUILD_NOTE = "the first run after installing builds the compiled engine (about half a minute, once; later runs load it from a cache)"
FIRST_RUN_NOTE = f"nothing has finished yet: {BUILD_NOTE}"


class Choice(NamedTuple):
    kernel: str  # "simpy" or "compiled"
    reason: str  # why, for a message or the manifest


def choose(compiled: Compiled, kernel: str = "auto", log_events: bool = False) -> Choice:
    """The engine that runs ``compiled``.

    Raises:
        ValueError: ``kernel`` is unknown, or ``"compiled"`` for a model or an event log it cannot do.
    """
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r} (choose from {', '.join(KERNELS)})")
    if kernel == "simpy":
        return Choice("simpy", "--kernel simpy")
    missing = _compiled_cannot(compiled)
    if kernel == "compiled":
        if log_events:
            raise ValueError("event logs are kept by the SimPy engine only: use --kernel simpy or auto")
        if missing:
            raise ValueError(f"the compiled engine does not run {'; '.join(missing)}: use --kernel simpy or auto")
        return Choice("compiled", "--kernel compiled")
    if log_events:
        return Choice("simpy", "an event log is kept by the SimPy engine only")
    if missing:
        return Choice("simpy", f"the compiled engine does not run {'; '.join(missing)}")
    return Choice("compiled", "the compiled engine runs every mechanism of this model")


def _compiled_cannot(compiled: Compiled) -> list[str]:
    try:
        from sim.engines import fast
    except ImportError as exc:  # numba missing or broken: the SimPy engine still runs everything
        return [f"anything here (it cannot be loaded: {exc})"]
    return fast.unsupported(compiled)


def simulate(compiled: Compiled, seed: int, replication: int = 0, kernel: str = "auto",
             log_events: bool = False) -> Result:  # fmt: skip
    """Run one replication of ``compiled`` on the engine :func:`choose` picks."""
    if choose(compiled, kernel, log_events).kernel == "compiled":
        from sim.engines import fast

        return fast.simulate(compiled, seed, replication)
    from sim.engines import simpy_engine

    return simpy_engine.simulate(compiled, seed, replication, log_events)
