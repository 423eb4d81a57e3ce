"""Random numbers: one generator tree per replication, laid out for common random numbers.

Each replication's streams descend from ``SeedSequence(seed, spawn_key=(replication,))``,
so a replication's numbers do not depend on which worker runs it or in which
order. Within a replication a client owns a row of uniforms keyed by its
identity (initial client ``i`` or the ``n``-th arrival), with separate columns
per purpose: attribute draws, loonwaarde draws, and one exponential clock per
transition of each sojourn. The same client therefore meets the same numbers
for the same event in every scenario compared, and a change to one hazard
moves only that transition's event: that is what makes paired differences tight.
"""

from __future__ import annotations

import hashlib
import random
from array import array

import numpy as np

BLOCK = 512  # clients per generated block

# column layout of a client's row
ATTR0, N_ATTR = 0, 6  # attribute draws (uniform)
INTAKE0, N_INTAKE = 6, 4  # loonwaarde / arrangement draws, one per intake (uniform)
INITIAL_DURATION, WITHDRAW = 10, 11  # uniform
CLOCK0 = 12  # unit exponentials: one clock per transition (up to K_MAX) for each of N_SOJOURNS sojourns
K_MAX, N_SOJOURNS = 6, 6
WIDTH = CLOCK0 + K_MAX * N_SOJOURNS

INITIAL, ARRIVALS, INFLOW = 1, 2, 3


class Streams:
    """All random numbers of one replication."""

    def __init__(self, seed: int, replication: int):
        self.seed = int(seed)
        self.replication = int(replication)
        self._blocks: dict[int, tuple[int, array]] = {}  # population -> current block, flat
        self._arrays: dict[int, np.ndarray] = {}  # the current block's uniforms, as an array
        self._profiles: dict[int, tuple[int, list[int]]] = {}

    def _sequence(self, *key: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=(self.replication, *key))

    def client_row(self, population: int, number: int) -> tuple[array, int]:
        """The uniforms of client ``number`` of ``population`` (INITIAL or ARRIVALS):
        ``(values, base)``, the client's row being ``values[base : base + WIDTH]``.

        A block's rows share one flat array of doubles. A list of Python floats per
        client made the garbage collector track one object per client, and reading a
        client's clocks touched cold float objects all over the heap: together ~15%
        of a run."""
        block, row = divmod(number, BLOCK)
        cached = self._blocks.get(population)
        if cached is None or cached[0] != block:  # clients are numbered in creation order
            gen = np.random.Generator(np.random.PCG64(self._sequence(population, block)))
            rows = gen.random((BLOCK, WIDTH))
            self._arrays[population] = rows
            rows = rows.copy()
            rows[:, CLOCK0:] = -np.log1p(-rows[:, CLOCK0:])  # uniforms -> unit exponentials
            cached = self._blocks[population] = (block, array("d", rows.tobytes()))
        return cached[1], row * WIDTH

    def overflow(self, population: int, number: int) -> random.Random:
        """A client that used up its row (many sojourns, or a state with more than K_MAX
        transitions) continues on its own generator, seeded from its identity. The standard
        library's Mersenne Twister is used because it starts ~5x faster than a numpy Generator
        and thousands of long-lived clients need one."""
        key = f"{self.seed}/{self.replication}/{population}/{number}".encode()
        return random.Random(int.from_bytes(hashlib.blake2b(key, digest_size=16).digest(), "big"))

    def profile(self, population: int, number: int, cdfs: list[list[float]]) -> int:
        """The client's profile: its attribute levels as one mixed-radix number, in the
        order of ``itertools.product`` over the levels. Drawn for a whole block at once."""
        if not cdfs:
            return 0
        block, row = divmod(number, BLOCK)
        cached = self._profiles.get(population)
        if cached is None or cached[0] != block:
            self.client_row(population, number)  # makes sure the block's uniforms exist
            uniforms = self._arrays[population]
            profiles = np.zeros(BLOCK, dtype=np.int64)
            for a, cdf in enumerate(cdfs):
                level = np.minimum(np.searchsorted(cdf, uniforms[:, ATTR0 + a], side="right"), len(cdf) - 1)
                profiles = profiles * len(cdf) + level
            cached = self._profiles[population] = (block, profiles.tolist())
        return cached[1][row]

    def inflow(self) -> np.random.Generator:
        return np.random.Generator(np.random.PCG64(self._sequence(INFLOW)))
