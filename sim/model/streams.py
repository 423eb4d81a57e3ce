"""Random numbers: the registry of streams, and a client's row of uniforms laid out for common random numbers.

Every random number of replication ``r`` with seed ``S`` descends from
``SeedSequence(S, spawn_key=(r, stream, ...))`` with ``stream`` one of
:class:`Stream`, so a replication's numbers do not depend on which worker runs
it or in which order. Within a replication a client owns a row of uniforms
keyed by its identity (initial client ``i`` or the ``n``-th arrival) with
fixed columns per purpose (:class:`Layout`): attribute draws, loonwaarde
draws, and one exponential clock per transition of each of its first
sojourns. The same client therefore meets the same numbers for the same event
in every scenario compared, and a change to one hazard moves only that
transition's events: that is what makes paired differences tight.

A client that uses up its row (more sojourns or intakes than the row holds)
continues on a generator of its own, the one exception to the rule above: a
counter-based SplitMix64 keyed by ``(seed, replication, population, number)``
(:class:`CounterRandom`). Draw ``i`` is a pure function of the key and ``i``, so
it costs nothing to start (thousands of long-lived clients need one) and the
compiled engine computes the very same numbers (``sim/engines/fast_random.py``).
"""

from __future__ import annotations

import math
from array import array
from enum import IntEnum
from typing import NamedTuple

import numpy as np

BLOCK = 512  # clients per generated block of rows
MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15  # SplitMix64's increment (the golden ratio in 64 bits)


class Stream(IntEnum):
    """The spawn-key branches of one replication's ``SeedSequence`` (the one registry of stream keys)."""

    INITIAL = 1  # rows of the initial population, per block of 512
    ARRIVALS = 2  # rows of arriving applicants, per block of 512
    INFLOW = 3  # arrival times
    PARAMETERS = 7  # parameter draws for a replication (calibration uncertainty)
    BUDGET = 60  # the ledger's own draws (loonwaarde reassessment)
    TRIAL = 9_001  # a simulated experiment's candidates and randomisation


# Row columns are sized from the model, but never below these: scenarios within them keep the
# layout (and so the numbers) of earlier versions.
MIN_ATTRIBUTES = 6
MIN_TRANSITIONS = 6
N_INTAKE = 4  # loonwaarde draws kept in the row (one per intake)
N_SOJOURNS = 6  # sojourns whose clocks are kept in the row


class Layout(NamedTuple):
    """Column layout of a client's row: ``[attributes | intakes | initial duration, withdraw | clocks]``."""

    n_attributes: int
    k_max: int  # clocks per sojourn: the most transitions any state has

    @classmethod
    def for_model(cls, n_attributes: int, k_max: int) -> Layout:
        return cls(max(MIN_ATTRIBUTES, n_attributes), max(MIN_TRANSITIONS, k_max))

    @property
    def intake0(self) -> int:
        return self.n_attributes

    @property
    def initial_duration(self) -> int:
        return self.intake0 + N_INTAKE

    @property
    def withdraw(self) -> int:
        return self.initial_duration + 1

    @property
    def clock0(self) -> int:
        return self.withdraw + 1

    @property
    def width(self) -> int:
        return self.clock0 + self.k_max * N_SOJOURNS


def sequence(seed: int, replication: int, *key: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(int(seed), spawn_key=(int(replication), *key))


def generator(seed: int, replication: int, *key: int) -> np.random.Generator:
    """The NumPy generator of one stream of one replication."""
    return np.random.Generator(np.random.PCG64(sequence(seed, replication, *key)))


class Streams:
    """All per-client random numbers of one replication."""

    def __init__(self, seed: int, replication: int, layout: Layout):
        self.seed = int(seed)
        self.replication = int(replication)
        self.layout = layout
        self._width = layout.width  # read for every client
        self._blocks: dict[int, list] = {}  # population -> its current block: [block, values, uniforms, profiles]

    def block(self, population: int, block: int) -> np.ndarray:
        """Uniforms ``[BLOCK, width]`` of one block of clients (clock columns still uniform)."""
        return generator(self.seed, self.replication, population, block).random((BLOCK, self.layout.width))

    def client(self, population: int, number: int, cdfs: tuple[tuple[float, ...], ...]) -> tuple[array, int, int]:
        """Client ``number`` of ``population`` (Stream.INITIAL or Stream.ARRIVALS): ``(values, base, profile)``.

        Its row is ``values[base : base + width]``, the clock columns already unit exponentials.
        A block's rows share one flat array of doubles: a list of Python floats per client made
        the garbage collector track one object per client and scattered a client's clocks over
        the heap (together ~15% of a run). Its profile is its attribute levels as one mixed-radix
        number, in the order of ``itertools.product`` over the levels (``cdfs``, one per attribute,
        read from the first columns), drawn for the whole block when it is first asked for."""
        block, row = divmod(number, BLOCK)
        cached = self._blocks.get(population)
        if cached is None or cached[0] != block:  # clients are numbered in creation order
            uniforms = self.block(population, block)
            cached = self._blocks[population] = [block, array("d", self.clocked(uniforms).tobytes()), uniforms, None]
        if cached[3] is None:
            cached[3] = profiles(cached[2], cdfs).tolist() if cdfs else [0] * BLOCK
        return cached[1], row * self._width, cached[3][row]

    def clocked(self, uniforms: np.ndarray) -> np.ndarray:
        """A copy of a block with its clock columns turned into unit exponentials ``-log1p(-u)``.

        Every engine goes through this one function: NumPy's ``log1p`` may differ from the C
        library's in the last bit, and from itself between array layouts."""
        rows = uniforms.copy()
        c0 = self.layout.clock0
        rows[:, c0:] = -np.log1p(-rows[:, c0:])
        return rows

    def overflow(self, population: int, number: int) -> CounterRandom:
        """The generator a client continues on once its row is used up (see the module docstring)."""
        return CounterRandom(client_key(overflow_base(self.seed, self.replication), population, number))

    def inflow(self) -> np.random.Generator:
        return generator(self.seed, self.replication, Stream.INFLOW)


def profiles(uniforms: np.ndarray, cdfs: tuple[tuple[float, ...], ...]) -> np.ndarray:
    """Profile index of every row of ``uniforms`` (attribute ``a`` read from column ``a``)."""
    out = np.zeros(len(uniforms), dtype=np.int64)
    for a, cdf in enumerate(cdfs):
        level = np.minimum(np.searchsorted(cdf, uniforms[:, a], side="right"), len(cdf) - 1)
        out = out * len(cdf) + level
    return out


# -- the overflow generator: SplitMix64 on a counter ----------------------------------------------
# The compiled engine has the same three functions in sim/engines/fast_random.py; tests/test_engines.py
# checks that both give the same bits.
def mix64(z: int) -> int:
    """SplitMix64's output function (Stafford's variant 13) on a 64-bit integer."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def _fold(key: int, part: int) -> int:
    return mix64(((key ^ part) + GAMMA) & MASK64)


def overflow_base(seed: int, replication: int) -> int:
    """The part of an overflow key shared by every client of one replication (seeds of any size)."""
    key, seed = 0, int(seed)
    while True:  # 64 bits at a time, so two seeds never share a key
        key = _fold(key, seed & MASK64)
        seed >>= 64
        if not seed:
            break
    return _fold(key, int(replication) & MASK64)


def client_key(base: int, population: int, number: int) -> int:
    return _fold(_fold(base, population & MASK64), number & MASK64)


class CounterRandom:
    """Uniforms ``(mix64(key + i * GAMMA) >> 11) * 2**-53`` for draws ``i = 1, 2, ...``; exponentials
    ``-log1p(-u)``: a client draws a uniform with ``random()`` (an intake past its row) and a sojourn's
    clocks with ``exponentials(n)``."""

    __slots__ = ("count", "key")

    def __init__(self, key: int):
        self.key = key
        self.count = 0

    def random(self) -> float:
        self.count += 1
        return _uniform(self.key, self.count)

    def exponentials(self, n: int) -> list[float]:
        """The next ``n`` draws as unit exponentials ``-log1p(-u)`` (a sojourn's clocks once the row is used up)."""
        key, count = self.key, self.count
        self.count = count + n
        return [-math.log1p(-_uniform(key, i)) for i in range(count + 1, count + n + 1)]


def _uniform(key: int, i: int) -> float:
    """Draw ``i`` of the generator keyed ``key``, as a uniform in [0, 1)."""
    return (mix64((key + i * GAMMA) & MASK64) >> 11) * 2.0**-53
