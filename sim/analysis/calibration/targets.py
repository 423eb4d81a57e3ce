"""Calibration targets: observed figures as data, and how each is measured on a model run.

A targets file (CSV) has one row per target with the columns ``name, measure,
states, period, value, unit, tolerance, weight, role, source``:

* ``measure``: ``stock_end`` (stock at the end of the period's last month),
  ``stock_mean`` (mean end-of-month stock over the period),
  ``flow_per_year:<flow>`` (a flow of ``sim.records.FLOWS`` summed over the
  period, per 12 months), ``share_per_year:<flow>[+<flow>...]`` (those flows per
  12 months as a share of the states' mean stock, e.g. the all-reason outflow
  percentage), ``duration_share:<months>`` (share of the states' households at
  the end of the period whose spell on benefit is longer than that: 12, 36 or
  60 months), or ``reinflow_within:<months>`` (share of the exits to work in the
  period that return onto the caseload within that many months);
* ``states``: ``on_caseload``, ``all`` or state names joined by ``+``;
* ``period``: ``YYYY-MM`` or ``YYYY-MM/YYYY-MM`` (inclusive calendar months);
* ``tolerance``: relative, e.g. 0.05 = within 5% of ``value``;
* ``role``: ``fit`` (used by the optimiser), ``validation`` (reported only) or
  ``prior``: a weakly informative prior of a free parameter, so that the fit is a
  penalised least-squares (maximum a posteriori) fit. A prior row names the
  parameter path in ``name``, has ``measure`` ``prior``, empty ``states`` and
  ``period``, the prior median in ``value``, the prior standard deviation in
  ``tolerance`` and the scale in ``unit``: ``log`` (a positive parameter fitted on
  the log scale; the sd is on that scale, e.g. 0.7 = a factor 2 either way at
  ~1 sd) or ``linear`` (e.g. an elasticity, which may be negative).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.model.compiled import NO_TEAM, Compiled
from sim.model.records import DURATION_EDGES, FLOW_INDEX
from sim.util.inputs import read_input_text

MAX_TARGETS = 1_000  # each target is measured on every DES replication of every round
MEASURES = ("stock_end", "stock_mean", "flow_per_year", "share_per_year", "duration_share", "reinflow_within")
COLUMNS = ("name", "measure", "states", "period", "value", "unit", "tolerance", "weight", "role", "source")


@dataclass(frozen=True)
class Target:
    """One observed figure."""

    name: str
    measure: str
    states: str
    period: str
    value: float
    unit: str
    tolerance: float
    weight: float
    role: str
    source: str

    def months(self, start: dt.date) -> tuple[int, int]:
        """First and last month index (0 = the scenario's first month), inclusive."""
        first, _, last = self.period.partition("/")
        return _month_index(first, start), _month_index(last or first, start)


def load_targets(path: str | Path) -> list[Target]:
    """Read and check a targets CSV; errors name the row and column."""
    text = read_input_text(path)  # a regular file of at most 1 MB: never a FIFO or a device
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{path}: not a readable CSV ({exc})") from None
    if len(frame) > MAX_TARGETS:
        raise ValueError(f"{path}: {len(frame)} targets, more than the limit of {MAX_TARGETS}")
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {', '.join(missing)}")
    targets = []
    for i, row in frame.iterrows():
        where = f"{path}: row {i + 2} ({row['name']})"
        try:
            value, tol, weight = float(row["value"]), float(row["tolerance"]), float(row["weight"])
        except ValueError:
            raise ValueError(f"{where}: value, tolerance and weight must be numbers") from None
        if row["role"] not in ("fit", "validation", "prior"):
            raise ValueError(f"{where}: role must be 'fit', 'validation' or 'prior'")
        if row["role"] == "prior":
            if row["measure"] != "prior" or row["unit"] not in ("log", "linear"):
                raise ValueError(f"{where}: a prior row has measure 'prior' and unit 'log' or 'linear'")
            if not (math.isfinite(value) and math.isfinite(tol) and tol > 0) or (row["unit"] == "log" and value <= 0):
                raise ValueError(f"{where}: a prior needs a finite value (> 0 on the log scale) and a standard deviation > 0")
        else:
            if not (math.isfinite(value) and value > 0 and 0 < tol < 1 and weight >= 0):
                raise ValueError(f"{where}: need value > 0, 0 < tolerance < 1, weight >= 0")
            kind, _, arg = row["measure"].partition(":")
            if kind not in MEASURES:
                raise ValueError(f"{where}: unknown measure {row['measure']!r}")
            if kind in ("flow_per_year", "share_per_year") and any(f not in FLOW_INDEX for f in arg.split("+")):
                raise ValueError(f"{where}: unknown flow in {row['measure']!r}")
            if kind == "duration_share" and arg not in {str(e) for e in DURATION_EDGES}:
                raise ValueError(f"{where}: duration_share takes one of {', '.join(map(str, DURATION_EDGES))} months")
        if not row["source"].strip():
            raise ValueError(f"{where}: every target needs a source")
        targets.append(
            Target(row["name"], row["measure"], row["states"], row["period"], value, row["unit"], tol, weight,
                   row["role"], row["source"])
        )  # fmt: skip
    return targets


def horizon_months(targets: list[Target], start: dt.date) -> int:
    """Months a run must cover to measure every target (priors have no period)."""
    return max(t.months(start)[1] + 1 for t in targets if t.role != "prior")


def priors(targets: list[Target]) -> dict[str, tuple[float, float, str]]:
    """Parameter path -> (prior median, prior sd, scale 'log' or 'linear') of the prior rows."""
    from sim.model.paths import canonical

    return {canonical(t.name): (t.value, t.tolerance, t.unit) for t in targets if t.role == "prior"}


def measured(targets: list[Target]) -> list[Target]:
    """The targets that are figures (not priors)."""
    return [t for t in targets if t.role != "prior"]


def needs_value(target: Target) -> bool:
    """A measure that needs a value computed outside the monthly arrays (re-inflow, duration shares)."""
    return target.measure.startswith(("reinflow", "duration_share"))


def state_mask(c: Compiled, states: str) -> np.ndarray:
    names = [s.name for s in c.states]
    if states == "on_caseload":
        return np.array([s.on_caseload for s in c.states])
    if states == "all":
        return np.ones(len(names), dtype=bool)
    wanted = states.split("+")
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise ValueError(f"unknown state(s) {', '.join(unknown)} in a target")
    return np.isin(names, wanted)


def measure(c: Compiled, target: Target, stock: np.ndarray, flows: np.ndarray, reinflow: float | None) -> float:
    """The model's value of ``target`` from stock [month, state] and flows [month, state, flow].

    ``reinflow`` is the value of a measure computed elsewhere (:func:`needs_value`): a re-inflow
    share or a duration share.
    """
    first, last = target.months(c.calendar.start)
    if last >= stock.shape[0]:
        raise ValueError(f"target {target.name}: period {target.period} is beyond the run")
    mask = state_mask(c, target.states)
    kind, _, arg = target.measure.partition(":")
    if kind == "stock_end":
        return float(stock[last][mask].sum())
    if kind == "stock_mean":
        return float(stock[first : last + 1][:, mask].sum(axis=1).mean())
    if kind == "flow_per_year":
        total = flows[first : last + 1][:, mask, FLOW_INDEX[arg]].sum()
        return float(total) * 12.0 / (last - first + 1)
    if kind == "share_per_year":
        total = sum(float(flows[first : last + 1][:, mask, FLOW_INDEX[f]].sum()) for f in arg.split("+"))
        mean = float(stock[first : last + 1][:, mask].sum(axis=1).mean())
        return total * 12.0 / (last - first + 1) / mean if mean > 0 else 0.0
    if reinflow is None:
        raise ValueError(f"target {target.name}: needs a re-inflow measurement")
    return reinflow


def reinflow_analytic(c: Compiled, target: Target, flows: np.ndarray) -> float:
    """Expected share of the period's exits to work back on the caseload within N months.

    Each off-caseload state entered by an exit to work contributes its cohort
    probability of a re-inflow transition within N months (competing risks over
    the duration bands, at the scenario-start calendar segment), weighted by the
    expected number of entries in the period.
    """
    first, last = target.months(c.calendar.start)
    window = float(target.measure.partition(":")[2])
    num = den = 0.0
    for d, st in enumerate(c.states):
        if st.on_caseload:
            continue
        entries = float(flows[first : last + 1, d, FLOW_INDEX["entries"]].sum())
        if entries <= 0:
            continue
        p = sum(
            share * _cohort_reinflow(c, d, profile, window) for profile, share in enumerate(c.attributes.shares)
        )
        num += entries * p
        den += entries
    return num / den if den > 0 else 0.0


def _cohort_reinflow(c: Compiled, s: int, profile: int, window: float) -> float:
    st = c.states[s]
    rows = c.hazard_table(s, NO_TEAM, profile)[0].tolist()  # first calendar segment, by duration band
    bounds = [0.0, *st.duration_edges, math.inf]
    survive, prob = 1.0, 0.0
    for b, row in enumerate(rows):
        lo, hi = bounds[b], min(bounds[b + 1], window)
        if hi <= lo:
            break
        total = sum(row)
        back = sum(h for h, tr in zip(row, st.transitions) if tr.kind == "reinflow")
        if total > 0:
            prob += survive * back / total * (1 - math.exp(-total * (hi - lo)))
            survive *= math.exp(-total * (hi - lo))
    return prob


def reinflow_from_events(events, target: Target, start: dt.date) -> float:
    """Observed share in a DES event log: exits to work in the period, back within N months."""
    first, last = target.months(start)
    window = float(target.measure.partition(":")[2])
    exits: dict[int, list[float]] = {}
    returns: dict[int, list[float]] = {}
    for ev in events:
        if ev.kind == "exit_work":
            exits.setdefault(ev.client, []).append(ev.time)
        elif ev.kind == "reinflow":
            returns.setdefault(ev.client, []).append(ev.time)
    n = back = 0
    for client, times in exits.items():
        for t in times:
            if first <= t < last + 1:
                n += 1
                back += any(t < r <= t + window for r in returns.get(client, ()))
    return back / n if n else 0.0


def _month_index(text: str, start: dt.date) -> int:
    try:
        year, month = (int(p) for p in text.strip().split("-"))
    except ValueError:
        raise ValueError(f"period {text!r} must be YYYY-MM") from None
    index = (year - start.year) * 12 + (month - start.month)
    if index < 0 or not 1 <= month <= 12:
        raise ValueError(f"period {text!r} is before the scenario start {start}")
    return index


def duration_share_from_result(c: Compiled, target: Target, durations: np.ndarray, stock: np.ndarray) -> float:
    """A DES run's share of the caseload at the end of the target's year on benefit longer than N months."""
    _, last = target.months(c.calendar.start)
    if (last + 1) % 12 or target.states != "on_caseload":
        raise ValueError(f"target {target.name}: duration_share is measured on the caseload at a year end")
    edge = DURATION_EDGES.index(int(target.measure.partition(":")[2]))
    year = (last + 1) // 12 - 1
    total = float(stock[last][state_mask(c, "on_caseload")].sum())
    return float(durations[year][edge]) / total if total > 0 else 0.0


def cut_data(data: dict, target: Target, start: dt.date) -> dict | None:
    """Scenario data in which no spell starts after the target's end minus N months (None: before the start).

    The households on the caseload at the end of the period in this run are exactly those whose spell
    began before that date, so their share of the full run's caseload is the analytic duration share.
    """
    _, last = target.months(start)
    cut = last + 1 - int(target.measure.partition(":")[2])
    if cut <= 0:
        return None
    when = dt.date(start.year + (start.month - 1 + cut) // 12, (start.month - 1 + cut) % 12 + 1, 1)
    levers = dict(data.get("levers", {}))
    levers["_duration_cut_inflow"] = {"target": "inflow", "from": when, "multiply": 0.0, "source": "assumption: analytic duration share"}
    for sname, state in data["states"].items():
        for tname, tr in state.get("transitions", {}).items():
            if tr.get("kind") == "reinflow":
                levers[f"_duration_cut_{sname}_{tname}"] = {
                    "target": f"hazard.{sname}.{tname}", "from": when, "multiply": 0.0, "source": "assumption: analytic duration share"}  # fmt: skip
    return data | {"levers": levers}


def until(targets: list[Target], month: str) -> list[Target]:
    """The targets with every fitting target that ends after ``month`` (YYYY-MM) turned into a validation one."""
    import dataclasses

    year, mon = (int(p) for p in month.split("-"))
    out = []
    for t in targets:
        if t.role == "fit":
            last = t.period.partition("/")[2] or t.period
            ly, lm = (int(p) for p in last.split("-"))
            if (ly, lm) > (year, mon):
                t = dataclasses.replace(t, role="validation")
        out.append(t)
    return out
