"""Simulated randomised experiments inside a caseload (the Utrecht *Weten wat werkt* trial)."""

from sim.analysis.experiment.design import Design, load_design
from sim.analysis.experiment.trial import TrialResults, checks, run_trials

__all__ = ["Design", "TrialResults", "checks", "load_design", "run_trials"]
