"""Calibration to observed figures: targets as data, analytic fit, DES confirmation, validation."""

from sim.analysis.calibration.fit import FitResult, FitSettings, evaluate_analytic, evaluate_des, fit
from sim.analysis.calibration.targets import Target, load_targets

__all__ = ["FitResult", "FitSettings", "Target", "evaluate_analytic", "evaluate_des", "fit", "load_targets"]
