"""Scenario files: schema and loader.

Names are imported when first used, so that light modules of this package
(``sim.model.limits``, ``sim.model.paths``) load without the schema (pydantic):
``caseload-sim --help`` stays fast.
"""

import importlib

_HOME = {
    "Scenario": "sim.model.schema",
    "ScenarioError": "sim.model.loader",
    "bundled_names": "sim.model.loader",
    "content_hash": "sim.model.loader",
    "load_scenario": "sim.model.loader",
    "resolve_path": "sim.model.loader",
}

__all__ = ["Scenario", "ScenarioError", "bundled_names", "content_hash", "load_scenario", "resolve_path"]


def __getattr__(name: str):
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'sim.model' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
