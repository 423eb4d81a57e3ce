"""Exact sampling of a household's next event from piecewise-constant hazards.

Transitions are competing risks: each transition of a sojourn has its own
unit-exponential clock and fires when its integrated hazard reaches it.
Hazards are constant between calendar segment edges (lever dates) and
spell-duration band edges, so every clock's ringing time is found exactly,
without ticking. See docs/model.md, "Hazards".

A hazard table is ``table[segment][band][transition]`` (nested lists of
floats: indexing lists is several times faster than indexing NumPy arrays
element by element in this loop). The samplers read it through :func:`live`:
per segment and band only the transitions with a positive hazard, as
``(transition, hazard)`` pairs, so a zero hazard costs nothing; they visit the
transitions in the same order and do the same arithmetic as a loop over the
full row that skips ``h <= 0``.
"""

from __future__ import annotations

import bisect
import math


def live(table: list) -> tuple:
    """A hazard table as ``live[segment][band]``: the ``(transition, hazard)`` pairs whose hazard is positive,
    in transition order (the samplers below skip the others, as a zero hazard never rings)."""
    return tuple(tuple(tuple((k, h) for k, h in enumerate(row) if h > 0.0) for row in rows) for rows in table)


def ring_constant(row: tuple, clocks, first: int, now: float, horizon: float) -> tuple[float, int] | None:
    """The first clock to ring when the live hazards are ``row`` until the horizon: (time, transition) or None.

    Transition ``k``'s clock is ``clocks[first + k]`` (``clocks`` may be the household's whole row)."""
    best, fired = horizon - now, -1
    for k, h in row:
        clock = clocks[first + k]
        if clock < best * h:
            best, fired = clock / h, k
    return (now + best, fired) if fired >= 0 else None


def ring(table: tuple, clocks, first: int, n: int, t: float, spell: float, cal: tuple[float, ...],
         edges: tuple[float, ...], horizon: float) -> tuple[float, int] | None:  # fmt: skip
    """The first clock to ring after ``t``: (time, transition) or None before the horizon.

    Walks forward over the segments where every hazard is constant (calendar
    edges ``cal`` and spell-duration edges ``edges``, the spell having started at
    ``spell``), winding the ``n`` clocks ``clocks[first:first + n]`` down by the hazard
    each segment uses: on a copy, made at the first segment passed, so ``clocks`` stays as it was.
    """
    j = bisect.bisect_right(cal, t) - 1
    b = bisect.bisect_right(edges, t - spell)
    n_cal, n_dur = len(cal), len(edges)
    own = False
    while True:
        row = table[j][b]
        t_cal = cal[j + 1] if j + 1 < n_cal else horizon
        t_dur = spell + edges[b] if b < n_dur else math.inf
        t_end = t_dur if t_dur < t_cal else t_cal
        if t_end > horizon:
            t_end = horizon
        best, fired = t_end, -1
        for k, h in row:
            at = t + clocks[first + k] / h
            if at < best:
                best, fired = at, k
        if fired >= 0:
            return best, fired
        if t_end >= horizon:
            return None
        if not own:
            clocks, first, own = list(clocks[first : first + n]), 0, True
        span = t_end - t
        for k, h in row:
            clocks[k] -= h * span
        t = t_end
        if t_cal == t_end:
            j += 1
        if t_dur == t_end:
            b += 1


def wind_down(table: tuple, clocks, t: float, until: float, spell: float,
              cal: tuple[float, ...], edges: tuple[float, ...]) -> None:  # fmt: skip
    """Wind each clock down by its hazard integrated over ``[t, until)`` (a waiting client woken early)."""
    j = bisect.bisect_right(cal, t) - 1
    b = bisect.bisect_right(edges, t - spell)
    while t < until:
        row = table[j][b]
        t_cal = cal[j + 1] if j + 1 < len(cal) else math.inf
        t_dur = spell + edges[b] if b < len(edges) else math.inf
        t_end = min(t_cal, t_dur, until)
        for k, h in row:
            clocks[k] = max(0.0, clocks[k] - h * (t_end - t))
        t = t_end
        if t_cal == t_end:
            j += 1
        if t_dur == t_end:
            b += 1


def without(table: tuple, k: int) -> tuple:
    """A live ``table`` with transition ``k`` switched off (it is waiting for a place and cannot fire again)."""
    return tuple(tuple(tuple(pair for pair in row if pair[0] != k) for row in rows) for rows in table)
