"""The HGQ2 trainer: one trial trains in HGQ2's environment and returns its front's checkpoints.

The driver (:mod:`nas._trial`) sees the same protocol as QKeras training
(``train(spec, dataset)`` then ``save(trained, artifacts, dataset)``), plus
``trained.checkpoints``: every kept checkpoint is a design of its own (own spec with the
learned per-element formats, own weights, own metrics), which the driver records as extra
finished trials with the same parameters. ``trained`` itself is the checkpoint with the best
validation accuracy, so the trial Optuna asked for reports what its parameters can reach.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from qnas._io import atomic_write, write_text_atomic
from qnas.artifacts import TrialArtifacts
from qnas.data import Dataset
from qnas.errors import CandidateFailed
from qnas.spec import ModelSpec
from qnas.weights import ModelWeights

from .convert import checkpoint_to_spec

__all__ = ["HGQ2Checkpoint", "HGQ2Trainer", "WORKER"]

WORKER = Path(__file__).with_name("worker.py")
PROTOCOL = 1


@dataclass
class HGQ2Checkpoint:
    """One design of an HGQ2 training: what TrialRunner needs of a trained candidate."""

    spec: ModelSpec
    weights: ModelWeights
    metrics: dict[str, float]
    val_metrics: dict[str, float]
    epochs_run: int
    train_seconds: float
    info: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    keras_bytes: bytes = field(repr=False, default=b"")
    checkpoints: list["HGQ2Checkpoint"] = field(default_factory=list)


def _labels(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y)
    return y.argmax(axis=1) if y.ndim == 2 else y.astype(np.int64)


def _metrics(logits: np.ndarray, y: np.ndarray) -> dict[str, float]:
    return {"accuracy": float(np.mean(np.argmax(logits, axis=1) == _labels(y)))}


class HGQ2Trainer:
    """Runs :mod:`nas.hgq2.worker` in the ``hgq2`` isolated environment (created on first use)."""

    def __init__(self, seed: int, *, env_dir: str | Path | None = None, threads: int = 0,
                 echo: Callable[[str], None] | None = None, keep_jobs: bool = False):
        self.seed = seed
        self.env_dir = env_dir
        self.threads = threads
        self.echo = echo
        self.keep_jobs = keep_jobs

    def _env(self):
        from qnas.isolated_env import ensure_env
        return ensure_env("hgq2", self.env_dir, progress=self.echo is not None, echo=self.echo or (lambda _: None))

    def train(self, spec: ModelSpec, dataset: Dataset) -> HGQ2Checkpoint:
        from qnas.isolated_env import run_job

        if dataset.task != "classification":
            raise CandidateFailed("the hgq2_mlp family trains classifiers only")
        recipe = dict(spec.metadata.get("hgq2") or {})
        if not recipe:
            raise CandidateFailed("spec.metadata['hgq2'] is missing: hgq2 trials are sampled by the hgq2_mlp family")
        widths = [layer.units for layer in spec.layers[:-1]]
        request = {"protocol": PROTOCOL, "widths": widths, "n_outputs": spec.n_outputs,
                   # a repeated draw of the same point trains from another initialisation (nas._worker)
                   "seed": self.seed + 7919 * int(recipe.get("repeat", 0)),
                   "epochs": recipe["epochs"], "batch_size": recipe["batch_size"],
                   "learning_rate": recipe["learning_rate"], "beta_start": recipe["beta_start"],
                   "beta_end": recipe["beta_end"], "beta_hold_epochs": recipe["beta_hold_epochs"],
                   "input_bits": recipe["input_bits"], "input_integer": recipe["input_integer"],
                   "max_checkpoints": recipe["max_checkpoints"], "threads": self.threads}
        arrays = {"x_train": dataset.x_train.astype(np.float32), "y_train": _labels(dataset.y_train),
                  "x_val": dataset.x_val.astype(np.float32), "y_val": _labels(dataset.y_val),
                  "x_test": dataset.x_test.astype(np.float32)}
        env = self._env()
        job = Path(tempfile.mkdtemp(prefix="qnas-hgq2-"))
        start = time.perf_counter()
        try:
            result = run_job(env, WORKER, job, request, arrays, echo=self.echo)
            checkpoints = [self._checkpoint(job, entry, spec, dataset, result) for entry in result["checkpoints"]]
        finally:
            if not self.keep_jobs:
                shutil.rmtree(job, ignore_errors=True)
        if not checkpoints:
            raise CandidateFailed("HGQ2 training kept no checkpoint")
        wall = time.perf_counter() - start
        best = max(checkpoints, key=lambda c: (c.val_metrics["accuracy"], -c.info["ebops"]))
        for c in checkpoints:
            c.train_seconds = wall
        best.checkpoints = [c for c in checkpoints if c is not best]
        return best

    def _checkpoint(self, job: Path, entry: Mapping[str, Any], sampled: ModelSpec, dataset: Dataset,
                    result: Mapping[str, Any]) -> HGQ2Checkpoint:
        with np.load(job / entry["file"]) as data:
            arrays = {k: data[k] for k in data.files}
        keras_file = job / entry.get("keras", "")
        keras_bytes = keras_file.read_bytes() if entry.get("keras") and keras_file.exists() else b""
        meta = {**dict(sampled.metadata), "checkpoint": {k: entry[k] for k in ("epoch", "ebops", "beta")},
                "trainer_versions": result.get("versions", {})}
        spec, weights = checkpoint_to_spec(arrays, len(sampled.layers), meta)
        if spec.widths != sampled.widths:
            raise CandidateFailed(f"HGQ2 returned widths {spec.widths}, the trial asked for {sampled.widths}")
        diff = max(entry.get("max_abs_diff", {}).values(), default=0.0)
        if diff != 0.0:
            raise CandidateFailed(f"checkpoint {entry['file']}: the extracted formats reproduce HGQ2's outputs only "
                                  f"to {diff:g}; the conversion would not be bit-exact")
        test = _metrics(arrays["y_test"], dataset.y_test) if dataset.y_test is not None else {}
        return HGQ2Checkpoint(spec=spec, weights=weights, metrics=test,
                              val_metrics=_metrics(arrays["y_val"], dataset.y_val),
                              epochs_run=int(entry["epoch"]) + 1, train_seconds=float(result["train_seconds"]),
                              info=dict(entry), arrays=arrays, keras_bytes=keras_bytes)

    def save(self, trained: HGQ2Checkpoint, artifacts: TrialArtifacts, dataset: Dataset,
             n_vectors: int = 1000) -> None:
        """The trial layout of ``qnas.artifacts``, HGQ2 flavour (spec.json last)."""
        artifacts.root.mkdir(parents=True, exist_ok=True)
        if artifacts.spec.exists():
            artifacts.spec.unlink()
        atomic_write(artifacts.weights, trained.weights.save)
        # the model: every array the worker extracted, which is all the hardware needs
        model = {k: v for k, v in trained.arrays.items() if not k.startswith(("y_", "x_"))}
        atomic_write(artifacts.hgq2_model, lambda p: np.savez(p, **model))
        if trained.keras_bytes:
            atomic_write(artifacts.keras3_model, lambda p: p.write_bytes(trained.keras_bytes))
        vectors = {"x": trained.arrays["x_test_q"][:n_vectors].astype(np.float64),
                   "y_qkeras": trained.arrays["y_test"][:n_vectors].astype(np.float64)}
        if dataset.y_test is not None:
            vectors["y_true"] = np.asarray(dataset.y_test[:n_vectors])
        atomic_write(artifacts.test_vectors, lambda p: np.savez(p, **vectors))
        summary = {"fingerprint": trained.spec.fingerprint(), "architecture": trained.spec.architecture,
                   "dataset": dataset.name, "test": trained.metrics, "val": trained.val_metrics,
                   "epochs_run": trained.epochs_run, "train_seconds": trained.train_seconds,
                   "trainer": "hgq2", "checkpoint": trained.info}
        write_text_atomic(artifacts.metrics, json.dumps(summary, indent=2, sort_keys=True, default=float))
        write_text_atomic(artifacts.spec, trained.spec.to_json())
