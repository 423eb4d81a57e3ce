"""Engines execute a :class:`sim.model.compiled.Compiled` model, one replication at a time.

``select.simulate`` runs a replication on the engine ``select.choose`` picks:
``simpy_engine`` is the readable reference (every household a SimPy process),
``fast`` the compiled engine (numba) that gives the same tables many times
faster for the mechanisms it runs. ``backends`` runs many replications on
local processes or Dask.
"""
