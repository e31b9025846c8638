"""Search spaces: declarative, validated families of candidate networks.

A space is built from the ``search_space`` section of a study YAML (invalid keys and values
fail at load time with the key path named) and samples one :class:`qnas.spec.ModelSpec` per
Optuna trial, with stable parameter names and conditional per-layer parameters.
"""

from ._base import SearchSpace
from ._layers import LayerChoices, allowed_reuse_factors
from ._registry import FAMILIES, build_search_space
from .autoencoder import AutoencoderSpace
from .hgq2_mlp import HGQ2MLPSpace, HGQ2Recipe
from .mlp import MLPSpace

__all__ = ["FAMILIES", "AutoencoderSpace", "HGQ2MLPSpace", "HGQ2Recipe", "LayerChoices", "MLPSpace", "SearchSpace",
           "allowed_reuse_factors", "build_search_space"]
