"""The budget layer: I-deel/BUIG, LKS, Participatiebudget, Revolverend Fonds and programme budgets.

A :class:`sim.budget.ledger.Ledger` books money in integer cents for one
replication; an engine drives it through a few hooks and asks it whether an
instrument start can be paid. The amounts live in the scenario's ``[budget]``
section (:mod:`sim.model.budget`). See ``docs/budgets.md``.
"""
