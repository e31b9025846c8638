"""A small study and a cheap stand-in for QKeras training, for tests of the driver's own logic.

It returns weights that really lie on each layer's quantization grid (so the estimator's
weight-aware path runs on valid input) and a deterministic pseudo-accuracy that grows with
capacity, so the objectives trade off the way real ones do. Training itself is tested with
the real trainer (tests marked slow).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from qnas.spec import ModelSpec, Quantizer
from qnas.weights import LayerWeights, ModelWeights


def _grid_values(q: Quantizer, shape, rng) -> np.ndarray:
    if q.kind == "ternary":
        return rng.choice([-1.0, 0.0, 1.0], size=shape)
    if q.kind == "binary":
        return rng.choice([-1.0, 1.0], size=shape)
    steps = rng.integers(int(q.min_value / q.step), int(q.max_value / q.step) + 1, size=shape)
    return steps * q.step


@dataclass
class FakeTrained:
    spec: ModelSpec
    weights: ModelWeights
    metrics: dict
    val_metrics: dict
    epochs_run: int = 3
    train_seconds: float = 0.01
    history: dict = field(default_factory=dict)
    model: Any = None


class FakeTrainer:
    """Records every trained spec; ``on_train(spec, call_index)`` may raise (failure, Ctrl-C)."""

    def __init__(self, on_train: Callable[[ModelSpec, int], None] | None = None):
        self.trained: list[ModelSpec] = []
        self.saved: list[str] = []
        self.calls = 0
        self.on_train = on_train

    def train(self, spec: ModelSpec, dataset) -> FakeTrained:
        self.calls += 1
        if self.on_train is not None:
            self.on_train(spec, self.calls - 1)
        self.trained.append(spec)
        rng = np.random.default_rng(int(spec.fingerprint(), 16) % 2**32)
        layers = [LayerWeights(_grid_values(layer.weight, (n_in, layer.units), rng),
                               _grid_values(layer.bias, (layer.units,), rng))
                  for layer, n_in, _ in spec.layer_inputs()]
        weights = ModelWeights(layers)
        weights.check(spec)
        capacity = np.log2(spec.n_params) / 16 + sum(
            (l.weight.bits if l.weight.kind == "fixed" else 1) for l in spec.layers) / 100
        acc = float(min(0.99, 0.4 + capacity))
        return FakeTrained(spec, weights, {"accuracy": acc - 0.01, "roc_auc": 0.9, "loss": 1 - acc},
                           {"accuracy": acc, "roc_auc": 0.9, "loss": 1 - acc})

    def save(self, trained: FakeTrained, artifacts, dataset) -> None:
        artifacts.spec.write_text(trained.spec.to_json())
        trained.weights.save(artifacts.weights)
        self.saved.append(str(artifacts.root))


def small_study(**changes) -> dict:
    """A study on digits small enough to run in well under a second per trial."""
    data = {
        "name": "t",
        "dataset": "digits",
        "n_trials": 8,
        "seed": 0,
        "search_space": {"family": "mlp", "depth": [1, 2], "width": [4, 8, 16],
                         "weight_bits": [8, 4, "ternary", "binary"], "reuse_factor": [1, 2, 4]},
        "objectives": ["accuracy", "lut", "latency_ns"],
        "budget": {"part": "xcvu13p", "clock_ns": 5.0},
        "training": {"epochs": 2},
        "sampler": {"name": "random"},
    }
    data.update(changes)
    return data
