"""HGQ2 training, run INSIDE the HGQ2 environment (Keras 3 + hgq2): never imported by qnas.

qnas cannot import HGQ2 (its wheel ships a top-level ``qkeras`` that shadows the real
QKeras, and it needs Keras 3), so :mod:`nas.hgq2.trainer` runs this file as a script in
the isolated environment (:mod:`qnas.isolated_env`) and the two sides exchange files:

    request.json   architecture, training recipe, seed (see ``REQUEST_KEYS``)
    data.npz       x_train, y_train, x_val, y_val, x_test (float32), labels as ints
    -> result.json     one entry per kept checkpoint + training summary
    -> ckpt_<n>.npz    per checkpoint: the exact quantized kernels/biases, the per-element
                       (k, i, f) formats of every layer's input quantizer, and the model's
                       own logits on the quantized val/test inputs (the bit-exact reference)

The recipe is HGQ2's jet-tagger one: QDense + ReLU layers with per-weight (kbi, SAT_SYM)
and per-activation (kif, WRAP) bit widths learned with the EBOPs penalty; beta held, then
ramped log-linearly; a Pareto front of (val accuracy, EBOPs) checkpoints is kept along the
ramp. Each kept checkpoint is calibrated with ``trace_minmax`` on the training set (the
integer bits of WRAP quantizers), as HGQ2 does before export, and then checked here against
a float64 NumPy evaluation of the extracted formats so a semantic mismatch fails loudly in
the environment, not later in RTL simulation.

Only the standard library, NumPy, Keras 3 and hgq are imported.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

PROTOCOL = 1
REQUEST_KEYS = ("protocol", "widths", "n_outputs", "seed", "epochs", "batch_size", "learning_rate",
                "beta_start", "beta_end", "beta_hold_epochs", "input_bits", "input_integer",
                "max_checkpoints", "threads")


def _log(msg: str) -> None:
    print(f"[hgq2-worker] {msg}", file=sys.stderr, flush=True)


def quantize_np(x, k, i, f):
    """HGQ2's fixed quantizer at inference, RND rounding and WRAP overflow, in float64."""
    import numpy as np
    x = np.asarray(x, dtype=np.float64)
    i = np.maximum(i, -f)
    scale = 2.0 ** f
    xq = np.floor(x * scale + 0.5) / scale
    bias = k * 2.0 ** i
    return np.mod(xq + bias, 2.0 ** (i + k)) - bias


def forward_np(inputs_kif, layers, x):
    """Float64 evaluation of the extracted network (quantize -> x@W+b -> ReLU -> ...)."""
    import numpy as np
    h = np.asarray(x, dtype=np.float64)
    for idx, layer in enumerate(layers):
        k, i, f = inputs_kif[idx]
        h = quantize_np(h, k, i, f)
        h = h @ layer["kernel"] + layer["bias"]
        if idx < len(layers) - 1:
            h = np.maximum(h, 0.0)
    return h


def _kif(quantizer, n):
    import numpy as np
    from keras import ops
    k, i, f = (np.broadcast_to(np.asarray(ops.convert_to_numpy(v), dtype=np.float64), (1, n)).reshape(n)
               for v in quantizer.kif)
    return k.astype(np.int64), i.astype(np.int64), f.astype(np.int64)


def build_model(req):
    import keras
    from hgq.config import LayerConfigScope, QuantizerConfigScope
    from hgq.layers import QDense

    n_in = req["n_inputs"]
    layers = []
    # HGQ2's jet-tagger settings: weights kbi (start 3 bits, no integer bits), symmetric
    # saturation; data kif with WRAP (trace_minmax sizes the integers), unsigned after ReLU;
    # the network input is signed (standardized features).
    with QuantizerConfigScope(place="all", k0=1, b0=3, i0=0, default_q_type="kbi", overflow_mode="SAT_SYM"), \
            QuantizerConfigScope(place="datalane", k0=0, default_q_type="kif", overflow_mode="WRAP", f0=3, i0=3), \
            LayerConfigScope(enable_ebops=True, beta0=req["beta_start"]):
        for idx, units in enumerate(list(req["widths"]) + [req["n_outputs"]]):
            last = idx == len(req["widths"])
            kwargs = {}
            if idx == 0:
                # the input precision the search chose: where the input quantizer starts
                b = req["input_bits"]
                kwargs["iq_conf"] = _input_conf(req["input_integer"], b - req["input_integer"] - 1)
            layers.append(QDense(units, activation=None if last else "relu", name=f"dense_{idx}", **kwargs))
        model = keras.Sequential([keras.Input((n_in,)), *layers])
    return model


def _input_conf(i0, f0):
    from hgq.config import QuantizerConfig
    return QuantizerConfig("kif", "datalane", k0=1, i0=int(i0), f0=int(f0), overflow_mode="WRAP")


class _KeepFront:
    """Keep (in memory) every epoch's weights that is on the (val accuracy, EBOPs) front."""

    def __init__(self):
        self.front = []  # (val_acc, ebops, epoch, weights)

    def offer(self, acc, ebops, epoch, get_weights):
        for a, e, _, _ in self.front:
            if a >= acc and e <= ebops:
                return
        self.front = [p for p in self.front if not (acc >= p[0] and ebops <= p[1])]
        self.front.append((acc, ebops, epoch, get_weights()))


def thin(front, n):
    """At most ``n`` checkpoints covering the front: farthest-point picks in (accuracy, log EBOPs).

    Both axes are scaled to [0, 1]; the most accurate and the cheapest checkpoints are always
    kept, then each pick is the one farthest from those already kept, so no stretch of the
    front is left without a design (evenly spaced targets left a 10x LUT gap on a front
    that is dense at one end).
    """
    import numpy as np
    pts = sorted(front, key=lambda p: p[1])
    if len(pts) <= n:
        return pts
    acc = np.array([p[0] for p in pts], dtype=np.float64)
    cost = np.log10(np.maximum([p[1] for p in pts], 1.0))
    xy = np.stack([(acc - acc.min()) / max(np.ptp(acc), 1e-12), (cost - cost.min()) / max(np.ptp(cost), 1e-12)], 1)
    chosen = [int(np.argmax(acc)), 0]
    dist = np.min(np.linalg.norm(xy[:, None, :] - xy[chosen][None, :, :], axis=2), axis=1)
    while len(set(chosen)) < n:
        k = int(np.argmax(dist))
        chosen.append(k)
        dist = np.minimum(dist, np.linalg.norm(xy - xy[k], axis=1))
    return [pts[j] for j in sorted(set(chosen))]


def train(req, data, out: Path):
    import keras
    import numpy as np
    from hgq.utils import trace_minmax
    from hgq.utils.sugar import BetaScheduler, Dataset, FreeEBOPs, PieceWiseSchedule

    keras.utils.set_random_seed(int(req["seed"]))
    x_tr, y_tr = data["x_train"].astype(np.float32), data["y_train"].astype(np.int64)
    x_va, y_va = data["x_val"].astype(np.float32), data["y_val"].astype(np.int64)
    x_te = data["x_test"].astype(np.float32)
    req = {**req, "n_inputs": int(x_tr.shape[1])}
    model = build_model(req)
    # XLA and HGQ2's device-resident Dataset: 0.21 CPU-s per jet epoch instead of 0.64
    # (measured side by side, 16-64-32-32-5, batch 8192); the model's outputs are still
    # checked against the NumPy evaluation below, bit for bit.
    model.compile(optimizer=keras.optimizers.Adam(req["learning_rate"]),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=bool(req.get("jit", True)),
                  steps_per_execution=4)
    batch = int(req["batch_size"])
    train_ds = Dataset(x_tr, y_tr, batch_size=batch, device="cpu:0", shuffle=True)
    val_ds = Dataset(x_va, y_va, batch_size=batch, device="cpu:0")
    epochs = int(req["epochs"])
    hold = int(req["beta_hold_epochs"])
    schedule = PieceWiseSchedule([(0, req["beta_start"], "constant"), (hold, req["beta_start"], "log"),
                                  (epochs, req["beta_end"], "constant")])
    keep = _KeepFront()

    class Keep(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            keep.offer(float(logs["val_accuracy"]), float(logs["ebops"]), epoch, self.model.get_weights)
            if epoch % 50 == 0 or epoch == epochs - 1:
                _log(f"epoch {epoch}/{epochs} val_accuracy {logs['val_accuracy']:.4f} ebops {logs['ebops']:.0f} "
                     f"front {len(keep.front)}")

    start = time.perf_counter()
    model.fit(train_ds, validation_data=val_ds, epochs=epochs, verbose=0,
              callbacks=[FreeEBOPs(), BetaScheduler(schedule), Keep()])
    train_s = time.perf_counter() - start
    kept = thin(keep.front, int(req["max_checkpoints"]))
    _log(f"trained {epochs} epochs in {train_s:.0f} s; front {len(keep.front)} checkpoints, exporting {len(kept)}")
    widths = [int(x_tr.shape[1])] + list(req["widths"]) + [int(req["n_outputs"])]
    entries = []
    for n, (acc, ebops, epoch, weights) in enumerate(kept):
        model.set_weights(weights)
        trace_minmax(model, x_tr, batch_size=8192)
        layers, kifs = [], []
        for idx, layer in enumerate(model.layers):
            kifs.append(_kif(layer.iq.quantizer, widths[idx]))
            layers.append({"kernel": np.asarray(keras.ops.convert_to_numpy(layer.qkernel), dtype=np.float64),
                           "bias": np.asarray(keras.ops.convert_to_numpy(layer.qbias), dtype=np.float64)})
        arrays = {}
        for idx, ((k, i, f), lw) in enumerate(zip(kifs, layers)):
            arrays.update({f"k_{idx}": k, f"i_{idx}": i, f"f_{idx}": f,
                           f"kernel_{idx}": lw["kernel"], f"bias_{idx}": lw["bias"]})
        check = {}
        for split, x in (("val", x_va), ("test", x_te)):
            y_model = np.asarray(model.predict(x, batch_size=8192, verbose=0), dtype=np.float64)
            y_np = forward_np(kifs, layers, x)
            check[split] = float(np.max(np.abs(y_model - y_np))) if len(x) else 0.0
            arrays[f"y_{split}"] = y_model
            arrays[f"x_{split}_q"] = quantize_np(x, *kifs[0])
        val_acc = float(np.mean(np.argmax(arrays["y_val"], axis=1) == y_va))
        name = f"ckpt_{n:03d}.npz"
        np.savez(out / name, **arrays)
        model.save(out / f"ckpt_{n:03d}.keras")
        entries.append({"file": name, "keras": f"ckpt_{n:03d}.keras", "epoch": int(epoch), "ebops": float(ebops), "val_accuracy_fit": acc,
                        "val_accuracy": val_acc, "max_abs_diff": check,
                        "beta": float(schedule(epoch))})
        _log(f"checkpoint {n}: epoch {epoch} val_accuracy {val_acc:.4f} ebops {ebops:.0f} "
             f"numpy-vs-model max diff {max(check.values()):.3g}")
    return {"protocol": PROTOCOL, "checkpoints": entries, "train_seconds": train_s, "epochs_run": epochs,
            "front_size": len(keep.front), "versions": _versions()}


def _versions():
    from importlib import metadata
    out = {}
    for dist in ("hgq2", "keras", "tensorflow", "numpy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def main(argv):
    if len(argv) != 2:
        print("usage: worker.py <job directory holding request.json and data.npz>", file=sys.stderr)
        return 2
    job = Path(argv[1])
    req = json.loads((job / "request.json").read_text())
    if req.get("protocol") != PROTOCOL:
        print(f"request protocol {req.get('protocol')!r}; this worker speaks {PROTOCOL}", file=sys.stderr)
        return 2
    missing = [k for k in REQUEST_KEYS if k not in req]
    if missing:
        print(f"request.json lacks {missing}", file=sys.stderr)
        return 2
    threads = int(req["threads"])
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf
    if threads > 0:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    with np.load(job / "data.npz") as data:
        arrays = {k: data[k] for k in data.files}
    result = train(req, arrays, job)
    tmp = job / "result.json.tmp"
    tmp.write_text(json.dumps(result, indent=1))
    tmp.rename(job / "result.json")  # written last: its presence means the job completed
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
