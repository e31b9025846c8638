"""Quality metrics of a trained candidate, computed the way the firmware would see the data.

Inputs are quantized to the spec's input format before prediction (the model's own
``input_q`` layer does the same, so this changes nothing numerically, but it makes the
evaluated inputs identical to the test vectors handed to hls4ml and the RTL). Metrics are
computed in NumPy from the model outputs so the same functions score QKeras predictions,
C-simulation and RTL-simulation outputs alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qnas.data import Dataset
from qnas.fixed_point import quantize_array
from qnas.spec import ModelSpec

SPLITS: tuple[str, ...] = ("train", "val", "test")


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def macro_ovr_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """Mean one-vs-rest ROC AUC over the classes that have both positives and negatives.

    Classes absent from ``y`` are skipped instead of failing (small validation splits);
    NaN when no class qualifies.
    """
    from sklearn.metrics import roc_auc_score

    aucs = []
    for c in range(scores.shape[1]):
        positives = y == c
        if positives.any() and not positives.all():
            aucs.append(roc_auc_score(positives, scores[:, c]))
    return float(np.mean(aucs)) if aucs else float("nan")


def classification_metrics(y: np.ndarray, logits: np.ndarray) -> dict[str, float]:
    """accuracy, macro one-vs-rest roc_auc on softmax(logits), mean cross-entropy loss."""
    logits = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y).astype(np.int64)
    if logits.ndim != 2 or logits.shape[0] != y.shape[0]:
        raise ValueError(f"logits shape {logits.shape} does not match {y.shape[0]} labels")
    log_p = _log_softmax(logits)
    return {
        "accuracy": float(np.mean(np.argmax(logits, axis=1) == y)),
        "roc_auc": macro_ovr_auc(y, np.exp(log_p)),
        "loss": float(-np.mean(log_p[np.arange(y.shape[0]), y])),
    }


def reconstruction_scores(x: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    """Per-event anomaly score: the mean squared error over the inputs (float64)."""
    return np.mean((np.asarray(reconstruction, np.float64) - np.asarray(x, np.float64)) ** 2, axis=1)


def efficiency_at_acceptance(background: np.ndarray, signal: np.ndarray, acceptance: float
                             ) -> tuple[float, float, float]:
    """(signal efficiency, achieved background acceptance, threshold) of a trigger at ``acceptance``.

    The threshold is the (k+1)-th highest background score with k = floor(acceptance * n), and
    an event passes when its score is strictly above it, so at most k background events pass
    (fewer when scores tie): the rate is never overstated. ValueError when k < 1, i.e. the
    background sample is too small to resolve that acceptance.
    """
    background = np.asarray(background, np.float64)
    n = len(background)
    k = int(np.floor(acceptance * n + 1e-9))
    if k < 1 or k >= n:
        raise ValueError(f"{n} background events cannot resolve an acceptance of {acceptance:g} "
                         f"(floor(acceptance * n) = {k})")
    threshold = float(np.sort(background)[::-1][k])
    return (float(np.mean(np.asarray(signal, np.float64) > threshold)),
            float(np.mean(background > threshold)), threshold)


def autoencoder_metrics(x: np.ndarray, reconstruction: np.ndarray,
                        labels: np.ndarray | None, class_names: tuple[str, ...] = (),
                        acceptance: float | None = None) -> dict[str, float]:
    """recon_mse on normal events, loss (same), roc_auc of per-event MSE vs anomaly labels.

    ``x`` is the (quantized) input the network saw, which is also its training target.
    Without labels every event counts as normal and there is no roc_auc. With a background
    ``acceptance`` (the trigger rate / 40 MHz) and labels naming several signals (label k =
    ``class_names[k]``), also ``eff_<signal>`` per signal at that acceptance, their mean
    ``signal_eff`` (the anomaly study's objective), the achieved ``bg_acceptance`` and the
    ``score_threshold``.
    """
    per_event = reconstruction_scores(x, reconstruction)
    normal = np.ones(per_event.shape, bool) if labels is None else np.asarray(labels) == 0
    mse = float(np.mean(per_event[normal])) if normal.any() else float("nan")
    out = {"recon_mse": mse, "loss": mse}
    if labels is not None:
        labels = np.asarray(labels)
        anomalous = labels != 0
        if anomalous.any() and not anomalous.all():
            from sklearn.metrics import roc_auc_score

            out["roc_auc"] = float(roc_auc_score(anomalous, per_event))
        else:
            out["roc_auc"] = float("nan")
        if acceptance is not None and len(class_names) > 1 and normal.any():
            effs = []
            for k, name in enumerate(class_names[1:], start=1):
                sig = per_event[labels == k]
                if len(sig) == 0:
                    continue
                eff, achieved, threshold = efficiency_at_acceptance(per_event[normal], sig, acceptance)
                out[f"eff_{name}"] = eff
                effs.append(eff)
            if effs:
                out["signal_eff"] = float(np.mean(effs))
                out["bg_acceptance"] = achieved
                out["score_threshold"] = threshold
    return out


def split_arrays(dataset: Dataset, split: str) -> tuple[np.ndarray, np.ndarray | None]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; got {split!r}")
    return getattr(dataset, f"x_{split}"), getattr(dataset, f"y_{split}")


def quantized_inputs(spec: ModelSpec, x: np.ndarray) -> np.ndarray:
    """``x`` on the spec's input grid, as the float32 the model and test vectors use."""
    return quantize_array(x, spec.input_quantizer).astype(np.float32)


def evaluate_model(model: Any, spec: ModelSpec, dataset: Dataset, split: str = "test") -> dict[str, float]:
    """Score ``model`` on one split of ``dataset`` (see the module docstring)."""
    x, y = split_arrays(dataset, split)
    xq = quantized_inputs(spec, x)
    out = np.asarray(model.predict(xq, batch_size=4096, verbose=0), dtype=np.float64)
    if spec.task == "classification":
        return classification_metrics(y, out)
    return autoencoder_metrics(xq, out, y, tuple(dataset.class_names),
                               dataset.provenance.get("background_acceptance"))
