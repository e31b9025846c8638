"""Sanity of generated jets against physics, with plots; optionally a float MLP baseline.

    python benchmarks/jet_physics.py                       # the committed sample
    python benchmarks/jet_physics.py --data my_jets.npz --out runs/jet_physics --train

Writes <out>/summary.json (per-class mass peaks, feature medians, checks, and with --train
the test accuracy of a float 16-64-32-32-5 MLP, the hls4ml tagger's shape) and, when plotly
is installed, one HTML figure per feature (<out>/mass_mmdt.html, ...; plotly.js is written
once beside them so the pages open offline). Exit code 1 if a physics check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nas.datasets.jets import CLASS_NAMES, embedded_path  # noqa: E402
from nas.datasets.jets.sanity import physics_checks, physics_summary  # noqa: E402

PLOTS = {"mass_mmdt": (0, 300, 2.0), "n2_b1_mmdt": (0, 0.6, 0.01), "d2_b1_mmdt": (0, 5, 0.05),
         "c2_b1_mmdt": (0, 0.3, 0.005), "multiplicity": (0, 200, 2), "zlogz": (-5, 0, 0.05)}


def _columns(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def _plots(cols: dict[str, np.ndarray], out: Path) -> list[str]:
    try:
        import plotly.graph_objects as go
    except ImportError:
        print("plotly not installed: figures skipped (numbers are in summary.json)")
        return []
    written = []
    labels = cols["class"].astype(str)
    for name, (low, high, width) in PLOTS.items():
        fig = go.Figure()
        edges = np.arange(low, high + width, width)
        for c in CLASS_NAMES:
            counts, _ = np.histogram(cols[name][labels == c], bins=edges)
            density = counts / max(counts.sum(), 1) / width
            fig.add_trace(go.Scatter(x=0.5 * (edges[1:] + edges[:-1]), y=density, mode="lines",
                                     line_shape="hvh", name=c))
        fig.update_layout(title=f"{name} by class", xaxis_title=name, yaxis_title="normalised density",
                          template="plotly_white")
        path = out / f"{name}.html"
        fig.write_html(path, include_plotlyjs="directory")
        written.append(str(path))
    return written


def _train_float_mlp(data: Path, seed: int, max_rows: int | None) -> dict:
    """Float 64-32-32 ReLU MLP (scikit-learn) on the loader's split: the shape of the hls4ml tagger."""
    from sklearn.neural_network import MLPClassifier
    from nas.datasets.jets import load_embedded_jets
    ds = load_embedded_jets({"path": str(data), "max_rows": max_rows}, seed)
    t0 = time.time()
    clf = MLPClassifier(hidden_layer_sizes=(64, 32, 32), batch_size=512, learning_rate_init=3e-3,
                        max_iter=60, early_stopping=True, n_iter_no_change=5, random_state=seed)
    clf.fit(ds.x_train, ds.y_train)
    pred = clf.predict(ds.x_test)
    confusion = np.zeros((5, 5), dtype=int)
    np.add.at(confusion, (ds.y_test, pred), 1)
    return {"model": "float MLP 16-64-32-32-5 (scikit-learn, ReLU, Adam, early stopping)",
            "test_accuracy": float(np.mean(pred == ds.y_test)),
            "per_class_accuracy": {c: float(confusion[i, i] / confusion[i].sum()) for i, c in enumerate(CLASS_NAMES)},
            "confusion_rows_true_cols_pred": confusion.tolist(), "epochs": int(clf.n_iter_),
            "train_rows": int(len(ds.x_train)), "test_rows": int(len(ds.x_test)),
            "seconds": round(time.time() - t0, 1)}


def _train_qkeras_6bit(data: Path, seed: int, max_rows: int | None, epochs: int) -> dict:
    """The hls4ml tagger as qnas builds it: 16-64-32-32-5, 6-bit weights/biases/activations."""
    from nas.datasets.jets import load_embedded_jets
    from nas.training import TrainingConfig, train_candidate
    from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer
    ds = load_embedded_jets({"path": str(data), "max_rows": max_rows}, seed)
    w6, act6 = Quantizer.fixed(6, 0), Quantizer.fixed(6, 2, signed=False)
    layers = [DenseLayerSpec(f"dense_{i}", u, w6, w6, act6) for i, u in enumerate((64, 32, 32))]
    layers.append(DenseLayerSpec("output", 5, w6, w6, None))
    spec = ModelSpec(n_inputs=16, input_quantizer=Quantizer.fixed(10, 4), layers=tuple(layers))
    trained = train_candidate(spec, ds, TrainingConfig(epochs=epochs, batch_size=512, learning_rate=3e-3,
                                                       patience=5, seed=seed))
    return {"model": f"QKeras {spec.architecture}, 6-bit weights/biases/activations, input fixed<10,4>",
            "test_metrics": trained.metrics, "val_metrics": trained.val_metrics,
            "epochs": trained.epochs_run, "seconds": round(trained.train_seconds, 1),
            "train_rows": int(len(ds.x_train))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=embedded_path(), help="make-jets .npz file")
    parser.add_argument("--out", type=Path, default=Path("runs/jet_physics"))
    parser.add_argument("--train", action="store_true", help="also train the float MLP baseline")
    parser.add_argument("--train-qkeras", action="store_true",
                        help="also train the 6-bit QKeras 16-64-32-32-5 tagger (needs the train extra)")
    parser.add_argument("--epochs", type=int, default=30, help="epochs for --train-qkeras")
    parser.add_argument("--max-rows", type=int, default=None, help="subsample for --train/--train-qkeras")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    cols = _columns(args.data)
    summary = physics_summary(cols)
    checks = physics_checks(summary)
    summary["checks"] = [{"check": n, "passed": ok, "value": d} for n, ok, d in checks]
    summary["data"] = str(args.data)
    for name, ok, detail in checks:
        print(f"[{'ok' if ok else 'FAIL'}] {name}: {detail}")
    for c, info in summary["classes"].items():
        print(f"  {c}: n={info['n']}, mMDT mass peak {info['mass_mmdt_peak']:.0f} GeV, median "
              f"N2 {info['n2_b1_mmdt_median']:.3f}, D2 {info['d2_b1_mmdt_median']:.2f}, "
              f"multiplicity {info['multiplicity_median']:.0f}")
    if args.train:
        summary["float_mlp"] = _train_float_mlp(args.data, args.seed, args.max_rows)
        print(f"float 16-64-32-32-5 MLP test accuracy: {summary['float_mlp']['test_accuracy']:.4f}")
    if args.train_qkeras:
        summary["qkeras_6bit"] = _train_qkeras_6bit(args.data, args.seed, args.max_rows, args.epochs)
        print(f"QKeras 6-bit 16-64-32-32-5 test metrics: {summary['qkeras_6bit']['test_metrics']}")
    summary["figures"] = _plots(cols, args.out)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"wrote {args.out / 'summary.json'}" + (f" and {len(summary['figures'])} figures" if summary["figures"] else ""))
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
