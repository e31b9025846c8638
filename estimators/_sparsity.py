"""Per-layer sparsity a spec may carry before training, turned into per-layer weight priors.

A sparsity-aware search (pruning to a target) knows, before training, what share of each
kernel will be zero; that share changes a distributed-arithmetic design's cost more than
anything else the spec says. It is optional and lives in ``spec.metadata["sparsity"]``
(metadata does not change the spec fingerprint): one fraction of zero weights for every
layer, or a mapping ``{layer name: fraction}`` (layers not named keep the prior's).
A layer's pruning target ``DenseLayerSpec.sparsity`` (what pruning-aware training zeroes,
:mod:`nas.pruning`) counts as stated wherever the metadata does not name the layer.
"""

from __future__ import annotations

from typing import Any

from qnas.errors import ConfigError
from qnas.spec import ModelSpec

from ._csd import WeightPrior

METADATA_KEY = "sparsity"


def spec_sparsity(spec: ModelSpec) -> list[float | None]:
    """Zero-weight fraction per layer from ``spec.metadata['sparsity']`` (None where not given)."""
    raw: Any = spec.metadata.get(METADATA_KEY) if spec.metadata else None
    names = [layer.name for layer in spec.layers]
    targets = [float(layer.sparsity) if layer.sparsity > 0 else None for layer in spec.layers]
    if raw is None:
        return targets
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        values = {name: raw for name in names}
    elif isinstance(raw, dict):
        unknown = sorted(set(raw) - set(names))
        if unknown:
            raise ConfigError(f"spec.metadata.{METADATA_KEY}", f"names no layer of the spec: {unknown}; "
                              f"layers are {names}")
        values = dict(raw)
    else:
        raise ConfigError(f"spec.metadata.{METADATA_KEY}", "must be a fraction of zero weights in [0, 1] or a "
                          f"mapping {{layer name: fraction}}; got {raw!r}")
    out: list[float | None] = []
    for name in names:
        value = values.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not 0.0 <= float(value) <= 1.0):
            raise ConfigError(f"spec.metadata.{METADATA_KEY}.{name}", "must be a fraction of zero weights in "
                              f"[0, 1]; got {value!r}")
        out.append(None if value is None else float(value))
    return [stated if stated is not None else target for stated, target in zip(out, targets)]


def layer_priors(spec: ModelSpec, prior: WeightPrior) -> list[WeightPrior]:
    """One prior per layer: ``prior``, with the spec's sparsity where it states one."""
    return [prior if z is None else prior.for_zero_fraction(z, layer.weight.bits, layer.weight.kind)
            for layer, z in zip(spec.layers, spec_sparsity(spec))]
