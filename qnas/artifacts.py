"""Where a trained trial's files live, so ``nas`` writes and ``hls_backend`` reads one layout.

``<run_dir>/trials/<number>/``::

    spec.json          the ModelSpec (ModelSpec.to_json)
    model.h5           the trained QKeras model (tf-keras HDF5; load with qkeras custom objects)
    weights.npz        quantized kernel/bias per layer (qnas.weights.ModelWeights)
    test_vectors.npz   x (inputs, already quantized to the input format), y_qkeras (model
                       outputs on x), y_true (labels where any)
    metrics.json       quality metrics and training history summary
    estimate.json      the ResourceEstimate used for constraints

A model brought in with ``qnas import`` has the same layout in a folder of its own, plus
``import.json`` (its provenance and the proof that the rebuilt model equals the user's);
every command that takes a trial takes such a folder too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


#: what ``qnas import`` writes beside the trial files
IMPORT_RECORD = "import.json"


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

    @property
    def import_record(self) -> Path:
        return self.root / IMPORT_RECORD

    @property
    def is_imported(self) -> bool:
        """A folder written by ``qnas import`` (rather than a trial of a study)."""
        return self.import_record.is_file()

    def exists(self) -> bool:
        return self.spec.exists() and self.model.exists() and self.weights.exists()
