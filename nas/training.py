"""Quantization-aware training of one candidate, and its trial artifacts on disk.

Training is seeded and run with TensorFlow op determinism so that a trial can be re-run
to the same weights (the study can then re-train the winners for synthesis instead of
keeping every model). TensorFlow gets ``QNAS_TF_THREADS`` threads (default 2): the search
runs trials one after another on small shared machines, and small MLPs gain nothing from
more threads.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from qnas import _imports
from qnas._io import atomic_write, write_text_atomic
from qnas.artifacts import TrialArtifacts
from qnas.data import Dataset
from qnas.errors import CandidateFailed, ConfigError
from qnas.spec import ModelSpec
from qnas.weights import ModelWeights

from . import cost_penalty, pruning
from .metrics import evaluate_model, quantized_inputs
from .qkeras_model import build_qkeras_model, extract_weights, load_qkeras_model

STOP_REASONS = ("max_epochs", "early_stopping", "max_seconds", "callback")


@dataclass(frozen=True)
class TrainingConfig:
    """How one candidate is trained. ``max_seconds`` caps the wall time of ``fit``.

    Multi-fidelity: with ``promote_epochs > 0`` every candidate trains ``epochs`` epochs, and
    the study continues training for ``promote_epochs`` more (warm start from its own
    weights, :func:`continue_training`) those near the front: candidates that no finished
    trial beats by more than ``promote_margin`` in quality while costing no more in every
    resource objective (:mod:`nas._trial`).
    """

    epochs: int = 30
    batch_size: int = 256
    learning_rate: float = 3e-3
    patience: int = 5
    seed: int = 0
    min_delta: float = 0.0
    max_seconds: float | None = None
    verbose: int = 0
    promote_epochs: int = 0
    promote_margin: float = 0.01

    def __post_init__(self) -> None:
        def need(ok: bool, name: str, what: str) -> None:
            if not ok:
                raise ConfigError(f"training.{name}", f"must be {what}; got {getattr(self, name)!r}")

        def is_int(v: Any) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        def is_num(v: Any) -> bool:
            return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

        need(is_int(self.epochs) and self.epochs >= 1, "epochs", "an int >= 1")
        need(is_int(self.batch_size) and self.batch_size >= 1, "batch_size", "an int >= 1")
        need(is_num(self.learning_rate) and self.learning_rate > 0, "learning_rate", "a number > 0")
        need(is_int(self.patience) and self.patience >= 1, "patience", "an int >= 1")
        need(is_int(self.seed) and self.seed >= 0, "seed", "an int >= 0")
        need(is_num(self.min_delta) and self.min_delta >= 0, "min_delta", "a number >= 0")
        need(self.max_seconds is None or (is_num(self.max_seconds) and self.max_seconds > 0),
             "max_seconds", "None or a number > 0")
        need(is_int(self.verbose) and self.verbose in (0, 1, 2), "verbose", "0, 1 or 2")
        need(is_int(self.promote_epochs) and self.promote_epochs >= 0, "promote_epochs", "an int >= 0")
        need(is_num(self.promote_margin) and 0 <= self.promote_margin <= 1, "promote_margin",
             "a number in [0, 1]")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainingConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"training.{unknown[0]}", f"unknown key; valid keys are {sorted(known)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainedModel:
    """A trained candidate: the live model, its quantized weights and how training went."""

    spec: ModelSpec
    model: Any
    weights: ModelWeights
    metrics: dict[str, float]
    val_metrics: dict[str, float]
    history: dict[str, list[float]]
    epochs_run: int
    train_seconds: float
    best_epoch: int = 0
    stop_reason: str = "max_epochs"
    config: TrainingConfig = field(default_factory=TrainingConfig)


_TF_CONFIGURED = False


def configure_tensorflow() -> None:
    """Limit threads and enable op determinism, once per process (TF allows it only early)."""
    global _TF_CONFIGURED
    if _TF_CONFIGURED:
        return
    tf = _imports.tensorflow()
    raw = os.environ.get("QNAS_TF_THREADS", str(min(2, os.cpu_count() or 1)))
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError("QNAS_TF_THREADS", f"must be a positive integer; got {raw!r}")
    threads = int(raw)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # the TF runtime is already up (e.g. the caller used TF first): keep its threads
    tf.config.experimental.enable_op_determinism()
    _TF_CONFIGURED = True


def _check_compatible(spec: ModelSpec, dataset: Dataset) -> None:
    if spec.task != dataset.task:
        raise ConfigError("search_space", f"spec task {spec.task!r} does not match dataset "
                          f"{dataset.name!r} task {dataset.task!r}")
    if spec.n_inputs != dataset.n_features:
        raise ConfigError("search_space", f"spec has {spec.n_inputs} inputs but dataset "
                          f"{dataset.name!r} has {dataset.n_features} features")
    if spec.task == "classification" and spec.n_outputs != dataset.n_classes:
        raise ConfigError("search_space", f"spec has {spec.n_outputs} outputs but dataset "
                          f"{dataset.name!r} has {dataset.n_classes} classes")


def _normal_events(x: np.ndarray, y: np.ndarray | None, split: str, dataset: Dataset) -> np.ndarray:
    """Autoencoders learn what normal looks like: keep rows labelled 0 when labels exist."""
    if y is None:
        return x
    keep = np.asarray(y) == 0
    if not keep.any():
        raise ConfigError("dataset", f"dataset {dataset.name!r}: the {split} split has no normal "
                          "events (label 0) to train the autoencoder on")
    return x[keep]


def _training_arrays(spec: ModelSpec, dataset: Dataset):
    if spec.task == "classification":
        return (dataset.x_train.astype(np.float32), dataset.y_train.astype(np.int64),
                (dataset.x_val.astype(np.float32), dataset.y_val.astype(np.int64)))
    x_train = _normal_events(dataset.x_train, dataset.y_train, "train", dataset)
    x_val = _normal_events(dataset.x_val, dataset.y_val, "val", dataset)
    # the target is the input as the network sees it (on the input grid), as in firmware
    t_train, t_val = quantized_inputs(spec, x_train), quantized_inputs(spec, x_val)
    return x_train.astype(np.float32), t_train, (x_val.astype(np.float32), t_val)


def _time_limit_callback(keras: Any, max_seconds: float) -> Any:
    class TimeLimit(keras.callbacks.Callback):
        """Stop after the batch that crosses the wall-time budget; best weights still restore."""

        def __init__(self) -> None:
            super().__init__()
            self.hit = False
            self.start = time.monotonic()

        def on_train_begin(self, logs=None):
            self.start = time.monotonic()

        def on_train_batch_end(self, batch, logs=None):
            if time.monotonic() - self.start > max_seconds:
                self.hit = True
                self.model.stop_training = True

    return TimeLimit()


def _dense_index(model: Any, name: str) -> int:
    """Position of the spec layer ``name`` in ``model``, wrapped (``prune_low_magnitude_<name>``) or not."""
    for i, layer in enumerate(model.layers):
        if layer.name == name or getattr(getattr(layer, "layer", None), "name", None) == name:
            return i
    raise CandidateFailed(f"model has no layer {name!r} of the spec")


def train_candidate(spec: ModelSpec, dataset: Dataset, config: TrainingConfig | None = None,
                    callbacks: Sequence[Any] = (), init_model: Any = None) -> TrainedModel:
    """Train ``spec`` on ``dataset`` with quantization-aware training; return it evaluated.

    Classification minimises softmax cross-entropy on logits; autoencoders the MSE between
    output and quantized input, on normal events only. Early stopping watches the
    validation loss and restores the best epoch's weights. Extra Keras ``callbacks`` (e.g.
    Optuna pruning) run after ours; exceptions they raise propagate unchanged.

    Layers with ``sparsity > 0`` train pruning-aware (:mod:`nas.pruning`; early stopping
    then watches only the epochs after the sparsity ramp), and a spec whose metadata sets
    ``training.cost_penalty`` adds that multiple of the hardware-cost proxy of
    :mod:`nas.cost_penalty` to the loss. The returned model is always plain QKeras (pruning
    wrappers stripped, pruned weights exactly zero).

    Raises CandidateFailed when the training or validation loss becomes NaN/inf (diverged
    training), UnsupportedSpec (an InfeasibleCandidate) when QKeras cannot realise the spec,
    ConfigError when spec and dataset disagree on inputs, outputs or task.
    """
    config = config or TrainingConfig()
    _check_compatible(spec, dataset)
    configure_tensorflow()
    keras = _imports.tf_keras()
    keras.backend.clear_session()
    keras.utils.set_random_seed(config.seed)

    x_train, y_train, validation = _training_arrays(spec, dataset)
    steps_per_epoch = max(1, math.ceil(len(x_train) / config.batch_size))
    wrap = pruning.dense_wrapper(spec, steps_per_epoch, config.epochs, ramp=init_model is None)
    model = build_qkeras_model(spec, seed=config.seed, wrap_dense=wrap)
    dense_layers = [model.get_layer(index=_dense_index(model, layer.name)) for layer in spec.layers]
    dense_layers = [getattr(layer, "layer", layer) for layer in dense_layers]  # inside a wrapper
    if init_model is not None:
        for layer, dense in zip(spec.layers, dense_layers):
            dense.set_weights(init_model.get_layer(layer.name).get_weights())
    cost_penalty.add_cost_penalty(model, spec, dense_layers)
    if spec.task == "classification":
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        metrics: list[Any] = ["accuracy"]
    else:
        loss = keras.losses.MeanSquaredError()
        metrics = []
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
                  loss=loss, metrics=metrics)
    start_from = pruning.ramp_epochs(config.epochs) if wrap is not None and init_model is None else 0
    early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience,
                                          min_delta=config.min_delta, restore_best_weights=True,
                                          start_from_epoch=start_from)
    ours: list[Any] = [keras.callbacks.TerminateOnNaN(), early]
    if wrap is not None:
        ours += pruning.pruning_callbacks()
    timer = None
    if config.max_seconds is not None:
        timer = _time_limit_callback(keras, config.max_seconds)
        ours.append(timer)

    start = time.monotonic()
    fit = model.fit(x_train, y_train, validation_data=validation, epochs=config.epochs,
                    batch_size=config.batch_size, shuffle=True, verbose=config.verbose,
                    callbacks=ours + list(callbacks))
    train_seconds = time.monotonic() - start
    history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}

    losses = history.get("loss", [])
    if not losses:
        raise CandidateFailed(f"training of {spec.architecture} completed no epoch")
    for key in ("loss", "val_loss"):
        bad = next((i for i, v in enumerate(history.get(key, [])) if not math.isfinite(v)), None)
        if bad is None:
            continue
        raise CandidateFailed(
            f"training diverged: {key} became NaN/inf in epoch {bad + 1} "
            f"({spec.architecture}, learning_rate={config.learning_rate}); lower "
            "training.learning_rate or check the inputs for NaN/inf and extreme scales")

    epochs_run = len(losses)
    if timer is not None and timer.hit:
        reason = "max_seconds"
    elif early.stopped_epoch > 0:
        reason = "early_stopping"
    elif epochs_run < config.epochs:
        reason = "callback"
    else:
        reason = "max_epochs"

    model = pruning.strip_pruning(model)
    weights = extract_weights(model, spec)
    return TrainedModel(
        spec=spec, model=model, weights=weights,
        metrics=evaluate_model(model, spec, dataset, "test"),
        val_metrics=evaluate_model(model, spec, dataset, "val"),
        history=history, epochs_run=epochs_run, train_seconds=train_seconds,
        best_epoch=int(early.best_epoch) + 1, stop_reason=reason, config=config,
    )


def continue_training(trained: TrainedModel, dataset: Dataset, epochs: int) -> TrainedModel:
    """Train ``trained`` for ``epochs`` more epochs from its weights (multi-fidelity promotion).

    The result reports the epochs and seconds of both runs together, and its history is
    the two histories one after the other.
    """
    config = replace(trained.config, epochs=epochs)
    more = train_candidate(trained.spec, dataset, config, init_model=trained.model)
    history = {k: trained.history.get(k, []) + v for k, v in more.history.items()}
    return replace(more, history=history, epochs_run=trained.epochs_run + more.epochs_run,
                   train_seconds=trained.train_seconds + more.train_seconds,
                   best_epoch=trained.epochs_run + more.best_epoch, config=trained.config)


# -- artifacts ----------------------------------------------------------------------------

def _save_h5(model: Any, path: Path) -> None:
    """HDF5 because hls4ml and QKeras' load_qmodel read it; their legacy-format warnings are noise."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*HDF5 file.*legacy", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*constraints.serialize", category=UserWarning)
        model.save(path, save_format="h5")


def _json_safe(value: Any) -> Any:
    """NaN/inf are not JSON; write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def save_trained(trained: TrainedModel, artifacts: TrialArtifacts, dataset: Dataset,
                 n_vectors: int = 1000) -> None:
    """Write the trial layout of ``qnas.artifacts`` (spec.json last, so ``exists()`` means complete).

    test_vectors.npz holds the first ``n_vectors`` test events: ``x`` quantized to the
    input format, ``y_qkeras`` the model's outputs on that ``x``, ``y_true`` the labels
    (omitted when the test split has none).
    """
    if not isinstance(n_vectors, int) or n_vectors < 1:
        raise ValueError(f"n_vectors must be a positive int; got {n_vectors!r}")
    spec = trained.spec
    artifacts.root.mkdir(parents=True, exist_ok=True)
    if artifacts.spec.exists():
        artifacts.spec.unlink()  # mark the trial incomplete while it is rewritten

    atomic_write(artifacts.model, lambda p: _save_h5(trained.model, p))
    atomic_write(artifacts.weights, trained.weights.save)

    x = quantized_inputs(spec, dataset.x_test[:n_vectors])
    vectors = {"x": x.astype(np.float64),
               "y_qkeras": np.asarray(trained.model.predict(x, batch_size=4096, verbose=0), np.float64)}
    if dataset.y_test is not None:
        vectors["y_true"] = np.asarray(dataset.y_test[:n_vectors])
    atomic_write(artifacts.test_vectors, lambda p: np.savez(p, **vectors))

    summary = {
        "fingerprint": spec.fingerprint(), "architecture": spec.architecture, "n_params": spec.n_params,
        "dataset": dataset.name, "test": trained.metrics, "val": trained.val_metrics,
        "epochs_run": trained.epochs_run, "best_epoch": trained.best_epoch,
        "stop_reason": trained.stop_reason, "train_seconds": trained.train_seconds,
        "training": trained.config.to_dict(), "history": trained.history,
    }
    write_text_atomic(artifacts.metrics, json.dumps(_json_safe(summary), indent=2, sort_keys=True))
    write_text_atomic(artifacts.spec, spec.to_json())


def load_trained(artifacts: TrialArtifacts) -> tuple[ModelSpec, Any, ModelWeights]:
    """Read back what :func:`save_trained` wrote; the weights are checked against the spec."""
    if not artifacts.exists():
        missing = [p.name for p in (artifacts.spec, artifacts.model, artifacts.weights) if not p.exists()]
        raise FileNotFoundError(f"trial artifacts in {artifacts.root} are incomplete (missing "
                                f"{', '.join(missing)}); the trial was not saved or was interrupted")
    spec = ModelSpec.from_json(artifacts.spec.read_text())
    model = load_qkeras_model(artifacts.model)
    weights = ModelWeights.load(artifacts.weights)
    weights.check(spec)
    return spec, model, weights
