"""Scenario files: schema and loader."""

from .loader import ScenarioError, bundled_names, content_hash, load_scenario, resolve_path
from .schema import Scenario

__all__ = ["Scenario", "ScenarioError", "bundled_names", "content_hash", "load_scenario", "resolve_path"]
