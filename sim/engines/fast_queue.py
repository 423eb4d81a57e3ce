"""Indexed binary heaps for the compiled engine: the event queue and the waiting lists.

**Event queue.** SimPy processes events in the order ``(time, priority, eid)``,
``eid`` counting every event scheduled. The compiled engine keys its queue by
``(time, seq)``, ``seq`` counting what it schedules in the same order as the
SimPy engine, so events at the same instant (a cascade of freed slots, a lever
date on a month end) are processed in the same order. Each id (a household,
or one of the model's own processes) has at most one live entry, the one whose
``seq`` is ``ci[id, LIVE]``; rescheduling an id (a wake-up replacing a waiting
household's timer) leaves the old entry behind, dead, as SimPy leaves the
timer (it does nothing when it rings), and dead entries are skipped.

The queue is a calendar of month buckets: only the current month's entries are
in a binary heap, later ones wait unsorted in their month's bucket (a linked
list in arrays) and are heaped when their month comes. A heap of one month's
events stays small and in cache however many households there are, where one
heap of every pending event cost a cache miss per level (a quarter of the
kernel's time at Utrecht scale). Entries at or after the horizon are never
stored: nothing processes them.

**Waiting lists.** :class:`sim.engines.slots.SlotPool` serves the lowest
``(priority, order)`` first, cancelling lazily; here the two are one integer key
``priority * 2**40 + order`` and a cancelled ticket is removed at once, which
serves the same households in the same order.
"""

from __future__ import annotations

import math

from numba import njit

ORDER_BITS = 40  # a waiting list numbers at most 2**40 requests
LIVE = 0  # the column of ci (an id's record) holding the seq of its live entry


# -- the event queue ---------------------------------------------------------------------------
# The heap: q_time[i] and q_entry[i] = (seq, id), ordered by (time, seq); q_size[0] entries.
# The buckets: q_head[month] starts a list of nodes node_time[i], node_entry[i], node_next[i];
# q_free[0] heads the list of free nodes, q_month[0] is the month in the heap; ci[id, LIVE] as above.
@njit(cache=True, error_model="numpy", inline="always")
def _place(time, entry, i, t, seq, ident):
    time[i], entry[i, 0], entry[i, 1] = t, seq, ident


@njit(cache=True, error_model="numpy")
def _sift_up(time, entry, i):
    t, seq, ident = time[i], entry[i, 0], entry[i, 1]
    while i > 0:
        parent = (i - 1) >> 1
        if time[parent] < t or (time[parent] == t and entry[parent, 0] < seq):
            break
        _place(time, entry, i, time[parent], entry[parent, 0], entry[parent, 1])
        i = parent
    _place(time, entry, i, t, seq, ident)


@njit(cache=True, error_model="numpy")
def _sift_down(time, entry, i, n):
    t, seq, ident = time[i], entry[i, 0], entry[i, 1]
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        right = child + 1
        if right < n and (time[right] < time[child] or (time[right] == time[child] and entry[right, 0] < entry[child, 0])):
            child = right
        if t < time[child] or (t == time[child] and seq < entry[child, 0]):
            break
        _place(time, entry, i, time[child], entry[child, 0], entry[child, 1])
        i = child
    _place(time, entry, i, t, seq, ident)


@njit(cache=True, error_model="numpy")
def _heapify(q, n):
    q.q_size[0] = n
    for i in range(n // 2 - 1, -1, -1):
        _sift_down(q.q_time, q.q_entry, i, n)


@njit(cache=True, error_model="numpy")
def _compact_heap(q):
    """Drop the heap's dead entries (when it is full)."""
    time, entry, live = q.q_time, q.q_entry, q.ci[:, LIVE]
    n = 0
    for i in range(q.q_size[0]):
        if live[entry[i, 1]] == entry[i, 0]:
            _place(time, entry, n, time[i], entry[i, 0], entry[i, 1])
            n += 1
    _heapify(q, n)


@njit(cache=True, error_model="numpy")
def _compact_buckets(q):
    """Free the buckets' dead nodes (when no node is free)."""
    live, entry, nxt = q.ci[:, LIVE], q.node_entry, q.node_next
    for month in range(q.q_month[0] + 1, q.q_head.shape[0]):
        i, keep = q.q_head[month], -1
        while i >= 0:
            following = nxt[i]
            if live[entry[i, 1]] == entry[i, 0]:
                nxt[i], keep = keep, i
            else:
                nxt[i], q.q_free[0] = q.q_free[0], i
            i = following
        q.q_head[month] = keep


@njit(cache=True, error_model="numpy", inline="always")
def schedule(q, ident, at, seq, horizon):
    """Give ``ident`` the entry ``(at, seq)``; an entry it had dies (``q`` has the fields ``q_*``, ``node_*`` and ``ci``)."""
    q.ci[ident, LIVE] = seq
    if not at < horizon:
        return
    month = int(at)
    if month <= q.q_month[0]:
        if q.q_size[0] == q.q_time.shape[0]:
            _compact_heap(q)
        n = q.q_size[0]
        q.q_size[0] = n + 1
        _place(q.q_time, q.q_entry, n, at, seq, ident)
        _sift_up(q.q_time, q.q_entry, n)
        return
    if q.q_free[0] < 0:
        _compact_buckets(q)
    i = q.q_free[0]
    q.q_free[0] = q.node_next[i]
    q.node_time[i], q.node_entry[i, 0], q.node_entry[i, 1] = at, seq, ident
    q.node_next[i] = q.q_head[month]
    q.q_head[month] = i


@njit(cache=True, error_model="numpy", inline="always")
def _drop_top(q):
    time, entry = q.q_time, q.q_entry
    n = q.q_size[0] - 1
    q.q_size[0] = n
    if n > 0:
        _place(time, entry, 0, time[n], entry[n, 0], entry[n, 1])
        _sift_down(time, entry, 0, n)


@njit(cache=True, error_model="numpy")
def _next_month(q):
    """Heap the live entries of the next month that has any; False when no month has."""
    live = q.ci[:, LIVE]
    for month in range(q.q_month[0] + 1, q.q_head.shape[0]):
        i, n = q.q_head[month], 0
        if i < 0:
            continue
        q.q_head[month] = -1
        while i >= 0:
            seq, ident = q.node_entry[i, 0], q.node_entry[i, 1]
            if live[ident] == seq:
                _place(q.q_time, q.q_entry, n, q.node_time[i], seq, ident)
                n += 1
            following = q.node_next[i]
            q.node_next[i], q.q_free[0] = q.q_free[0], i
            i = following
        q.q_month[0] = month
        if n > 0:
            _heapify(q, n)
            return True
    q.q_month[0] = q.q_head.shape[0]
    return False


@njit(cache=True, error_model="numpy", inline="always")
def first(q):
    """Drop dead entries from the top; returns the time of the first live entry (inf when none)."""
    while True:
        while q.q_size[0] > 0:
            if q.ci[q.q_entry[0, 1], LIVE] == q.q_entry[0, 0]:
                return q.q_time[0]
            _drop_top(q)
        if not _next_month(q):
            return math.inf


@njit(cache=True, error_model="numpy", inline="always")
def pop(q):
    """Remove the first entry (call :func:`first` before); returns its id."""
    ident = q.q_entry[0, 1]
    q.ci[ident, LIVE] = -1
    _drop_top(q)
    return ident


# -- waiting lists -------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def _wswap(key, cli, pos, i, j):
    key[i], key[j] = key[j], key[i]
    cli[i], cli[j] = cli[j], cli[i]
    pos[cli[i]] = i
    pos[cli[j]] = j


@njit(cache=True, error_model="numpy")
def _wup(key, cli, pos, i):
    while i > 0:
        parent = (i - 1) >> 1
        if key[i] >= key[parent]:
            return
        _wswap(key, cli, pos, i, parent)
        i = parent


@njit(cache=True, error_model="numpy")
def _wdown(key, cli, pos, i, n):
    while True:
        child = 2 * i + 1
        if child >= n:
            return
        if child + 1 < n and key[child + 1] < key[child]:
            child += 1
        if key[child] >= key[i]:
            return
        _wswap(key, cli, pos, i, child)
        i = child


@njit(cache=True, error_model="numpy")
def wait_push(key, cli, pos, n, client, k):
    """Add ``client`` with key ``k`` to a waiting list of ``n`` entries; returns the new length."""
    key[n], cli[n] = k, client
    pos[client] = n
    _wup(key, cli, pos, n)
    return n + 1


@njit(cache=True, error_model="numpy")
def wait_pop(key, cli, pos, n):
    """Remove the first client (returned) of a waiting list of ``n`` entries."""
    first = cli[0]
    pos[first] = -1
    n -= 1
    if n > 0:
        key[0], cli[0] = key[n], cli[n]
        pos[cli[0]] = 0
        _wdown(key, cli, pos, 0, n)
    return first


@njit(cache=True, error_model="numpy")
def wait_remove(key, cli, pos, n, client):
    """Take ``client`` off a waiting list of ``n`` entries (a cancelled ticket); returns the new length."""
    i = pos[client]
    pos[client] = -1
    n -= 1
    if i < n:
        moved = cli[n]
        key[i], cli[i] = key[n], moved
        pos[moved] = i
        _wup(key, cli, pos, i)
        _wdown(key, cli, pos, pos[moved], n)
    return n
