"""Open-flow ground truth from the trained designs of a finished run (e.g. HGQ2 checkpoints).

``benchmarks/make_ground_truth.py`` synthesizes random-weight QKeras-style designs, which
is all the estimator's calibration saw until HGQ2 became the main job's trainer. HGQ2's
designs differ in kind (per-element formats, ReLU + quantize of every unit at its own
width, most weights pruned), and the trace-tier fit, blind to them, priced the small ones
17-36 % under Yosys. This script turns trained designs into records of the same dataset
format (the weights stored in the record, since no seed draws them): da4ml RTL at the run's
clock, Yosys ``synth_xilinx``, appended one by one so an interrupted run keeps what it did.

Designs that ``benchmarks/pareto_vs_peers.py`` reports (the run's (test accuracy,
estimated LUT) front at or above the hypervolume's reference accuracy) are left out with
``--exclude-front``, so that the estimate can be checked on them as held-out designs::

    python benchmarks/make_ground_truth_trials.py runs/jet-tagging-offline --exclude-front \\
        --out estimators/data/ground_truth_yosys_xcvu13p_hgq2.jsonl
    qnas calibrate estimators/data/ground_truth_yosys_xcvu13p*.jsonl --part xcvu13p-flga2577-2-e \\
        --out estimators/data/coefficients
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="a finished run directory (or storage URL)")
    parser.add_argument("--out", type=Path, required=True, help="ground-truth .jsonl to append to")
    parser.add_argument("--part", default="xcvu13p-flga2577-2-e",
                        help="part the records are filed under (Yosys synth_xilinx maps the family, xcup)")
    parser.add_argument("--exclude-front", action="store_true",
                        help="leave out the designs pareto_vs_peers.py synthesizes (the held-out check)")
    parser.add_argument("--max-designs", type=int, default=0, help="stop after this many (0 = all)")
    args = parser.parse_args(argv)

    from estimators.ground_truth import GroundTruthRecord, read_records
    from hls_backend.rtl import generate_rtl
    from hls_backend.rtl.design import UnsupportedSpec
    from hls_backend.study_access import open_finished_study
    from hls_backend.yosys_synth import synth_xilinx
    from make_ground_truth import tool_versions
    from qnas.artifacts import TrialArtifacts
    from qnas.fronts import HV_REFERENCE, pareto_front
    from qnas.spec import ModelSpec
    from qnas.weights import ModelWeights

    found = open_finished_study(args.run)
    trials = [t for t in found.study.get_trials(deepcopy=False)
              if t.state.name == "COMPLETE" and t.user_attrs.get("artifacts")]
    excluded: set[int] = set()
    if args.exclude_front:
        rows = [{"trial": t.number, "test_accuracy": t.user_attrs.get("metrics_test", {}).get("accuracy"),
                 "lut": (t.user_attrs.get("estimate") or {}).get("lut")} for t in trials]
        excluded = {r["trial"] for r in pareto_front(rows) if r["test_accuracy"] >= HV_REFERENCE[0]}
    done = {r.key for r in read_records(args.out)} if args.out.exists() else set()
    # smallest first: they synthesize in seconds, and that is where the old fit was furthest off
    todo = sorted((t for t in trials if t.number not in excluded),
                  key=lambda t: (t.user_attrs.get("estimate") or {}).get("lut") or 0.0)
    print(f"{len(trials)} trained designs in {args.run}; {len(excluded)} held out (the reported front); "
          f"{len(todo)} to synthesize into {args.out}", flush=True)
    written = 0
    for t in todo:
        artifacts = TrialArtifacts(found.artifacts_dir(t.number))
        spec = ModelSpec.from_json(artifacts.spec.read_text())
        weights = ModelWeights.load(artifacts.weights)
        if f"{spec.fingerprint()}:{t.number}" in done:
            continue
        with tempfile.TemporaryDirectory(prefix="qnas-gt-") as tmp:
            try:
                design = generate_rtl(spec, weights, Path(tmp) / "rtl", clock_ns=found.clock_ns)
            except UnsupportedSpec as exc:  # a collapsed checkpoint (constant outputs): nothing to build
                print(f"  trial {t.number}: skipped ({exc})", flush=True)
                continue
            start = time.perf_counter()
            try:
                truth = synth_xilinx(design, args.part, work_dir=Path(tmp) / "yosys")
            except ValueError as exc:  # Yosys optimised everything away (outputs constant after all)
                print(f"  trial {t.number}: skipped (Yosys: {exc})", flush=True)
                continue
            seconds = time.perf_counter() - start
        extra = dict(truth.extra)
        extra.update({"da4ml_cost": design.da4ml_cost, "register_bits": design.register_bits,
                      "n_stages": design.n_stages, "latency_cutoff": design.latency_cutoff,
                      "design_latency_cycles": design.latency_cycles, "source": f"{found.name} trial {t.number}"})
        record = GroundTruthRecord(spec=spec, seed=t.number, truth=replace(truth, extra=extra),
                                   synth_seconds=seconds, tools=dict(tool_versions()), trained_weights=weights)
        with open(args.out, "a") as fh:
            fh.write(record.to_json() + "\n")
        written += 1
        print(f"  trial {t.number}: {spec.architecture}: Yosys {truth.lut:.0f} LUT, {truth.ff:.0f} FF "
              f"({seconds:.0f} s)", flush=True)
        if args.max_designs and written >= args.max_designs:
            break
    print(f"wrote {written} records", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
