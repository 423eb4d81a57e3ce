"""Effect estimates the way the study did: a linear probability model with robust errors.

With one dummy per treatment arm and the control as reference, the OLS
coefficient of arm ``a`` is the difference in proportions ``p_a - p_control``
and its HC2 heteroskedasticity-robust variance is ``p_a(1-p_a)/(n_a-1) +
p_c(1-p_c)/(n_c-1)``; :func:`lpm_hc2` computes the general sandwich with numpy
and a test checks the two agree. p-values and intervals use the normal
approximation (large samples: about 175 a group).
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.optimize import brentq


def lpm_hc2(y: np.ndarray, arm: np.ndarray, n_arms: int, control: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and HC2 robust standard errors of y ~ 1 + one dummy per non-control arm.

    Returns arrays indexed by arm (the control's entry is 0 and its SE nan).
    """
    others = [a for a in range(n_arms) if a != control]
    x = np.column_stack([np.ones(len(y))] + [(arm == a).astype(float) for a in others])
    xtx_inv = np.linalg.pinv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    resid = y - x @ beta
    leverage = np.einsum("ij,jk,ik->i", x, xtx_inv, x)
    omega = resid**2 / np.clip(1 - leverage, 1e-12, None)
    cov = xtx_inv @ (x.T * omega) @ x @ xtx_inv
    coef, se = np.zeros(n_arms), np.full(n_arms, np.nan)
    for i, a in enumerate(others, start=1):
        coef[a], se[a] = beta[i], np.sqrt(max(cov[i, i], 0.0))
    return coef, se


def diff_in_proportions(y: np.ndarray, arm: np.ndarray, a: int, control: int) -> tuple[float, float]:
    """p_a - p_c and its unpooled (HC2-equivalent) standard error."""
    ya, yc = y[arm == a], y[arm == control]
    if len(ya) < 2 or len(yc) < 2:
        return float("nan"), float("nan")
    pa, pc = ya.mean(), yc.mean()
    se = np.sqrt(pa * (1 - pa) / (len(ya) - 1) + pc * (1 - pc) / (len(yc) - 1))
    return float(pa - pc), float(se)


def p_value(estimate: float, se: float) -> float:
    """Two-sided normal p-value (1.0 when there is no variation at all)."""
    if not np.isfinite(se) or se == 0:
        return 1.0 if estimate == 0 or not np.isfinite(estimate) else 0.0
    return float(2 * stats.norm.sf(abs(estimate / se)))


def mde(control_rate: float, n_per_arm: float, alpha: float = 0.05, power: float = 0.8) -> float:
    """Minimum detectable rise in a proportion: the effect at which :func:`power_at` reaches ``power``.

    Uses the unpooled variance at both rates, so it is consistent with :func:`power_at`
    (the textbook ``(z_a + z_b) sqrt(2 p (1-p) / n)`` uses the control variance twice).
    """
    p0 = min(max(control_rate, 1e-9), 1 - 1e-9)
    top = 1 - p0 - 1e-9
    if power_at(top, p0, n_per_arm, alpha) < power:
        return float("nan")
    return float(brentq(lambda d: power_at(d, p0, n_per_arm, alpha) - power, 1e-9, top))


def power_at(effect: float, control_rate: float, n_per_arm: float, alpha: float = 0.05) -> float:
    """Approximate power of the two-sided test for a true difference ``effect``."""
    p1 = min(max(control_rate + effect, 1e-9), 1 - 1e-9)
    p0 = min(max(control_rate, 1e-9), 1 - 1e-9)
    se = np.sqrt((p0 * (1 - p0) + p1 * (1 - p1)) / n_per_arm)
    z = stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.sf(z - abs(effect) / se) + stats.norm.cdf(-z - abs(effect) / se))
