"""Ablation of the QKeras-side levers of the search, measured side by side on the jets.

Two protocols, both on the embedded jets with the project's split
(``load_dataset('jets', {'test_fraction': 0.2, 'val_fraction': 0.2}, seed=0)``), LUTs from
``estimators.estimate(spec, weights)`` with the trained weights (trace tier):

* ``fixed``: a few fixed small architectures trained with and without each lever (test
  accuracy, LUT, share of zero weights);
* ``search``: short studies of the same size, one per lever setting, all in this run;
  each row reports the smallest LUT at test accuracy >= 0.66/0.68/0.69/0.70/0.71 and the
  best test accuracy of its designs, and the ratio of that LUT to the baseline row's.

Rows (``--rows``): ``baseline`` (the main job's space today), ``wide`` (input bits below 8,
activation bits down to 3, widths from 4), ``wide+sparsity``, ``wide+penalty``,
``wide+sparsity+penalty`` and ``wide+all`` (those plus multi-fidelity promotion). Rows can
run as separate processes (``--rows wide --no-summary``) and be summarised together later
(``--summarize``): each study keeps its results in ``<out>/<row>/results.csv``.

Usage::

    python benchmarks/ablation_levers.py --protocol fixed --json benchmarks/results/ablation_fixed.json
    python benchmarks/ablation_levers.py --protocol search --rows baseline,wide --trials 24 --out runs/ablation
    python benchmarks/ablation_levers.py --summarize --out runs/ablation \\
        --json benchmarks/results/ablation_qkeras_levers.json

Fractions are fractions, times in the unit their key names.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ACCURACY_THRESHOLDS = (0.66, 0.68, 0.69, 0.70, 0.71)
SPLIT = {"test_fraction": 0.2, "val_fraction": 0.2}

#: the QKeras jet study's space (studies/jet_tagging_qkeras.yaml), the baseline row
BASE_SPACE: dict[str, Any] = {
    "family": "mlp", "depth": [1, 2, 3], "width": [8, 16, 32, 64],
    "weight_bits": [8, 6, 4, "ternary", "binary"], "weight_integer": [0],
    "bias_bits": [8], "bias_integer": [3], "activation_bits": [6, 8], "activation_integer": [2],
    "input_bits": [8, 10], "input_integer": [3], "strategy": ["distributed_arithmetic"],
    "output": {"weight_bits": [8, 6]},
}
#: lever 4: a wider space (input bits below 8, activation bits down to 3, widths from 4)
WIDE = {"width": [4, 8, 16, 32, 64], "weight_bits": [6, 4, 3, "ternary", "binary"],
        "activation_bits": [3, 4, 6, 8], "activation_integer": [1, 2],
        "input_bits": [5, 6, 8], "input_integer": [2, 3], "output": {"weight_bits": [8, 6, 4]}}
#: lever 1: per-layer target sparsity
SPARSITY = {"sparsity": [0, 0.5, 0.75, 0.9]}
#: lever 2: weight of the hardware-cost term in the loss
PENALTY = {"cost_penalty": [0, 1e-4, 3e-4, 1e-3]}

ROWS: dict[str, dict[str, Any]] = {
    "baseline": {"space": {}, "training": {}},
    "wide": {"space": WIDE, "training": {}},
    "wide+sparsity": {"space": {**WIDE, **SPARSITY}, "training": {}},
    "wide+penalty": {"space": {**WIDE, **PENALTY}, "training": {}},
    "wide+sparsity+penalty": {"space": {**WIDE, **SPARSITY, **PENALTY}, "training": {}},
    "wide+all": {"space": {**WIDE, **SPARSITY, **PENALTY}, "training": {"promote": True}},
}


def study_dict(row: str, n_trials: int, epochs: int, seed: int) -> dict[str, Any]:
    lever = ROWS[row]
    training: dict[str, Any] = {"epochs": epochs, "batch_size": 512, "learning_rate": 0.003,
                                "patience": 3}
    if lever["training"].get("promote"):
        # short training for every candidate; three times as long for those near the front
        training.update(epochs=max(2, epochs // 2), promote_epochs=epochs * 3 // 2, promote_margin=0.005)
    return {
        "name": f"ablation-{row.replace('+', '-')}", "dataset": {"name": "jets", "options": SPLIT},
        "seed": seed, "n_trials": n_trials, "search_space": {**BASE_SPACE, **lever["space"]},
        "training": training, "objectives": ["accuracy", "lut"],
        "budget": {"part": "xcvu9p", "clock_ns": 5.0, "max_lut": 0.05, "max_latency_ns": 150},
        "sampler": {"name": "tpe", "n_startup_trials": max(4, n_trials // 3)},
        "max_consecutive_rejections": 30,
    }


def front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """(test accuracy, LUT) points not beaten in both, by rising LUT."""
    out: list[tuple[float, float]] = []
    for acc, lut in sorted(points, key=lambda p: (p[1], -p[0])):
        if not out or acc > out[-1][0]:
            out.append((acc, lut))
    return out


def front_summary(points: list[tuple[float, float]]) -> dict[str, Any]:
    pts = front(points)
    min_lut = {f"{t:.2f}": (min((lut for acc, lut in pts if acc >= t), default=None)) for t in ACCURACY_THRESHOLDS}
    return {"min_lut_at_accuracy": {k: (None if v is None else round(v)) for k, v in min_lut.items()},
            "max_test_accuracy": max((a for a, _ in pts), default=None),
            "min_lut": round(min((l for _, l in pts), default=math.nan)) if pts else None,
            "front": [{"test_accuracy": a, "lut": round(l)} for a, l in pts]}


def run_search(row: str, n_trials: int, epochs: int, seed: int, out: Path) -> None:
    from nas.config import StudyConfig
    from nas.study import run_study
    config = StudyConfig.from_dict(study_dict(row, n_trials, epochs, seed))
    start = time.perf_counter()
    run_study(config, out=out / row, progress=False, echo=lambda s: None)
    (out / row / "ablation_wall_s.txt").write_text(f"{time.perf_counter() - start:.1f}\n")


def _ratios(rows: list[dict[str, Any]], base_name: str) -> None:
    """Each row's min LUT at each accuracy over the base row's, and its accuracy gain."""
    base = next((r for r in rows if r["lever"] == base_name), None)
    for r in rows:
        r["lut_ratio_vs_baseline"] = {
            k: (None if base is None or v is None or base["min_lut_at_accuracy"][k] is None
                else round(v / base["min_lut_at_accuracy"][k], 3))
            for k, v in r["min_lut_at_accuracy"].items()}
        r["max_accuracy_gain_vs_baseline"] = (
            None if base is None or r["max_test_accuracy"] is None or base["max_test_accuracy"] is None
            else round(r["max_test_accuracy"] - base["max_test_accuracy"], 5))


def summarize_fixed(fixed_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per lever: the front of its designs over all fixed architectures."""
    rows = []
    for label, _sparsity, _penalty in FIXED_VARIANTS:
        designs = [r for r in fixed_rows if r["lever"] == label]
        if not designs:
            continue
        summary = front_summary([(r["test_accuracy"], r["lut"]) for r in designs])
        rows.append({"lever": label, "protocol": "fixed architectures",
                     "architectures": sorted({r["architecture"] for r in designs}), **summary})
    _ratios(rows, "baseline")
    return rows


def summarize_search(out: Path) -> list[dict[str, Any]]:
    import pandas as pd
    rows = []
    for row in ROWS:
        csv = out / row / "results.csv"
        if not csv.exists():
            continue
        table = pd.read_csv(csv)
        done = table[table["state"] == "COMPLETE"].dropna(subset=["test_accuracy", "est_lut"])
        wall = out / row / "ablation_wall_s.txt"
        summary = front_summary(list(zip(done["test_accuracy"], done["est_lut"])))
        rows.append({"lever": row, "trials": int(len(table)), "trained": int(done["weights_from"].isna().sum()),
                     "promoted": int(table["promoted"].fillna(False).astype(bool).sum()) if "promoted" in table else 0,
                     "wall_s": float(wall.read_text()) if wall.exists() else None, **summary})
    _ratios(rows, "baseline")
    return rows


# -- fixed architectures --------------------------------------------------------------------

FIXED_ARCHS = (
    {"name": "16-16-5 w4 a4 in6", "widths": (16,), "wbits": 4, "abits": 4, "ibits": 6},
    {"name": "16-32-5 w4 a4 in6", "widths": (32,), "wbits": 4, "abits": 4, "ibits": 6},
    {"name": "16-64-32-32-5 w4 a4 in6", "widths": (64, 32, 32), "wbits": 4, "abits": 4, "ibits": 6},
)
FIXED_VARIANTS = (
    ("baseline", 0.0, 0.0), ("sparsity 0.75", 0.75, 0.0), ("penalty 1e-4", 0.0, 1e-4),
    ("penalty 3e-4", 0.0, 3e-4), ("sparsity 0.75 + penalty 1e-4", 0.75, 1e-4),
)


def fixed_spec(arch: dict, sparsity: float, penalty: float):
    from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer
    act = Quantizer.fixed(arch["abits"], 2, signed=False)
    bias = Quantizer.fixed(8, 3)
    layers = [DenseLayerSpec(f"dense_{i}", w, Quantizer.fixed(arch["wbits"], 0), bias, act, sparsity=sparsity)
              for i, w in enumerate(arch["widths"])]
    layers.append(DenseLayerSpec("output", 5, Quantizer.fixed(6, 0), bias, None, sparsity=sparsity))
    metadata = {"training": {"cost_penalty": penalty}} if penalty else {}
    return ModelSpec(16, Quantizer.fixed(arch["ibits"], 2), tuple(layers), strategy="distributed_arithmetic",
                     metadata=metadata)


def run_fixed(epochs: int, seed: int, archs: list[str] | None) -> list[dict[str, Any]]:
    import numpy as np

    from estimators import estimate
    from nas.datasets import load_dataset
    from nas.training import TrainingConfig, train_candidate
    dataset = load_dataset("jets", SPLIT, seed)
    config = TrainingConfig(epochs=epochs, batch_size=512, learning_rate=0.003, patience=4, seed=seed)
    rows = []
    for arch in FIXED_ARCHS:
        if archs and arch["name"] not in archs:
            continue
        base_lut = None
        for label, sparsity, penalty in FIXED_VARIANTS:
            spec = fixed_spec(arch, sparsity, penalty)
            start = time.perf_counter()
            trained = train_candidate(spec, dataset, config)
            est = estimate(spec, trained.weights, part="xcvu9p", clock_ns=5.0)
            zeros = float(np.mean(np.concatenate([(lw.kernel == 0).ravel() for lw in trained.weights])))
            base_lut = est.lut if label == "baseline" else base_lut
            row = {"architecture": arch["name"], "lever": label, "test_accuracy": trained.metrics["accuracy"],
                   "lut": round(est.lut), "lut_ratio_vs_baseline": round(est.lut / base_lut, 3) if base_lut else None,
                   "zero_weight_fraction": round(zeros, 4), "epochs_run": trained.epochs_run,
                   "train_s": round(time.perf_counter() - start, 1)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def run_confirm(epochs: int, seed: int, archs: list[str] | None, variants: list[str], out: Path
                ) -> list[dict[str, Any]]:
    """Train the named fixed designs again (training is seeded and deterministic) and put
    them through the open flow: da4ml RTL, Verilator against QKeras, Yosys ``synth_xilinx``."""
    from estimators import estimate
    from hls_backend.open_flow import run_open_flow
    from nas.datasets import load_dataset
    from nas.metrics import quantized_inputs
    from nas.training import TrainingConfig, train_candidate
    dataset = load_dataset("jets", SPLIT, seed)
    config = TrainingConfig(epochs=epochs, batch_size=512, learning_rate=0.003, patience=4, seed=seed)
    rows = []
    for arch in FIXED_ARCHS:
        if archs and arch["name"] not in archs:
            continue
        for label, sparsity, penalty in FIXED_VARIANTS:
            if label not in variants:
                continue
            spec = fixed_spec(arch, sparsity, penalty)
            trained = train_candidate(spec, dataset, config)
            est = estimate(spec, trained.weights, part="xcvu9p", clock_ns=5.0)
            x = quantized_inputs(spec, dataset.x_test[:2000]).astype("float32")
            flow = run_open_flow(spec, trained.weights, out / f"{arch['name']}-{label}".replace(" ", "_"),
                                 part="xcvu9p", clock_ns=5.0, x_test=x,
                                 reference=trained.model.predict(x, verbose=0), ecp5=False, progress=False)
            yosys_lut = flow.xilinx.lut if flow.xilinx is not None else None
            row = {"architecture": arch["name"], "lever": label, "test_accuracy": trained.metrics["accuracy"],
                   "lut_estimate": round(est.lut), "lut_yosys": yosys_lut,
                   "estimate_error": None if not yosys_lut else round(est.lut / yosys_lut - 1, 4),
                   "rtl_bitexact_rate": flow.rtl_bitexact_rate, "latency_cycles": flow.design.latency_cycles}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--protocol", choices=("fixed", "search", "confirm"), default="search")
    parser.add_argument("--variants", default="penalty 3e-4", help="confirm protocol: fixed variants to synthesize")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"search rows, of {', '.join(ROWS)}")
    parser.add_argument("--archs", default=None, help="fixed protocol: architecture names, comma-separated")
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "ablation")
    parser.add_argument("--summarize", action="store_true", help="only summarise the studies in --out")
    parser.add_argument("--no-summary", action="store_true")
    parser.add_argument("--fixed-json", type=Path, default=None,
                        help="with --summarize: include these fixed-protocol rows")
    parser.add_argument("--confirm-json", type=Path, default=None,
                        help="with --summarize: include these open-flow confirmations")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.protocol == "confirm":
        rows = run_confirm(args.epochs, args.seed, args.archs.split(",") if args.archs else None,
                           args.variants.split(","), args.out / "confirm")
        if args.json:
            args.json.write_text(json.dumps({"protocol": "confirm", "epochs": args.epochs, "rows": rows}, indent=2) + "\n")
        return 0
    if args.protocol == "fixed" and not args.summarize:
        rows = run_fixed(args.epochs, args.seed, args.archs.split(",") if args.archs else None)
        if args.json:
            args.json.write_text(json.dumps({"protocol": "fixed", "epochs": args.epochs, "rows": rows}, indent=2) + "\n")
        return 0
    if not args.summarize:
        for row in args.rows.split(","):
            if row not in ROWS:
                parser.error(f"unknown row {row!r}; choose from {', '.join(ROWS)}")
            run_search(row, args.trials, args.epochs, args.seed, args.out)
    if args.no_summary:
        return 0
    rows = summarize_search(args.out)
    fixed = json.loads(args.fixed_json.read_text()) if args.fixed_json and args.fixed_json.exists() else None
    lever_rows = summarize_fixed(fixed["rows"]) if fixed else []
    for r in lever_rows + rows:
        print(f"{r['lever']:<30} {r.get('protocol', 'search')}  max acc {r['max_test_accuracy']}  min LUT@acc "
              f"{r['min_lut_at_accuracy']}  ratio vs baseline {r['lut_ratio_vs_baseline']}")
    if args.json:
        result = {"dataset": "jets", "split": SPLIT, "lut_source": "estimators.estimate(spec, trained weights)",
                  "accuracy": "test", "rows": lever_rows,
                  "search_rows": rows, "search_trials_per_row": args.trials if rows else None}
        measured = {r["lever"] for r in rows}
        result["levers_not_measured"] = [
            f"{name}: only the search protocol measures it, and its row was not run"
            for name, row in (("wider space (lever 4)", "wide"), ("multi-fidelity promotion (lever 3)", "wide+all"))
            if row not in measured]
        if fixed:
            result["fixed_epochs"] = fixed["epochs"]
            result["fixed_architectures"] = fixed["rows"]
        if args.confirm_json and args.confirm_json.exists():
            result["open_flow_confirmation"] = json.loads(args.confirm_json.read_text())["rows"]
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
