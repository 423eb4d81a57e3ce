"""Progress of long commands: a bar with ETA on a terminal, a line per 10% otherwise.

Every command that runs longer than a few seconds reports through one
:class:`Progress`. On a terminal it is a tqdm bar; when stderr is a file or a
pipe (a scheduled job, CI, ``2>log``) a bar would write hundreds of carriage
returns, so it prints one plain line each time another 10% is done instead.
``quiet`` silences both.

A total that is only an estimate (goal-seek does not know in advance how many
evaluations Brent's method needs) can grow with :meth:`Progress.grow`.

Work that may start slowly for a known reason (the compiled engine is compiled
on the first run after installing) says why with :meth:`Progress.note_if_slow`
when nothing has finished after a few seconds; the ETA then counts from the
first finished unit, so the one-off wait does not inflate it.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from tqdm import tqdm

STEP = 10  # percent between two lines when stderr is not a terminal
SLOW_START = 5.0  # seconds without a finished unit before note_if_slow's note is shown


class Progress:
    """Count finished units of work and show it on stderr.

    Args:
        total: Units expected (replications, points, evaluations...).
        desc: What is running, shown before the count.
        unit: Name of one unit.
        quiet: Show nothing.
        initial: Units already done (e.g. replications reused on ``--resume``).
        stream: Where to write (default ``sys.stderr``, looked up when created so tests can capture it).
        lines: Write plain lines when ``stream`` is not a terminal; library calls pass False to stay silent.
    """

    def __init__(
        self,
        total: int,
        desc: str,
        unit: str = "rep",
        quiet: bool = False,
        initial: int = 0,
        stream: TextIO | None = None,
        lines: bool = True,
    ):
        self.stream = stream if stream is not None else sys.stderr
        self.total, self.done, self.desc, self.unit = max(0, int(total)), int(initial), desc, unit
        self._initial = self.done  # reused units (a resume) say nothing about the pace
        tty = _isatty(self.stream)
        self.mode = "off" if quiet else "bar" if tty else "lines" if lines else "off"
        self._started = time.monotonic()
        self._next = self._decile_after(self.done)
        self._timer: threading.Timer | None = None
        self._slow = False  # the slow-start note was shown: the ETA counts from the first finished unit
        self._first: tuple[float, int] | None = None  # (time, units done) at the first update
        self._bar = None
        if self.mode == "bar":
            self._bar = tqdm(total=self.total, initial=self.done, desc=desc, unit=unit, file=self.stream,
                             dynamic_ncols=True)  # fmt: skip

    def note_if_slow(self, text: str, after: float | None = None) -> None:
        """Show ``text`` once if no unit has finished ``after`` seconds (default :data:`SLOW_START`) from now.

        For a wait with a known cause, e.g. the compiled engine compiling on the first run
        after installing. Calls after the first do nothing; so does a silent progress."""
        if self.mode == "off" or self._timer is not None:
            return
        done = self.done

        def say() -> None:
            if self.done == done:  # (close() cancels the timer)
                self._slow = True
                self._write(f"{self.desc}: {text}")

        self._timer = threading.Timer(SLOW_START if after is None else after, say)
        self._timer.daemon = True
        self._timer.start()

    def update(self, n: int = 1) -> None:
        """Mark ``n`` more units done."""
        self.done += n
        if self._first is None:
            self._first = (time.monotonic(), self.done)
        if self._bar is not None:
            self._bar.update(n)
        elif self.mode == "lines":
            self._maybe_line()

    def grow(self, n: int) -> None:
        """Raise the total by ``n`` (the work turned out larger than estimated)."""
        self.total += n
        self._next = self._decile_after(self.done)  # percentages fall when the total grows
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()

    def finish(self) -> None:
        """Complete the bar (work that ended early, e.g. a fit that converged) and close it."""
        if self.done < self.total:
            if self._bar is not None:
                self._bar.update(self.total - self.done)
            self.done = self.total
            if self.mode == "lines":
                self._maybe_line()
        self.close()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _decile_after(self, done: int) -> int:
        if self.total == 0:
            return 101
        return (100 * done // self.total) // STEP * STEP + STEP

    def _maybe_line(self) -> None:
        if self.total == 0:
            return
        percent = 100 * self.done // self.total
        if percent < self._next:
            return
        self._next = percent // STEP * STEP + STEP
        now = time.monotonic()
        elapsed = now - self._started
        since, done = self._started, self.done - self._initial
        if self._slow and self._first is not None:  # time the pace from the first finished unit, past the wait
            since, done = self._first[0], self.done - self._first[1]
        rate = done / (now - since) if now > since and done > 0 else 0.0
        if self.done >= self.total:
            eta = tqdm.format_interval(0)
        else:  # no pace yet (one unit past the wait): no guess
            eta = tqdm.format_interval((self.total - self.done) / rate) if rate > 0 else "?"
        self._write(
            f"{self.desc}: {min(percent, 100):3d}% ({self.done}/{self.total} {self.unit}) "
            f"elapsed {tqdm.format_interval(elapsed)}, ETA {eta}"
        )

    def _write(self, line: str) -> None:
        if self._bar is not None:
            tqdm.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or not a real file
        return False
