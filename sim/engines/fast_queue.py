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

The queue is a calendar of time buckets (``q_per_month`` to a month, sized so
that a bucket holds a few hundred events): only the current bucket's entries
are in a binary heap, later ones wait unsorted in their bucket and are heaped
when their bucket comes. A heap of one bucket stays small and in cache however
many households there are, where one heap of every pending event cost a cache
miss per level (a quarter of the kernel's time at Utrecht scale). A bucket is a
list of chunks of ``CHUNK`` entries side by side, so reading it is a few cache
misses, not one per entry as a linked list of entries was (at 16 times
Utrecht's size that was a sixth of the kernel's time). Entries at or after the
horizon are never stored: nothing processes them.

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
# The buckets: bucket b holds the times t with int(t * q_per_month) == b, in the chunks q_head[b],
# chunk_next[q_head[b]], ...; chunk k holds chunk_count[k] entries chunk_entry[k, j] = (seq, id, time), the
# time read and written through chunk_time (the float64 view of the same memory): an entry is one place in
# memory, not two (scheduling writes to a bucket far ahead, whose chunk is seldom in cache at scale).
# q_free[0] heads the list of free chunks (through chunk_next), q_bucket[0] is the bucket in the heap;
# ci[id, LIVE] as above.
CHUNK = 32
TIME = 2  # chunk_time[k, j, TIME]: entry j's time
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
        if right < n and (time[right] < time[child] or
                          (time[right] == time[child] and entry[right, 0] < entry[child, 0])):
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
    """Drop the dead entries of every bucket still to come and free the chunks emptied (when none is free)."""
    live, count, nxt = q.ci[:, LIVE], q.chunk_count, q.chunk_next
    for bucket in range(q.q_bucket[0] + 1, q.q_head.shape[0]):
        write, kept = q.q_head[bucket], 0
        read = write
        while read >= 0:  # entries move forward along the same chain: a write never passes a read
            for j in range(count[read]):
                seq, ident = q.chunk_entry[read, j, 0], q.chunk_entry[read, j, 1]
                if live[ident] == seq:
                    if kept == CHUNK:
                        count[write] = CHUNK
                        write, kept = nxt[write], 0
                    q.chunk_time[write, kept, TIME] = q.chunk_time[read, j, TIME]
                    q.chunk_entry[write, kept, 0], q.chunk_entry[write, kept, 1] = seq, ident
                    kept += 1
            read = nxt[read]
        if write < 0:
            continue
        count[write] = kept
        spare = nxt[write]
        nxt[write] = -1
        while spare >= 0:
            following = nxt[spare]
            nxt[spare], q.q_free[0] = q.q_free[0], spare
            spare = following


@njit(cache=True, error_model="numpy", inline="always")
def schedule(q, ident, at, seq, horizon):
    """Give ``ident`` the entry ``(at, seq)``; an entry it had dies.

    ``q`` is the kernel's state: it has the fields ``q_*``, ``chunk_*`` and ``ci``."""
    q.ci[ident, LIVE] = seq
    if not at < horizon:
        return
    bucket = int(at * q.q_per_month)
    if bucket <= q.q_bucket[0]:
        if q.q_size[0] == q.q_time.shape[0]:
            _compact_heap(q)
        n = q.q_size[0]
        q.q_size[0] = n + 1
        _place(q.q_time, q.q_entry, n, at, seq, ident)
        _sift_up(q.q_time, q.q_entry, n)
        return
    k = q.q_head[bucket]
    if k < 0 or q.chunk_count[k] == CHUNK:
        if q.q_free[0] < 0:
            _compact_buckets(q)
            k = q.q_head[bucket]
        if k < 0 or q.chunk_count[k] == CHUNK:
            k = q.q_free[0]
            q.q_free[0] = q.chunk_next[k]
            q.chunk_count[k] = 0
            q.chunk_next[k] = q.q_head[bucket]
            q.q_head[bucket] = k
    j = q.chunk_count[k]
    q.chunk_count[k] = j + 1
    q.chunk_time[k, j, TIME], q.chunk_entry[k, j, 0], q.chunk_entry[k, j, 1] = at, seq, ident


@njit(cache=True, error_model="numpy")
def _drop_top(q):
    time, entry = q.q_time, q.q_entry
    n = q.q_size[0] - 1
    q.q_size[0] = n
    if n > 0:
        _place(time, entry, 0, time[n], entry[n, 0], entry[n, 1])
        _sift_down(time, entry, 0, n)


@njit(cache=True, error_model="numpy")
def _next_bucket(q):
    """Heap the live entries of the next bucket that has any; False when no bucket has."""
    live = q.ci[:, LIVE]
    for bucket in range(q.q_bucket[0] + 1, q.q_head.shape[0]):
        k, n = q.q_head[bucket], 0
        if k < 0:
            continue
        q.q_head[bucket] = -1
        while k >= 0:
            for j in range(q.chunk_count[k]):
                seq, ident = q.chunk_entry[k, j, 0], q.chunk_entry[k, j, 1]
                if live[ident] == seq:
                    _place(q.q_time, q.q_entry, n, q.chunk_time[k, j, TIME], seq, ident)
                    n += 1
            following = q.chunk_next[k]
            q.chunk_next[k], q.q_free[0] = q.q_free[0], k
            k = following
        q.q_bucket[0] = bucket
        if n > 0:
            _heapify(q, n)
            return True
    q.q_bucket[0] = q.q_head.shape[0]
    return False


@njit(cache=True, error_model="numpy", inline="always")
def first(q):
    """Drop dead entries from the top; returns the time of the first live entry (inf when none)."""
    while True:
        while q.q_size[0] > 0:
            if q.ci[q.q_entry[0, 1], LIVE] == q.q_entry[0, 0]:
                return q.q_time[0]
            _drop_top(q)
        if not _next_bucket(q):
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
