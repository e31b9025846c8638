"""qnas: quantization-aware neural architecture search for FPGAs.

This package holds the light shared kernel every stage speaks: the model spec, the
resource/latency result types, quantized weights, datasets, errors. It imports no
TensorFlow, hls4ml or da4ml.
"""

from .data import Dataset
from .errors import (CandidateFailed, ConfigError, DataError, FatalError, InfeasibleCandidate,
                     QnasError, ToolBroken, ToolNotFound, UnsupportedSpec)
from .results import LayerResources, ResourceEstimate, ResourceReport, SynthesisResult, TimingCheck, compare
from .spec import DenseLayerSpec, ModelSpec, Quantizer, SpecError
from .weights import LayerWeights, ModelWeights

__version__ = "0.1.0"

__all__ = ["CandidateFailed", "ConfigError", "DataError", "Dataset", "DenseLayerSpec", "FatalError",
           "InfeasibleCandidate", "LayerResources", "LayerWeights", "ModelSpec", "ModelWeights",
           "QnasError", "Quantizer", "ResourceEstimate", "ResourceReport", "SpecError",
           "SynthesisResult", "TimingCheck", "ToolBroken", "ToolNotFound", "UnsupportedSpec", "compare",
           "__version__"]
