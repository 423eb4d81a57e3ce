"""Closed-form models of a scenario, used to validate the simulation and to calibrate it fast."""

from sim.analytic.erlang import erlang_c, mean_wait
from sim.analytic.markov import Expectation, expected

__all__ = ["Expectation", "erlang_c", "expected", "mean_wait"]
