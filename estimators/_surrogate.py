"""A closed-form surrogate of da4ml's per-layer CMVM result: cost and latency from layer stats.

da4ml's solver shares sub-expressions between outputs and trades adder depth for area;
neither has a simple closed form, but both vary smoothly with the layer's shape, the
CSD digits per weight and the word widths. So a log-linear model, fitted once to
thousands of layers traced with da4ml (``benchmarks/fit_da4ml_surrogate.py``, no
synthesis needed), predicts a layer's adder-graph cost and its latency in adder levels
in microseconds. Two coefficient sets: one for exact statistics (weights known), one for
expected statistics (before training). The fitted coefficients live in
``estimators/data/da4ml_surrogate.json`` with the da4ml version that produced them.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ._layer_stats import LayerStats, log2ceil

SURROGATE_FILE = Path(__file__).parent / "data" / "da4ml_surrogate.json"


def expected_max_terms(s: LayerStats) -> float:
    """Terms of the layer's longest column (the one that sets its adder depth)."""
    if s.exact or s.n_out == 1:
        return s.max_terms
    mean = float(np.mean(s.terms))
    return mean + math.sqrt(max(mean, 1.0)) * min(2.0, 0.5 * math.log(s.n_out) + 0.5)


def cost_features(s: LayerStats) -> np.ndarray:
    t = math.log(max(float(np.mean(s.terms)), 1e-3) + 1.0)
    lo, li, lb, lw, la = (math.log(s.n_out), math.log(s.n_in), math.log(s.in_bits),
                          math.log(s.w_bits + 1), math.log(s.acc_bits))
    act = float(s.has_activation)
    return np.array([1.0, lo, li, t, lb, lw, la, lo * t, lo * li, t * lb, lo * lo, t * t, act, float(s.rounding),
                     math.log(s.n_out * s.acc_bits) * act])


def latency_features(s: LayerStats) -> np.ndarray:
    tm = expected_max_terms(s)
    depth = log2ceil(tm)
    fill = tm / 2 ** depth if tm > 1 else 0.0
    return np.array([1.0, math.log(s.n_out), math.log(s.n_in), math.log(float(np.mean(s.terms)) + 1.0),
                     math.log(tm + 1.0), float(depth), fill, float(s.w_kind != "fixed"), float(s.rounding),
                     float(s.has_activation)])


def fit_surrogate(stats_exact: Sequence[LayerStats], stats_expected: Sequence[LayerStats],
                  costs: Sequence[float], latencies: Sequence[float]) -> dict[str, Any]:
    """Least-squares coefficients (log cost, latency levels) for both statistics kinds."""
    costs = np.asarray(costs, float)
    keep = costs > 0
    out: dict[str, Any] = {}
    for kind, stats in (("exact", stats_exact), ("expected", stats_expected)):
        X = np.array([cost_features(s) for s in stats])
        out[f"cost_{kind}"] = np.linalg.lstsq(X[keep], np.log(costs[keep]), rcond=None)[0].tolist()
        L = np.array([latency_features(s) for s in stats])
        out[f"latency_{kind}"] = np.linalg.lstsq(L, np.asarray(latencies, float), rcond=None)[0].tolist()
    return out


@lru_cache(maxsize=4)
def load_surrogate(path: str | None = None) -> dict[str, Any] | None:
    """The shipped surrogate coefficients (None when the file is absent)."""
    p = Path(path) if path else SURROGATE_FILE
    if not p.is_file():
        return None
    return json.loads(p.read_text())


def predict(s: LayerStats, surrogate: dict[str, Any]) -> tuple[float, float]:
    """(da4ml cost, latency in adder levels) of one layer."""
    kind = "exact" if s.exact else "expected"
    cost = math.exp(float(np.dot(surrogate["coef"][f"cost_{kind}"], cost_features(s))))
    latency = float(np.dot(surrogate["coef"][f"latency_{kind}"], latency_features(s)))
    return cost, max(latency, 0.0)
