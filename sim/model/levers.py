"""Levers as month-time windows, and the value a levered parameter takes at a time.

Every active lever on a target combines as ``(base + sum of adds) x product of
multipliers``, floored at 0. ``hazard.<state>.<transition>`` targets may use
shell wildcards (``hazard.*.work``).
"""

from __future__ import annotations

import math
from fnmatch import fnmatchcase
from typing import NamedTuple

from sim.model.calendar import Calendar
from sim.model.schema import Scenario


class Lever(NamedTuple):
    target: str
    start: float  # months since the scenario start
    end: float  # months; inf for an open window
    add: float
    multiply: float
    paid_by: str | None


def lever_windows(scenario: Scenario) -> tuple[Lever, ...]:
    cal = Calendar(scenario.start, 0)
    return tuple(
        Lever(lv.target, cal.months(lv.start), cal.months(lv.end) if lv.end else math.inf, lv.add, lv.multiply, lv.paid_by)
        for lv in scenario.levers.values()
    )


def levered(levers: tuple[Lever, ...], target: str, base: float, t: float) -> float:
    """``base`` with every lever on ``target`` active at month ``t`` applied."""
    add, mult = 0.0, 1.0
    for lever in levers:
        if not (lever.target == target or (lever.target.startswith("hazard.") and fnmatchcase(target, lever.target))):
            continue
        if lever.start <= t < lever.end:
            add += lever.add
            mult *= lever.multiply
    return max(0.0, (base + add) * mult)
