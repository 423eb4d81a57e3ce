"""Exact next-event sampling (:mod:`sim.engines.sampling`), compiled.

The same arithmetic in the same order as the Python functions, so both engines
find bit-identical event times. A hazard table is a flat array: the table of
one (state, service mode, profile) starts at ``off`` and holds
``[segment][band][transition]``. ``excl`` switches one transition off (it is
waiting for a place and cannot fire again), like ``sampling.without``.

The comparisons are written out (``a if a < b else b``) rather than numba's
``min``/``max`` so that ties and signed zeros resolve as the Python code's do.
"""

from __future__ import annotations

import math

from numba import njit


@njit(cache=True, error_model="numpy")
def bisect_right(a, lo, n, x):
    """``bisect.bisect_right(a[lo:lo + n], x)``."""
    first, last = 0, n
    while first < last:
        mid = (first + last) // 2
        if x < a[lo + mid]:
            last = mid
        else:
            first = mid + 1
    return first


@njit(cache=True, error_model="numpy")
def ring_constant(tab, row, n_tr, excl, clocks, now, horizon):
    """``sampling.ring_constant`` on the hazards ``tab[row:row + n_tr]``: (time, transition), -1 for none."""
    best, fired = horizon - now, -1
    for k in range(n_tr):
        h = 0.0 if k == excl else tab[row + k]
        if h > 0.0 and clocks[k] < best * h:
            best, fired = clocks[k] / h, k
    return now + best, fired


@njit(cache=True, error_model="numpy")
def ring(tab, off, n_bands, n_tr, excl, clocks, t, spell, cal, edges, e0, n_dur, horizon):
    """``sampling.ring``: the first clock to ring after ``t`` (winding ``clocks`` down in place)."""
    n_cal = cal.shape[0]
    j = bisect_right(cal, 0, n_cal, t) - 1
    b = bisect_right(edges, e0, n_dur, t - spell)
    while True:
        row = off + (j * n_bands + b) * n_tr
        t_cal = cal[j + 1] if j + 1 < n_cal else horizon
        t_dur = spell + edges[e0 + b] if b < n_dur else math.inf
        t_end = t_dur if t_dur < t_cal else t_cal  # noqa: FURB136
        if t_end > horizon:  # noqa: PLR1730
            t_end = horizon
        best, fired = t_end, -1
        for k in range(n_tr):
            h = 0.0 if k == excl else tab[row + k]
            if h > 0.0:
                at = t + clocks[k] / h
                if at < best:
                    best, fired = at, k
        if fired >= 0:
            return best, fired
        if t_end >= horizon:
            return horizon, -1
        span = t_end - t
        for k in range(n_tr):
            h = 0.0 if k == excl else tab[row + k]
            if h > 0.0:
                clocks[k] -= h * span
        t = t_end
        if t_cal == t_end:
            j += 1
        if t_dur == t_end:
            b += 1


@njit(cache=True, error_model="numpy")
def wind_down(tab, off, n_bands, n_tr, excl, clocks, t, until, spell, cal, edges, e0, n_dur):
    """``sampling.wind_down``: each clock less its hazard integrated over ``[t, until)``, not below 0."""
    n_cal = cal.shape[0]
    j = bisect_right(cal, 0, n_cal, t) - 1
    b = bisect_right(edges, e0, n_dur, t - spell)
    while t < until:
        row = off + (j * n_bands + b) * n_tr
        t_cal = cal[j + 1] if j + 1 < n_cal else math.inf
        t_dur = spell + edges[e0 + b] if b < n_dur else math.inf
        t_end = t_cal if t_cal <= t_dur else t_dur  # noqa: FURB136 (min(t_cal, t_dur, until))
        if until < t_end:  # noqa: PLR1730
            t_end = until
        for k in range(n_tr):
            h = 0.0 if k == excl else tab[row + k]
            if h > 0.0:
                v = clocks[k] - h * (t_end - t)
                clocks[k] = v if v > 0.0 else 0.0  # noqa: FURB136 (Python's max(0.0, v))
        t = t_end
        if t_cal == t_end:
            j += 1
        if t_dur == t_end:
            b += 1
