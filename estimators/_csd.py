"""Canonical-signed-digit (CSD) counts: what a constant multiplication costs in adders.

Distributed-arithmetic logic multiplies by a constant weight with shifts and adds, one add
per non-zero signed digit beyond the first; CSD is the representation with the fewest
non-zero digits, so a weight's CSD digit count is its intrinsic cost. Before training
there are no weights, so :func:`expected_csd_digits` gives the expectation under the weight
prior qnas assumes for quantization-aware-trained kernels (:class:`WeightPrior`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


def csd_digit_count(values: np.ndarray) -> np.ndarray:
    """Number of non-zero CSD digits of each integer (element-wise, int64 in, int64 out).

    Uses the identity nnz_csd(x) = popcount(x XOR 3x) for x >= 0 (each bit of the XOR marks
    one non-zero digit of the non-adjacent form), which avoids a
    per-digit Python loop so a whole kernel is counted in microseconds.
    """
    x = np.abs(np.asarray(values, dtype=np.int64))
    y = np.bitwise_xor(x, 3 * x)
    return _popcount(y)


def _popcount(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.uint64)
    count = np.zeros(x.shape, dtype=np.int64)
    while np.any(x):
        count += (x & np.uint64(1)).astype(np.int64)
        x = x >> np.uint64(1)
    return count


def csd_span(values: np.ndarray) -> np.ndarray:
    """Bit distance between the lowest and highest non-zero CSD digit (0 for 0 or powers of 2)."""
    x = np.abs(np.asarray(values, dtype=np.int64))
    out = np.zeros(x.shape, dtype=np.int64)
    nz = x > 0
    if not np.any(nz):
        return out
    v = x[nz]
    low = np.log2(v & -v).astype(np.int64)
    # the CSD top digit sits at bit floor(log2(1.5 * v)) (rounding to the nearer power)
    high = np.floor(np.log2(1.5 * v.astype(np.float64))).astype(np.int64)
    out[nz] = high - low
    return out


@dataclass(frozen=True)
class WeightPrior:
    """Distribution of a trained quantized kernel's integer mantissas, used before training.

    QAT leaves a share ``sparsity`` of exact zeros and the rest roughly Gaussian with a
    standard deviation of ``scale`` times the largest mantissa (weights rarely use the
    full range). The ground-truth generator draws its random weights from the same
    prior, so the pre-training estimate is the expectation over the designs it is
    checked against.
    """

    sparsity: float = 0.3
    scale: float = 0.35

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...], bits: int, kind: str = "fixed") -> np.ndarray:
        """Integer mantissas for a ``bits``-bit signed weight format (ternary/binary by kind)."""
        if kind == "binary":
            return rng.choice(np.array([-1, 1]), size=shape)
        if kind == "ternary":
            vals = rng.choice(np.array([-1, 1]), size=shape)
            return np.where(rng.random(shape) < self.sparsity, 0, vals)
        top = 2 ** (bits - 1)
        vals = np.rint(rng.normal(0.0, self.scale * top, size=shape)).astype(np.int64)
        vals = np.clip(vals, -top, top - 1)
        return np.where(rng.random(shape) < self.sparsity, 0, vals)

    def for_zero_fraction(self, zero_fraction: float, bits: int, kind: str = "fixed") -> "WeightPrior":
        """The prior whose kernels have ``zero_fraction`` zero weights in all (pruned + rounded to 0).

        A spec's ``sparsity`` is the share of zero weights a trained (pruned) kernel has;
        part of the Gaussian bulk rounds to zero as well, so the explicit share is what is
        left once those are counted: ``s = (z - p0) / (1 - p0)``, clipped to [0, 1].
        """
        if not 0.0 <= zero_fraction <= 1.0:
            raise ValueError(f"sparsity must be a fraction of zero weights in [0, 1]; got {zero_fraction!r}")
        if kind == "binary":
            return self
        if kind == "ternary":
            return WeightPrior(sparsity=float(zero_fraction), scale=self.scale)
        p0 = 1.0 - expected_nonzero(bits, kind, WeightPrior(0.0, self.scale))
        explicit = (zero_fraction - p0) / max(1.0 - p0, 1e-12)
        return WeightPrior(sparsity=float(min(max(explicit, 0.0), 1.0)), scale=self.scale)

    def probabilities(self, bits: int, kind: str = "fixed") -> tuple[np.ndarray, np.ndarray]:
        """(integer values, probabilities) of one weight mantissa under the prior."""
        if kind == "binary":
            return np.array([-1, 1]), np.array([0.5, 0.5])
        if kind == "ternary":
            return np.array([-1, 0, 1]), np.array([(1 - self.sparsity) / 2, self.sparsity, (1 - self.sparsity) / 2])
        top = 2 ** (bits - 1)
        values = np.arange(-top, top, dtype=np.int64)
        sigma = max(self.scale * top, 1e-9)
        # probability mass of rint(N(0, sigma)) at each integer, tails folded into the ends
        edges = np.concatenate(([-np.inf], values[1:] - 0.5, [np.inf]))
        from math import erf, sqrt
        cdf = np.array([0.5 * (1 + erf(e / (sigma * sqrt(2)))) if np.isfinite(e) else (0.0 if e < 0 else 1.0)
                        for e in edges])
        p = np.diff(cdf) * (1 - self.sparsity)
        p[values == 0] += self.sparsity
        return values, p / p.sum()


@lru_cache(maxsize=256)
def _moments(bits: int, kind: str, sparsity: float, scale: float) -> tuple[float, float, float]:
    values, p = WeightPrior(sparsity, scale).probabilities(bits, kind)
    digits = csd_digit_count(values)
    return float(p @ digits), float(p @ (values != 0)), float(p @ csd_span(values))


def expected_csd_digits(bits: int, kind: str = "fixed", prior: WeightPrior = WeightPrior()) -> float:
    """Expected non-zero CSD digits of one weight under ``prior``."""
    return _moments(bits, kind, prior.sparsity, prior.scale)[0]


def expected_nonzero(bits: int, kind: str = "fixed", prior: WeightPrior = WeightPrior()) -> float:
    """Probability that a weight is non-zero under ``prior``."""
    return _moments(bits, kind, prior.sparsity, prior.scale)[1]


def expected_span(bits: int, kind: str = "fixed", prior: WeightPrior = WeightPrior()) -> float:
    """Expected CSD digit span of one weight under ``prior``."""
    return _moments(bits, kind, prior.sparsity, prior.scale)[2]


@lru_cache(maxsize=512)
def _sign_moments(bits: int, kind: str, sparsity: float, scale: float) -> tuple[float, float, float]:
    values, p = WeightPrior(sparsity, scale).probabilities(bits, kind)
    a = np.abs(values).astype(np.float64)
    return float(p @ a), float(p @ a ** 2), float(p[values <= 0].sum())


def abs_moments(bits: int, kind: str = "fixed", prior: WeightPrior = WeightPrior()) -> tuple[float, float]:
    """(E|m|, E m^2) of one weight mantissa under ``prior`` (integer units)."""
    return _sign_moments(bits, kind, prior.sparsity, prior.scale)[:2]


def nonpositive_probability(bits: int, kind: str = "fixed", prior: WeightPrior = WeightPrior()) -> float:
    """P(m <= 0) of one weight mantissa under ``prior``."""
    return _sign_moments(bits, kind, prior.sparsity, prior.scale)[2]
