"""The ``caseload-sim`` entry point: the parser and the one place errors become exit codes.

Whatever goes wrong ends in ``error: ...`` lines on stderr naming the file, key
or option, and a non-zero exit; never a traceback (set ``CASELOAD_SIM_DEBUG=1``
to see one for an unexpected error).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import traceback
from collections.abc import Callable

from sim import __version__

EXIT_INVALID = 2  # a refused input, option or output target
EXIT_INTERNAL = 70  # a bug (sysexits EX_SOFTWARE)
EXIT_IO = 74  # the operating system refused (sysexits EX_IOERR): read-only, disk full, name too long
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a reader that went away
COMMANDS = (
    "run", "validate", "scenarios", "parameters", "calibrate", "experiment", "sweep", "compare", "goal_seek", "monitor",
    "explore", "backtest",
)  # modules under sim.cli, in help order  # fmt: skip


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one ``error:`` line naming the option (no usage block)."""

    def error(self, message: str):
        self.exit(EXIT_INVALID, f"error: {message} (see '{self.prog} --help')\n")


def main(argv: list[str] | None = None) -> int:
    previous = signal.signal(signal.SIGTERM, _interrupt) if _main_thread() else None
    try:
        return _run(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run(argv: list[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_INVALID
    return guarded(lambda: args.handler(args))


def guarded(work: Callable[[], int]) -> int:
    """Run ``work`` and turn whatever it raises into ``error:`` lines and an exit code."""
    from sim.model import ScenarioError  # not at the top: --help must not load the schema (pydantic)

    try:
        code = work()
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's shutdown
        return code
    except ScenarioError as exc:
        for problem in exc.problems:
            _error(problem)
        return EXIT_INVALID
    except KeyboardInterrupt as exc:
        _error(f"interrupted{': ' + str(exc) if str(exc) else ''}")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        _error("output closed before it was all written (broken pipe)")
        return EXIT_BROKEN_PIPE
    except ValueError as exc:  # refused options, inputs and output targets (all ValueError subclasses)
        _error(str(exc))
        return EXIT_INVALID
    except OSError as exc:
        _error(describe_os_error(exc))
        return EXIT_IO
    except MemoryError:
        _error("out of memory; use fewer replications, years or households")
        return EXIT_IO
    except Exception as exc:  # a bug: still one line, the traceback on request
        if os.environ.get("CASELOAD_SIM_DEBUG"):
            traceback.print_exc()
        _error(f"internal error ({type(exc).__name__}: {exc}); set CASELOAD_SIM_DEBUG=1 for the traceback")
        return EXIT_INTERNAL


def describe_os_error(exc: OSError) -> str:
    """``<file>: <reason>`` for an operating-system error."""
    reason = (exc.strerror or str(exc) or type(exc).__name__).lower()
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    return f"{' -> '.join(names)}: {reason}" if names else reason


def _error(text: str) -> None:
    try:
        print(f"error: {text}", file=sys.stderr, flush=True)
    except OSError:  # stderr itself is gone: nothing left to tell
        pass


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout replaced by a test harness
        pass


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt("terminated")


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="caseload-sim",
        description="Discrete-event simulation of a municipality's bijstand caseload and its budgets.",
    )
    parser.add_argument("--version", action="version", version=f"caseload-sim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        importlib.import_module(f"sim.cli.{name}").register(sub)
    return parser
