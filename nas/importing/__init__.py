"""Bring your own model: import a trained Keras/QKeras network as a qnas spec + weights.

See :mod:`nas.importing.core` for what an imported folder holds and proves.
"""

from .core import ImportResult, import_model, layer_chain
from .loading import MODEL_FORMATS, load_user_model
from .mapping import SUPPORTED, ImportPlan, LayerSource, plan_import, quantizer_from_config

__all__ = ["ImportPlan", "ImportResult", "LayerSource", "MODEL_FORMATS", "SUPPORTED", "import_model",
           "layer_chain", "load_user_model", "plan_import", "quantizer_from_config"]
