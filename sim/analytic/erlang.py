"""Erlang C: the M/M/c waiting-time formulas used to validate werkmatcher queues."""

from __future__ import annotations


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Probability that an arrival has to wait in an M/M/c queue."""
    load = arrival_rate / service_rate  # offered load in Erlangs
    if load >= servers:
        raise ValueError(f"unstable queue: load {load:.3g} >= {servers} servers")
    # Erlang B by its stable recursion, then C from B
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    rho = load / servers
    return b / (1 - rho + rho * b)


def mean_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean time in queue of all arrivals (those served at once count 0): C / (c mu - lambda)."""
    return erlang_c(arrival_rate, service_rate, servers) / (servers * service_rate - arrival_rate)

