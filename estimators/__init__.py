"""Resource and latency estimation in milliseconds, without synthesis or TensorFlow."""

from .bitops import BitOpsEstimator, layer_bitops
from .budget import Budget
from .parts import DEFAULT_PART, PARTS, FPGAPart, get_part

_DEFAULT = BitOpsEstimator()


def estimate(spec, weights=None, part=None, clock_ns=None):
    """Estimate resources and latency of ``spec`` (sharper with trained ``weights``).

    Returns a :class:`qnas.results.ResourceEstimate` whose ``producer`` names the
    estimator that made the numbers.
    """
    return _DEFAULT.estimate(spec, weights=weights, part=part, clock_ns=clock_ns)


__all__ = ["BitOpsEstimator", "Budget", "DEFAULT_PART", "FPGAPart", "PARTS", "estimate",
           "get_part", "layer_bitops"]
