"""Resource and latency estimation in milliseconds, without synthesis or TensorFlow.

``estimate`` picks the model of the spec's implementation style -- distributed arithmetic
(:class:`DistributedArithmeticEstimator`) or hls4ml Latency/Resource
(:class:`HLSStrategyEstimator`) -- with the coefficients calibrated for the part when a
calibration file exists (see :mod:`estimators.calibration`), and names it in ``producer``.
"""

from __future__ import annotations

from functools import lru_cache

from ._checks import LATENCY_UNROLL_LIMIT, check_spec
from ._csd import WeightPrior, csd_digit_count, expected_csd_digits
from .bitops import BitOpsEstimator, layer_bitops
from .budget import Budget
from .calibration import calibrate, find_calibration, load_estimator, save_estimator
from .distributed import DistributedArithmeticEstimator
from .hls4ml_model import _SHIPPED_CACHE as _hls4ml_shipped_cache
from .hls4ml_model import HLSStrategyEstimator
from qnas.parts import DEFAULT_PART, PARTS, FPGAPart, get_part


@lru_cache(maxsize=64)
def _estimator_for(strategy: str, part: str):
    return load_estimator(strategy, part)


def clear_cache() -> None:
    """Forget loaded calibrations (call after writing a new one in the same process)."""
    _estimator_for.cache_clear()
    _hls4ml_shipped_cache.clear()


def estimate(spec, weights=None, part=None, clock_ns=None):
    """Estimate resources and latency of ``spec`` (sharper with trained ``weights``).

    Returns a :class:`qnas.results.ResourceEstimate` whose ``producer`` names the
    estimator (and tier) that made the numbers. Raises :class:`qnas.errors.UnsupportedSpec`
    for a spec its strategy cannot realise and :class:`qnas.errors.ConfigError` for an
    unknown part or a bad clock.
    """
    name = get_part(part or DEFAULT_PART).name
    return _estimator_for(spec.strategy, name).estimate(spec, weights=weights, part=name, clock_ns=clock_ns)


__all__ = ["BitOpsEstimator", "Budget", "DEFAULT_PART", "DistributedArithmeticEstimator", "FPGAPart",
           "HLSStrategyEstimator", "LATENCY_UNROLL_LIMIT", "PARTS", "WeightPrior", "calibrate", "check_spec",
           "clear_cache", "csd_digit_count", "estimate", "expected_csd_digits", "find_calibration", "get_part",
           "layer_bitops", "load_estimator", "save_estimator"]
