"""Engines execute a :class:`sim.model.compiled.Compiled` model, one replication at a time.

``simpy_engine`` is the readable reference (every household a SimPy process);
``backends`` runs many replications on local processes or Dask.
"""
