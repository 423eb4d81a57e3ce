"""Scenario files: schema and loader."""

from sim.model.loader import ScenarioError, bundled_names, content_hash, load_scenario, resolve_path
from sim.model.schema import Scenario

__all__ = ["Scenario", "ScenarioError", "bundled_names", "content_hash", "load_scenario", "resolve_path"]
