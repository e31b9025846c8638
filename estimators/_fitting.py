"""Small, dependency-free fitting helpers shared by the estimators' ``fit`` methods."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def fit_relative_nnls(features: np.ndarray, target: np.ndarray, ridge: float = 1e-6) -> np.ndarray:
    """Non-negative coefficients minimising the squared *relative* error.

    Relative error is what the accuracy benchmark scores (MAPE), and non-negativity keeps
    every term a cost, so a coefficient cannot go negative to cancel another on a small
    training set and then extrapolate to nonsense.
    """
    X = np.asarray(features, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    keep = y > 0
    if keep.sum() < 1:
        raise ValueError("need at least one design with a positive target to fit")
    # a near-zero target would own the whole fit; floor the weight at 2 % of the median
    w = 1.0 / np.maximum(y[keep], 0.02 * float(np.median(y[keep])))
    A = X[keep] * w[:, None]
    b = y[keep] * w
    # tiny ridge rows keep the problem well posed when a feature is absent from the data
    scale = np.sqrt(ridge) * np.maximum(np.abs(A).max(axis=0), 1e-12)
    A = np.vstack([A, np.diag(scale)])
    b = np.concatenate([b, np.zeros(X.shape[1])])
    return _nnls(A, b)


def _nnls(A: np.ndarray, b: np.ndarray, max_iter: int = 500) -> np.ndarray:
    """Lawson-Hanson active-set non-negative least squares (small problems only)."""
    n = A.shape[1]
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    grad = A.T @ (b - A @ x)
    for _ in range(max_iter):
        if passive.all() or np.all(grad[~passive] <= 1e-12):
            break
        j = int(np.argmax(np.where(passive, -np.inf, grad)))
        passive[j] = True
        while True:
            z = np.zeros(n)
            z[passive] = np.linalg.lstsq(A[:, passive], b, rcond=None)[0]
            if np.all(z[passive] > 0):
                x = z
                break
            neg = passive & (z <= 0)
            alpha = np.min(x[neg] / (x[neg] - z[neg]))
            x = x + alpha * (z - x)
            passive &= x > 1e-12
            x[~passive] = 0.0
        grad = A.T @ (b - A @ x)
    return x


def mape(pred: np.ndarray, truth: np.ndarray) -> float:
    pred, truth = np.asarray(pred, float), np.asarray(truth, float)
    keep = truth != 0
    return float(np.mean(np.abs(pred[keep] - truth[keep]) / np.abs(truth[keep]))) if keep.any() else float("nan")


def calibration_record(tool: str, truths: Sequence[Any], part: str | None = None) -> dict[str, Any]:
    """What a fit was calibrated on (stored with the coefficients, shown in estimates)."""
    from qnas.parts import get_part

    return {"part": get_part(part or truths[0].part).name, "tool": tool,
            "tool_version": truths[0].tool_version, "n_designs": len(truths)}
