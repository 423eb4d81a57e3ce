"""What one replication produces, whatever engine ran it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.records import Event


@dataclass
class Result:
    """One replication's arrays, indexed ``[month, state(, flow)]``; flows as in :data:`sim.model.records.FLOWS`."""

    replication: int
    stock: np.ndarray  # end-of-month stock, int64 [month, state]
    flows: np.ndarray  # int64 [month, state, flow]
    person_months: np.ndarray  # time-integral of stock, float64 [month, state]
    events_processed: int  # events the engine scheduled
    clients: int  # households simulated
    wall_seconds: float
    events: list[Event] | None = None  # the event log, when asked for
    budget: np.ndarray | None = None  # int64 cents and counts [year, column] (sim.budget.ledger)
    group_flows: np.ndarray | None = None  # int64 [month, attribute level, records.GROUP_FLOWS], with attributes
    group_stock: np.ndarray | None = None  # int64 [month, attribute level]: on the caseload at the month's end
    group_person_months: np.ndarray | None = None  # float64 [month, attribute level]
    stock_by_municipality: np.ndarray | None = None  # int64 [month, municipality, state], in a region
    flows_by_municipality: np.ndarray | None = None  # int64 [month, municipality, state, flow], in a region
    person_months_by_municipality: np.ndarray | None = None  # float64 [month, municipality, state], in a region
    budget_by_municipality: np.ndarray | None = None  # int64 [year, municipality, column], in a region with a budget
    durations: np.ndarray | None = None  # int64 [budget year, len(DURATION_EDGES)]: on the caseload longer than each edge
