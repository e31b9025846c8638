"""Fit the estimator's closed-form surrogate of da4ml's per-layer result (no synthesis).

Samples layers of realistic networks (:func:`estimators.ground_truth.sample_spec`, larger
than the synthesis ground truth since tracing costs well under a second), gives each QAT-like
random weights, traces it alone with ``qnas.tracer.trace_network`` (the RTL
generator's own trace) and records da4ml's adder-graph cost and latency. The fitted
log-linear coefficients go to ``estimators/data/da4ml_surrogate.json``. Designs whose
ground-truth split is 'heldout' are skipped, so the accuracy benchmark's held-out designs
never shape the surrogate either.

    nice python benchmarks/fit_da4ml_surrogate.py --n 400
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from estimators._layer_stats import layer_stats  # noqa: E402
from estimators._fitting import fit_relative_nnls  # noqa: E402
from estimators._surrogate import SURROGATE_FILE, fit_surrogate  # noqa: E402
from estimators.ground_truth import sample_spec, sample_weights, split_of  # noqa: E402
from qnas.spec import ModelSpec  # noqa: E402
from qnas.weights import ModelWeights  # noqa: E402

MASTER_SEED = 4242


def trace_layer(spec: ModelSpec, weights: ModelWeights, index: int, cutoff: float) -> tuple[float, float]:
    """(cost, latency) of layer ``index`` traced alone from its own input format."""
    import da4ml.trace as da_trace

    from qnas.tracer import trace_network

    layer, n_in, q_in = spec.layer_inputs()[index]
    single = ModelSpec(n_in, q_in, (layer,), strategy="distributed_arithmetic")
    inp, out = trace_network(single, ModelWeights([weights[index]]), latency_cutoff=cutoff,
                             solver_options={"hard_dc": 2})
    comb = da_trace.comb_trace(inp, out, keep_dead_inputs=True)
    return float(comb.cost), float(max(comb.out_latency))


def network_register_bits(spec: ModelSpec, weights: ModelWeights, cutoff: float) -> float:
    """Used pipeline register bits of the whole network as the RTL generator pipelines it."""
    from estimators._da_trace import trace_features

    return trace_features(spec, weights, cutoff, 2)["used_register_bits"]


def network_register_features(stats, surrogate, cutoff: float) -> list[float]:
    """The estimator's register features, on the latency profile of the layer model being fitted."""
    from estimators.distributed import DistributedArithmeticEstimator, register_features

    depth, profile = DistributedArithmeticEstimator(trace="never")._analytic_depth(stats, 0.0, surrogate=surrogate)
    return register_features(stats, profile, depth, cutoff)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=400, help="sampled networks")
    parser.add_argument("--max-products", type=int, default=4500)
    parser.add_argument("--clock-ns", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=SURROGATE_FILE)
    args = parser.parse_args(argv)
    cutoff = max(1.0, float(int(args.clock_ns)))
    exact, expected, costs, lats = [], [], [], []
    reg_x = {"exact": [], "expected": []}
    reg_y = []
    start = time.monotonic()
    for i in range(args.n):
        rng = np.random.default_rng([MASTER_SEED, i])
        spec = sample_spec(rng, max_products=args.max_products)
        seed = int(rng.integers(0, 2**31 - 1))
        if split_of(spec.fingerprint(), seed) == "heldout":
            continue
        weights = sample_weights(spec, seed)
        st_w, st_e = layer_stats(spec, weights), layer_stats(spec, None)
        for index in range(len(spec.layers)):
            if st_w[index].digits == 0:
                continue  # an all-zero kernel: nothing to trace
            cost, lat = trace_layer(spec, weights, index, cutoff)
            exact.append(st_w[index])
            expected.append(st_e[index])
            costs.append(cost)
            lats.append(lat)
        if i % 2 == 0 and all(s.digits > 0 for s in st_w):
            reg_y.append(network_register_bits(spec, weights, cutoff))
            for kind, st in (("exact", st_w), ("expected", st_e)):
                reg_x[kind].append(st)
    coef = fit_surrogate(exact, expected, costs, lats)
    # the register model needs the layer model's latencies: fit it second
    tmp = {"coef": coef}
    for kind in ("exact", "expected"):
        X = [network_register_features(st, tmp, cutoff) for st in reg_x[kind]]
        coef[f"registers_{kind}"] = fit_relative_nnls(np.array(X), reg_y).tolist()
    out = {"coef": coef, "n_layers": len(costs), "n_register_networks": len(reg_y), "da4ml": version("da4ml"), "hard_dc": 2,
           "latency_cutoff": cutoff, "master_seed": MASTER_SEED, "n_networks": args.n,
           "max_products": args.max_products}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print(f"fitted on {len(costs)} layers in {time.monotonic() - start:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
