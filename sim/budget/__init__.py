"""The budget layer: I-deel/BUIG, LKS, Participatiebudget, Revolverend Fonds and programme budgets.

A :class:`sim.budget.ledger.Ledger` is owned by the engine's ``Model`` when the
scenario has a ``[budget]`` section; it books money in integer cents and
refuses instrument starts whose pot is empty. See ``docs/budgets.md``.

This package's ``__init__`` imports only the schema: ``sim.scenario.schema``
imports it while it is itself being loaded.
"""

from .schema import Budget, budget_problems

__all__ = ["Budget", "budget_problems"]
