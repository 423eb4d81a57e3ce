"""The output schema: the event record and the per-month counters, defined once.

Column meanings are documented in ``docs/outputs.md``; what counts as a
movement, an exit and a re-inflow in ``docs/decisions/0001-flow-definitions.md``.
"""

from __future__ import annotations

from typing import NamedTuple


class Event(NamedTuple):
    """One thing that happened to one household (kept only when an event log is asked for)."""

    time: float  # months since the scenario start
    client: int  # initial clients 0.., arrivals 1_000_000_000 + n
    state: str  # where it happened
    to_state: str  # where the client went ("" when it stayed)
    transition: str  # transition name, or werkmatcher_request / werkmatcher / place_request / arrival / withdrawn
    kind: str  # exit_work, exit_other, transfer, dropout, movement, reinflow, leave, queue, guidance, arrival
    movement: str  # plaatsing, scholing, deeltijdwerk, uitstroom, or ""


# Counted per month and state; exits and movements are counted at the state they leave from.
FLOWS = (
    "entries",  # clients entering the state (any origin)
    "inflow",  # new spells (counted at intake)
    "exits_work",
    "exits_other",
    "movements",  # all movements towards work (the sum of the four below)
    "plaatsing",
    "scholing",
    "deeltijdwerk",
    "uitstroom",
    "transfers_out",  # transfer to another state on the same side of the caseload
    "dropouts",
    "reinflow",  # returns onto the caseload after a job (counted at the state left)
    "withdrawn",  # applicants who withdrew in the search period (counted at intake)
    "guidance_waits",  # clients who had to wait for a werkmatcher
    "guidance_starts",
    "place_waits",  # clients who had to wait for an instrument place
    "refused",  # instrument starts refused because no budget could pay (counted at the origin state)
)
FLOW_INDEX = {name: i for i, name in enumerate(FLOWS)}
KIND_FLOW = {
    "exit_work": "exits_work",
    "exit_other": "exits_other",
    "dropout": "dropouts",
    "reinflow": "reinflow",
}

# Counted per month and attribute level (outputs by focus group): the flows, then the households on the
# caseload at the end of the month.
GROUP_FLOWS = ("inflow", "exits_work", "exits_other", "movements", "reinflow")
GROUP_FLOW_INDEX = {name: i for i, name in enumerate(GROUP_FLOWS)}

# the flow columns both engines write by number in their event paths
F_ENTRIES = FLOW_INDEX["entries"]
F_INFLOW = FLOW_INDEX["inflow"]
F_WITHDRAWN = FLOW_INDEX["withdrawn"]
F_GWAIT = FLOW_INDEX["guidance_waits"]
F_GSTART = FLOW_INDEX["guidance_starts"]
F_PWAIT = FLOW_INDEX["place_waits"]
F_REFUSED = FLOW_INDEX["refused"]
G_INFLOW = GROUP_FLOW_INDEX["inflow"]

# Spell durations of the households on the caseload at each year end: the band edges, in months.
DURATION_EDGES = (12, 36, 60)
DURATION_COLUMNS = ("caseload_over_1y", "caseload_over_3y", "caseload_over_5y")

CLIENT_ID_ARRIVAL = 1_000_000_000
