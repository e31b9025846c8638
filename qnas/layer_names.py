"""The names the QKeras model gives its layers: a contract between ``nas`` and ``hls_backend``.

``nas.qkeras_model`` builds the model under these names; hls4ml keeps Keras layer names,
so ``hls_backend`` addresses its per-layer precision config and reads synthesis reports
back to spec layers by them. Both import them from here, so renaming a layer on one side
cannot silently leave the other configuring a layer that no longer exists. A dense layer
is named after its spec layer (``DenseLayerSpec.name``).
"""

from __future__ import annotations

__all__ = ["INPUT_LAYER_NAME", "MODEL_INPUT_NAME", "activation_layer_name"]

#: the Keras ``Input`` of the model
MODEL_INPUT_NAME = "inputs"

#: the ``QActivation`` right after the input that pins the input precision
INPUT_LAYER_NAME = "input_q"


def activation_layer_name(layer_name: str) -> str:
    """Name of the QActivation that follows dense layer ``layer_name``."""
    return f"{layer_name}_act"
