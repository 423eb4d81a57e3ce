"""Exact sampling of a household's next event from piecewise-constant hazards.

Mixed into :class:`sim.engine.Model`. Transitions are competing risks: each
transition of a sojourn has its own unit-exponential clock and fires when its
integrated hazard reaches it; hazards are constant between calendar lever
dates and spell-duration band edges, so every clock's time is found exactly,
without ticking. See docs/model.md, "Hazards".
"""

from __future__ import annotations

import bisect
import math
from typing import TYPE_CHECKING

from sim.model.streams import CLOCK0, K_MAX, N_SOJOURNS

if TYPE_CHECKING:
    from sim.engines.simpy_engine import Client


class ClockSampler:
    """The sampling half of the engine; expects the attributes Model sets up."""

    def _next_event(self, cl: Client, s: int, guided: bool | None, waiting: bool):
        """(time, transition index) of the next event before the horizon, or None.

        Competing risks: transition k of a sojourn has its own unit-exponential clock
        E_k and fires when its integrated hazard reaches E_k; the first to fire wins
        (the same law as one clock on the total hazard). Hazards are piecewise constant
        between calendar lever dates and spell-duration band edges, so each clock's
        time is found exactly. A client woken early (a slot or place came free) keeps
        its clocks, less the hazard integrated since it last looked.
        """
        if self._own_tables:  # hazard_table() inlined: this runs for every event
            table = self._tables.get((s, guided, cl.profile))
            if table is None:
                table = self.hazard_table(cl, s, guided)
        else:
            table = self.hazard_table(cl, s, guided)
        if cl.place is not None:  # the transition waiting for a place cannot fire again
            table = self._without(table, cl.place_target)
        now = self.env._now
        n, edges, constant = self._shape[s]
        clocks = cl.clocks
        if clocks is None or cl.look_state != s:
            i = cl.n_sojourn
            cl.n_sojourn = i + 1
            if i < N_SOJOURNS and n <= K_MAX:
                first = cl.base + CLOCK0 + i * K_MAX
                clocks = cl.row[first : first + n]
            else:
                rnd = self._overflow(cl)
                clocks = [rnd.expovariate(1.0) for _ in range(n)]
        else:
            self._run_clocks(cl, s, cl.look_table, cl.look_time, now, clocks)
        if waiting:  # only a waiting client can be woken before one of its clocks rings
            cl.clocks, cl.look_state, cl.look_table, cl.look_time = clocks, s, table, now
        horizon = self.horizon
        if constant:  # constant hazards until the horizon
            best, fired = horizon - now, -1
            for k, h in enumerate(table[0][0][0]):
                if h > 0.0 and clocks[k] < best * h:
                    best, fired = clocks[k] / h, k
            return (now + best, fired) if fired >= 0 else None
        # wound down below; a waiting client's clocks were just stored on it and must stay as they are
        remaining = list(clocks) if waiting else clocks
        cal = self.cal_edges
        spell = cl.spell_start
        t = now
        j = bisect.bisect_right(cal, t) - 1
        b = bisect.bisect_right(edges, t - spell)
        n_cal, n_dur = len(cal), len(edges)
        while True:
            row = table[j][0][b]
            t_cal = cal[j + 1] if j + 1 < n_cal else horizon
            t_dur = spell + edges[b] if b < n_dur else math.inf
            t_end = t_dur if t_dur < t_cal else t_cal
            if t_end > horizon:
                t_end = horizon
            best, fired = t_end, -1
            for k, h in enumerate(row):
                if h > 0.0:
                    at = t + remaining[k] / h
                    if at < best:
                        best, fired = at, k
            if fired >= 0:
                return best, fired
            if t_end >= horizon:
                return None
            span = t_end - t
            for k, h in enumerate(row):
                if h > 0.0:
                    remaining[k] -= h * span
            t = t_end
            if t_cal == t_end:
                j += 1
            if t_dur == t_end:
                b += 1

    def _run_clocks(self, cl: Client, s: int, table: list, t: float, until: float, clocks: list[float]) -> None:
        """Wind each clock down by its hazard integrated over [t, until)."""
        edges = self.states[s].duration_edges
        cal = self.cal_edges
        j = bisect.bisect_right(cal, t) - 1
        b = bisect.bisect_right(edges, t - cl.spell_start)
        while t < until:
            row = table[j][0][b]
            t_cal = cal[j + 1] if j + 1 < len(cal) else math.inf
            t_dur = cl.spell_start + edges[b] if b < len(edges) else math.inf
            t_end = min(t_cal, t_dur, until)
            for k, h in enumerate(row):
                if h > 0.0:
                    clocks[k] = max(0.0, clocks[k] - h * (t_end - t))
            t = t_end
            if t_cal == t_end:
                j += 1
            if t_dur == t_end:
                b += 1

    def hazard_table(self, cl: Client, s: int, guided: bool | None) -> list:
        """Per calendar segment: (hazard rows by duration band, their totals).

        Subclasses may return client-specific tables (e.g. the arms of an experiment).
        """
        key = (s, guided, cl.profile)
        table = self._tables.get(key)
        if table is None:
            table = self._tables[key] = self._build_table(key)
        return table

    def _build_table(self, key: tuple) -> list:
        s, guided, profile = key
        table = []
        for j in range(len(self.cal_edges)):
            rows = self.c.segment_rates(s, guided, j, profile)
            table.append((rows, [sum(r) for r in rows]))
        return table

    def _without(self, table: list, k: int) -> list:
        out = []
        for rows, _ in table:
            rows = [[0.0 if i == k else h for i, h in enumerate(r)] for r in rows]
            out.append((rows, [sum(r) for r in rows]))
        return out

