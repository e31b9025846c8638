"""Where a trained trial's files live, so ``nas`` writes and ``hls_backend`` reads one layout.

``<run_dir>/trials/<number>/``::

    spec.json          the ModelSpec (ModelSpec.to_json)
    model.h5           the trained QKeras model (tf-keras HDF5; load with qkeras custom objects)
    weights.npz        quantized kernel/bias per layer (qnas.weights.ModelWeights)
    test_vectors.npz   x (inputs, already quantized to the input format), y_qkeras (model
                       outputs on x), y_true (labels where any)
    metrics.json       quality metrics and training history summary
    estimate.json      the ResourceEstimate used for constraints
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TrialArtifacts:
    root: Path

    @classmethod
    def for_trial(cls, run_dir: str | Path, number: int) -> "TrialArtifacts":
        return cls(Path(run_dir) / "trials" / f"{number:05d}")

    @property
    def spec(self) -> Path:
        return self.root / "spec.json"

    @property
    def model(self) -> Path:
        return self.root / "model.h5"

    @property
    def weights(self) -> Path:
        return self.root / "weights.npz"

    @property
    def test_vectors(self) -> Path:
        return self.root / "test_vectors.npz"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.json"

    @property
    def estimate(self) -> Path:
        return self.root / "estimate.json"

    def exists(self) -> bool:
        return self.spec.exists() and self.model.exists() and self.weights.exists()
