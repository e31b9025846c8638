"""Build the estimator's ground truth: sample designs, generate da4ml RTL, synthesise with Yosys.

Each design is a realistic small MLP (:func:`estimators.ground_truth.sample_spec`) with
random QAT-like quantized weights regenerated from a seed, pushed through the open flow of
``hls_backend``: ``generate_rtl`` (da4ml pipelined Verilog; gives the cycle count) and
``synth_xilinx`` (Yosys LUT/FF/CARRY/DSP counts); every ``--ecp5-every``-th design also
goes through nextpnr-ecp5 for a routed Fmax. One JSON line per design is appended and
flushed as soon as it is known, so the run can be interrupted at any point and resumed
with the same command: designs already in the file are skipped, and design ``i`` is
always the same spec and weights (its RNG is seeded by ``(master seed, i)``).

Usage (niced, in the background)::

    nice -n 15 python benchmarks/make_ground_truth.py --n 300 --time-budget-s 2400
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from estimators.ground_truth import (DATA_DIR, GroundTruthRecord, append_record, read_records,  # noqa: E402
                                     sample_spec, sample_weights)
from qnas.parts import DEFAULT_PART  # noqa: E402

DEFAULT_OUT = DATA_DIR / "ground_truth_yosys_xcvu13p.jsonl"
MASTER_SEED = 20261124


def design_inputs(index: int, max_products: int, min_products: int = 0,
                  sparsity: tuple[float, float] | None = None):
    """Spec and weight seed of design ``index`` (pure function of index, sizes and master seed).

    With ``sparsity=(lo, hi)`` every layer states a share of zero weights drawn uniformly
    from that range in ``spec.metadata['sparsity']`` (the input a sparsity-aware search
    gives the estimator), and its weights are drawn with that share of zeros.
    """
    rng = np.random.default_rng([MASTER_SEED, index] if sparsity is None else [MASTER_SEED, index, 1])
    while True:
        spec = sample_spec(rng, max_products=max_products)
        if sum(n_in * layer.units for layer, n_in, _ in spec.layer_inputs()) >= min_products:
            break
    seed = int(rng.integers(0, 2**31 - 1))
    if sparsity is not None:
        from dataclasses import replace

        stated = {layer.name: round(float(rng.uniform(*sparsity)), 3) for layer in spec.layers}
        spec = replace(spec, metadata={**dict(spec.metadata), "sparsity": stated})
    return spec, seed


@functools.lru_cache(maxsize=1)
def tool_versions() -> dict[str, str]:
    from importlib.metadata import version

    from hls_backend.tools import find_yosys

    out = {"da4ml": version("da4ml"), "yosys": find_yosys().version}
    try:
        from hls_backend.tools import find_nextpnr_ecp5
        out["nextpnr-ecp5"] = find_nextpnr_ecp5().version
    except Exception:  # noqa: BLE001 - ECP5 is optional; the versions that ran are recorded
        pass
    return out


def run_one(spec, seed: int, work: Path, part: str, clock_ns: float, ecp5: bool) -> GroundTruthRecord:
    from dataclasses import replace

    from hls_backend.rtl import generate_rtl
    from hls_backend.yosys_synth import synth_xilinx

    weights = sample_weights(spec, seed)
    design = generate_rtl(spec, weights, work / "rtl", clock_ns=clock_ns)
    start = time.perf_counter()
    truth = synth_xilinx(design, part)
    seconds = time.perf_counter() - start
    extra = dict(truth.extra)
    extra.update({"da4ml_cost": design.da4ml_cost, "register_bits": design.register_bits,
                  "n_stages": design.n_stages, "latency_cutoff": design.latency_cutoff,
                  "design_latency_cycles": design.latency_cycles})
    truth = replace(truth, extra=extra)
    ecp5_result = None
    if ecp5:
        from hls_backend.nextpnr import pnr_ecp5
        t0 = time.perf_counter()
        res = pnr_ecp5(design)
        ecp5_result = {"lut": res.lut, "ff": res.ff, "fmax_mhz": res.fmax_mhz, "carry": res.carry,
                       "seconds": round(time.perf_counter() - t0, 2), "tool_version": res.tool_version}
    return GroundTruthRecord(spec=spec, seed=seed, truth=truth, synth_seconds=seconds,
                             tools=dict(tool_versions()), ecp5=ecp5_result)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="number of designs (indices 0..n-1)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--part", default=DEFAULT_PART)
    parser.add_argument("--clock-ns", type=float, default=5.0)
    parser.add_argument("--max-products", type=int, default=1200,
                        help="cap on sum of n_in*n_out per design (keeps Yosys runs to seconds)")
    parser.add_argument("--min-products", type=int, default=0,
                        help="only designs at least this big (to check extrapolation to jet-tagger sizes)")
    parser.add_argument("--ecp5-every", type=int, default=0, help="also place-and-route every k-th design on ECP5 (0 = never)")
    parser.add_argument("--ecp5-max-products", type=int, default=300)
    parser.add_argument("--time-budget-s", type=float, default=None, help="stop starting new designs after this long")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--sparsity", metavar="LO,HI", help="sparse designs: each layer states a share of zero "
                        "weights drawn from [LO, HI] in spec.metadata (e.g. 0.5,0.9)")
    args = parser.parse_args(argv)
    sparsity = None
    if args.sparsity:
        try:
            lo, hi = (float(v) for v in args.sparsity.split(","))
        except ValueError:
            parser.error(f"--sparsity must be LO,HI (two fractions); got {args.sparsity!r}")
        if not 0.0 <= lo <= hi <= 1.0:
            parser.error(f"--sparsity needs 0 <= LO <= HI <= 1; got {args.sparsity!r}")
        sparsity = (lo, hi)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    done = {r.key for r in read_records(args.out)} if args.out.exists() else set()
    failures_path = args.out.with_suffix(".failures.jsonl")
    failed = set()
    if failures_path.exists():
        failed = {json.loads(line)["key"] for line in failures_path.read_text().splitlines() if line.strip()}
    t_start = time.monotonic()
    n_new = 0
    for index in range(args.start, args.n):
        if args.time_budget_s is not None and time.monotonic() - t_start > args.time_budget_s:
            print(f"time budget reached after {n_new} new designs", flush=True)
            break
        spec, seed = design_inputs(index, args.max_products, args.min_products, sparsity)
        key = f"{spec.fingerprint()}:{seed}"
        if key in done or key in failed:
            continue
        products = sum(n_in * layer.units for layer, n_in, _ in spec.layer_inputs())
        # place-and-route is minutes per design: only a subset of the smaller designs
        ecp5 = bool(args.ecp5_every) and index % args.ecp5_every == 0 and products <= args.ecp5_max_products
        with tempfile.TemporaryDirectory(prefix="qnas_gt_") as tmp:
            try:
                record = run_one(spec, seed, Path(tmp), args.part, args.clock_ns, ecp5)
            except KeyboardInterrupt:
                print("interrupted; completed designs are saved", flush=True)
                return 130
            except Exception as exc:  # noqa: BLE001 - one broken design must not stop the dataset
                with open(failures_path, "a") as fh:
                    fh.write(json.dumps({"key": key, "index": index, "error": f"{type(exc).__name__}: {exc}"[:800]}) + "\n")
                print(f"[{index}] FAILED {spec.architecture}: {type(exc).__name__}: {str(exc)[:200]}", flush=True)
                continue
        append_record(args.out, record)
        n_new += 1
        t = record.truth
        print(f"[{index}] {spec.architecture:45s} LUT {t.lut:7.0f} FF {t.ff:6.0f} cycles {t.latency_cycles} "
              f"{record.synth_seconds:5.1f}s ({record.split})", flush=True)
    print(f"done: {n_new} new designs, {len(done) + n_new} in {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
