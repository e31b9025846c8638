"""The HGQ2 peer of benchmarks/pareto_vs_peers.py; runs INSIDE HGQ2's own environment.

HGQ2 needs Keras 3 and its wheel installs a top-level ``qkeras`` package that shadows the
real QKeras, so it cannot share the project's environment: pareto_vs_peers.py runs this
file with the Python of an isolated venv (hgq2==0.2.0, keras==3.15.1, tensorflow==2.21.0,
da4ml==0.6.0). It imports nothing from qnas; data come in and results go out as files.

    python hgq2_worker.py train   --data split.npz --out DIR [--epochs 1200 ...]
    python hgq2_worker.py convert --data split.npz --out DIR [--clock-ns 5]

``train``: the recipe of HGQ2's jet-tagger example: 16-64-32-32-5 QDense + ReLU, bit widths
learned per weight and per activation element with the EBOPs resource penalty, beta held at
``beta0`` for ``--constant-epochs`` then raised log-linearly to ``beta1`` at the last epoch,
Adam, and HGQ2's ParetoFront callback keeping a checkpoint of every epoch that is not
dominated in (validation accuracy, EBOPs). Writes DIR/checkpoints/*.keras and DIR/train.json.

``convert``: for every checkpoint: calibrate the WRAP activation quantizers with
``trace_minmax`` on the training split (what HGQ2 requires before conversion), predict the
test split with the Keras model, convert with da4ml (same solver options and pipelining as
the project's own RTL: hard_dc 2, one adder level per ns of clock), write the Verilog to
DIR/designs/<name>/ and, beside it, ``vectors.npz`` (test inputs quantized by the model's
input quantizer, the Keras outputs, labels) and ``hgq2_design.json`` (what the project needs to
simulate and synthesize it). Writes DIR/convert.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

#: What convert writes beside each design (not design.json: the project writes that one).
INFO = "hgq2_design.json"


def _cpu_s() -> float:
    self_, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return self_.ru_utime + self_.ru_stime + kids.ru_utime + kids.ru_stime


def _write_json(path: Path, data) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, path)


def build_model(widths: list[int], n_inputs: int, n_classes: int, beta0: float):
    import keras
    from hgq.config import LayerConfigScope, QuantizerConfig, QuantizerConfigScope
    from hgq.layers import QDense

    # Weights: kbi, symmetric saturation; data: kif, WRAP (trace_minmax sizes the integers
    # before conversion), unsigned after ReLU. The network input is signed (standardized
    # features), so the first layer gets a signed input quantizer.
    with (
        QuantizerConfigScope(place="all", k0=1, b0=3, i0=0, default_q_type="kbi", overflow_mode="SAT_SYM"),
        QuantizerConfigScope(place="datalane", k0=0, default_q_type="kif", overflow_mode="WRAP", f0=3, i0=3),
        LayerConfigScope(enable_ebops=True, beta0=beta0),
    ):
        layers = [keras.layers.Input((n_inputs,))]
        for i, width in enumerate(widths):
            iq = QuantizerConfig(place="datalane", k0=1) if i == 0 else None
            layers.append(QDense(width, activation="relu", iq_conf=iq) if iq else QDense(width, activation="relu"))
        layers.append(QDense(n_classes))
        return keras.Sequential(layers)


def train(args) -> int:
    import keras
    import numpy as np
    from hgq.utils.sugar import BetaScheduler, FreeEBOPs, ParetoFront, PieceWiseSchedule

    keras.utils.set_random_seed(args.seed)
    data = np.load(args.data)
    out = Path(args.out)
    ckpt = out / "checkpoints"
    ckpt.mkdir(parents=True, exist_ok=True)
    for old in ckpt.glob("*.keras"):
        old.unlink()
    widths = [int(w) for w in args.widths.split(",")]
    n_classes = int(data["y_train"].max()) + 1
    model = build_model(widths, data["x_train"].shape[1], n_classes, args.beta0)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=args.lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"],
                  steps_per_execution=8, jit_compile=True)  # XLA: the same recipe at ~1/3 of the CPU
    schedule = PieceWiseSchedule([(0, args.beta0, "constant"), (args.constant_epochs, args.beta0, "log"),
                                  (args.epochs, args.beta1, "constant")])
    pareto = ParetoFront(ckpt, ["val_accuracy", "ebops"], [1, -1],
                         fname_format="epoch={epoch}_acc={val_accuracy:.4f}_ebops={ebops}.keras",
                         enable_if=lambda logs: logs["epoch"] >= args.constant_epochs // 2)

    class Progress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch % 50 == 0 or epoch == args.epochs - 1:
                print(f"[hgq2] epoch {epoch + 1}/{args.epochs} beta {logs.get('beta', 0):.2e} "
                      f"val_acc {logs['val_accuracy']:.4f} ebops {logs['ebops']:.0f} "
                      f"kept {len(pareto.paths)}", flush=True)

    start, cpu0 = time.monotonic(), _cpu_s()
    model.fit(data["x_train"], data["y_train"], validation_data=(data["x_val"], data["y_val"]),
              epochs=args.epochs, batch_size=args.batch_size, shuffle=True, verbose=0,
              callbacks=[BetaScheduler(schedule), FreeEBOPs(), pareto, Progress()])
    import hgq
    _write_json(out / "train.json", {
        "recipe": vars(args) | {"data": None, "out": None},
        "wall_s": time.monotonic() - start, "cpu_s": _cpu_s() - cpu0,
        "checkpoints": sorted(p.name for p in ckpt.glob("*.keras")),
        "versions": {"hgq2": getattr(hgq, "__version__", "?"), "keras": keras.__version__},
    })
    print(f"[hgq2] trained in {time.monotonic() - start:.0f} s; {len(list(ckpt.glob('*.keras')))} checkpoints",
          flush=True)
    return 0


def _thin(ckpts: list[Path], limit: int) -> list[Path]:
    """At most ``limit`` checkpoints, evenly spaced in log(EBOPs) along the kept front."""
    import math

    if limit <= 0 or len(ckpts) <= limit:
        return ckpts
    ebops = [max(1, int(p.stem.rsplit("ebops=", 1)[1])) for p in ckpts]
    order = sorted(range(len(ckpts)), key=lambda i: ebops[i])
    lo, hi = math.log(ebops[order[0]]), math.log(ebops[order[-1]])
    picks: list[int] = []
    for k in range(limit):
        target = lo + (hi - lo) * k / (limit - 1)
        best = min((i for i in order if i not in picks), key=lambda i: abs(math.log(ebops[i]) - target))
        picks.append(best)
    return [ckpts[i] for i in sorted(set(picks))]


def convert(args) -> int:
    import keras
    import numpy as np
    from da4ml.codegen import RTLModel
    from da4ml.converter import trace_model
    from da4ml.trace import comb_trace, to_pipeline
    from hgq.utils import trace_minmax

    data = np.load(args.data)
    out = Path(args.out)
    designs = out / "designs"
    designs.mkdir(parents=True, exist_ok=True)
    cutoff = float(max(1, int(args.clock_ns * args.adders_per_ns)))
    done = []
    start, cpu0 = time.monotonic(), _cpu_s()
    ckpts = sorted((out / "checkpoints").glob("*.keras"), key=lambda p: int(p.name.split("_")[0].split("=")[1]))
    ckpts = _thin(ckpts, args.max_designs)
    for i, path in enumerate(ckpts):
        name = path.stem.split("_")[0].replace("=", "")  # epochNNN
        target = designs / name
        if (target / INFO).exists():
            done.append(json.loads((target / INFO).read_text()))
            continue
        t0 = time.monotonic()
        model = keras.models.load_model(path, compile=False)
        trace_minmax(model, data["x_train"], batch_size=8192)
        x_test = data["x_test"].astype(np.float32)
        y_keras = np.asarray(model.predict(x_test, batch_size=8192, verbose=0), np.float64)
        x_q = np.asarray(model.layers[0].iq(x_test), np.float64)
        acc = float(np.mean(y_keras.argmax(1) == data["y_test"]))
        inp, outp = trace_model(model, solver_options={"hard_dc": args.hard_dc})
        comb = comb_trace(inp, outp, keep_dead_inputs=True)
        dropped: list[int] = []
        try:
            pipe = to_pipeline(comb, cutoff, verbose=False)
        except AssertionError:
            # an input HGQ2 gave zero bits has an empty interval (min > max), which da4ml's
            # retiming cannot hold: give it the interval of the constant 0 (nothing reads it)
            # and put 0 in its test-vector column
            from da4ml.types import QInterval
            dropped = [j for j, q in enumerate(comb.inp_qint) if q.min > q.max]
            if not dropped:
                raise
            zero = QInterval(0.0, 0.0, 1.0)  # what da4ml gives an input no op reads
            comb = comb._replace(ops=[op._replace(qint=zero) if op.opcode == -1 and op.id0 in dropped else op
                                      for op in comb.ops])
            x_q = x_q.copy()
            x_q[:, dropped] = 0.0
            pipe = to_pipeline(comb, cutoff, verbose=False)
        work = designs / (name + ".partial")
        rtl = RTLModel(pipe, "hgq2_mlp", work, flavor="verilog", latency_cutoff=cutoff, clock_period=args.clock_ns,
                       print_latency=False)
        rtl.write({"checkpoint": path.name})
        np.savez(work / "vectors.npz", x=x_q, y_keras=y_keras, y_true=data["y_test"])
        info = {
            "name": name, "checkpoint": path.name, "test_accuracy": acc,
            "ebops": int(sum(int(np.asarray(getattr(l, "_ebops", 0))) for l in model.layers)),
            "da4ml_cost": float(comb.cost), "n_stages": len(pipe.solutions), "register_bits": int(pipe.reg_bits),
            "latency_cutoff": cutoff, "clock_ns": args.clock_ns, "top": "hgq2_mlp_wrapper",
            "verilog_files": sorted(str(p.relative_to(work)) for p in (work / "src").rglob("*.v")),
            "kernel_bits": [float(np.asarray(l.kq.bits).mean()) for l in model.layers if hasattr(l, "kq")],
            "zero_weight_fraction": float(np.mean(np.concatenate(
                [np.ravel(np.asarray(l.qkernel)) == 0 for l in model.layers if hasattr(l, "qkernel")]))),
            "convert_s": time.monotonic() - t0, "dropped_inputs": dropped,
        }
        _write_json(work / INFO, info)
        if target.exists():
            import shutil
            shutil.rmtree(target)
        work.rename(target)
        done.append(info)
        print(f"[hgq2] converted {i + 1}/{len(ckpts)} {name}: test acc {acc:.4f}, da4ml cost {comb.cost:.0f}",
              flush=True)
    _write_json(out / "convert.json", {"designs": done, "wall_s": time.monotonic() - start,
                                       "cpu_s": _cpu_s() - cpu0})
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name in ("train", "convert"):
        p = sub.add_parser(name)
        p.add_argument("--data", required=True)
        p.add_argument("--out", required=True)
    t = sub.choices["train"]
    t.add_argument("--widths", default="64,32,32")
    t.add_argument("--epochs", type=int, default=1200)
    t.add_argument("--constant-epochs", type=int, default=100)
    t.add_argument("--beta0", type=float, default=2e-6)
    t.add_argument("--beta1", type=float, default=1e-3)
    t.add_argument("--batch-size", type=int, default=8192)
    t.add_argument("--lr", type=float, default=5e-3)
    t.add_argument("--seed", type=int, default=0)
    c = sub.choices["convert"]
    c.add_argument("--clock-ns", type=float, default=5.0)
    c.add_argument("--adders-per-ns", type=float, default=1.0)
    c.add_argument("--hard-dc", type=int, default=2)
    c.add_argument("--max-designs", type=int, default=24, help="convert at most this many checkpoints (0 = all)")
    args = parser.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    return train(args) if args.cmd == "train" else convert(args)


if __name__ == "__main__":
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
