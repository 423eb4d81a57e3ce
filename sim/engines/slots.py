"""Werkmatcher slots and instrument places: a counted capacity with a priority waiting list.

SimPy's ``PriorityResource`` re-sorts its whole queue on every request and
removes users from a list, which is quadratic at municipal scale (thousands of
clients per team). This keeps its semantics (lower priority value first, then
first come first served) on a heap with lazy cancellation, and hands out a
free slot without scheduling any event. The pool knows nothing of SimPy: it
returns the tickets it grants, and the engine wakes their clients.
"""

from __future__ import annotations

import heapq
import itertools


class Ticket:
    """A client's claim on a slot: granted at once, or later (the engine then triggers ``event``,
    which the waiting client set)."""

    __slots__ = ("granted", "cancelled", "event")

    def __init__(self):
        self.granted = False
        self.cancelled = False
        self.event = None


class SlotPool:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self.in_use = 0
        self.waiting = 0
        self._queue: list[tuple[int, int, Ticket]] = []
        self._order = itertools.count()

    def must_wait(self) -> bool:
        """Whether a request made now would join the waiting list (its priority then matters)."""
        return self.in_use >= self.capacity or self.waiting > 0

    def request(self, priority: int = 0) -> Ticket:
        ticket = Ticket()
        if self.in_use < self.capacity and self.waiting == 0:
            self.in_use += 1
            ticket.granted = True
        else:
            heapq.heappush(self._queue, (priority, next(self._order), ticket))
            self.waiting += 1
        return ticket

    def release(self, ticket: Ticket) -> list[Ticket]:
        """Give back a granted slot (returns the tickets granted in its place), or leave the waiting list."""
        if ticket.granted:
            ticket.granted = False
            self.in_use -= 1
            return self._grant()
        if not ticket.cancelled:
            ticket.cancelled = True
            self.waiting -= 1
        return []

    def set_capacity(self, capacity: int) -> list[Ticket]:
        """FTE and places follow levers; clients already served keep their slot. Returns the tickets granted."""
        self.capacity = capacity
        return self._grant()

    def _grant(self) -> list[Ticket]:
        queue = self._queue
        granted = []
        while self.in_use < self.capacity and queue:
            _, _, ticket = heapq.heappop(queue)
            if ticket.cancelled:
                continue
            self.waiting -= 1
            self.in_use += 1
            ticket.granted = True
            granted.append(ticket)
        return granted
