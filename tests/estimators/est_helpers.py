"""Specs shared by the estimator tests."""

from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer


def mlp(widths=(16, 64, 32, 32, 5), bits=6, strategy="distributed_arithmetic", reuse=None, weight=None):
    """A ReLU MLP with ``bits``-bit weights; ``reuse`` per layer (default all 1)."""
    q = weight or Quantizer.fixed(bits, 0)
    act = Quantizer.fixed(6, 2, signed=False)
    layers = []
    n = len(widths) - 1
    for i, units in enumerate(widths[1:]):
        last = i == n - 1
        layers.append(DenseLayerSpec("out" if last else f"d{i}", units, q, Quantizer.fixed(8, 2),
                                     None if last else act, (reuse or [1] * n)[i]))
    return ModelSpec(widths[0], Quantizer.fixed(8, 3), tuple(layers), strategy=strategy)

