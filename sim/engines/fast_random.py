"""The overflow generator of :mod:`sim.model.streams` (``CounterRandom``), compiled.

A household past its row continues on SplitMix64 keyed by its identity: draw
``i`` is ``mix64(key + i * GAMMA)``. These functions compute the same bits as
the Python ones (``tests/test_engines.py`` checks it). All arithmetic is on
``uint64``: numba turns a mix of signed and unsigned integers into floats, so
every constant is typed explicitly.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.model.streams import GAMMA as _GAMMA

GAMMA = np.uint64(_GAMMA)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
S30, S27, S31, S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
UNIT = 2.0**-53


@njit(cache=True)
def mix64(z):
    z = (z ^ (z >> S30)) * M1
    z = (z ^ (z >> S27)) * M2
    return z ^ (z >> S31)


@njit(cache=True)
def client_key(base, population, number):
    """``streams.client_key``: the key of one household from the replication's base key."""
    key = mix64((base ^ np.uint64(population)) + GAMMA)
    return mix64((key ^ np.uint64(number)) + GAMMA)


@njit(cache=True)
def uniform(key, count):
    """Draw number ``count`` (1, 2, ...) of the generator keyed ``key``, in [0, 1)."""
    return float(mix64(key + np.uint64(count) * GAMMA) >> S11) * UNIT


@njit(cache=True)
def exponential(key, count):
    return -math.log1p(-uniform(key, count))
