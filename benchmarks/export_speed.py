"""Export speed: a 16-64-32-32-5 jet tagger through `qnas export`, before and after, side by side.

The issue it answers: exporting an imported 30k-LUT tagger took 586 s, the RTL simulation
alone 391 s. This benchmark exports the same imported model twice in one run:

* ``baseline``: the build settings of before — hls4ml's own ``-O3`` for the C-simulation
  library, Verilator's default ``-Os`` and one make job for the testbench, every step one
  after the other (``jobs=1``);
* ``qnas``: today's defaults — C simulation at ``-O0`` compiled beside the RTL steps, the
  testbench at ``-O0`` with parallel make jobs.

Both exports must be bit-exact (C simulation and RTL against the model on every vector);
the benchmark fails otherwise. It prints wall and CPU seconds (this process and its
children: g++, Verilator, make) per export and their ratios; CPU seconds are the figure to
trust on a shared machine, where wall time depends on the other load.

Usage::

    python benchmarks/export_speed.py [--model IMPORTED_DIR] [--vectors N] [--json PATH]

Without ``--model`` it writes the published-style QKeras tagger (``quantized_bits(6,0,alpha=1)``
weights and biases, ``quantized_relu(6,0)``, random weights of a fixed seed) and imports it
with ``--input-precision ap_fixed<16,6>``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROFILES = {
    "baseline": {"jobs": 1, "build_options": {"csim_opt_level": "-O3", "testbench_opt_flags": ()}},
    "qnas": {"jobs": None, "build_options": None},
}


def _cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def write_tagger(folder: Path, seed: int = 1) -> Path:
    """The published-style tagger as JSON + HDF5 weights, imported into ``folder``."""
    import numpy as np

    from nas.importing import import_model
    from qnas import _imports

    keras, qk = _imports.tf_keras(), _imports.qkeras()
    q = lambda: qk.quantized_bits(6, 0, alpha=1)  # noqa: E731
    inp = keras.Input((16,), name="input_1")
    x = inp
    for i, units in enumerate((64, 32, 32)):
        x = qk.QDense(units, kernel_quantizer=q(), bias_quantizer=q(), name=f"fc{i + 1}")(x)
        x = qk.QActivation("quantized_relu(6,0)", name=f"relu{i + 1}")(x)
    x = qk.QDense(5, kernel_quantizer=q(), bias_quantizer=q(), name="output")(x)
    model = keras.Model(inp, keras.layers.Activation("softmax", name="softmax")(x))
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in model.get_weights()])
    src = folder / "src"
    src.mkdir(parents=True)
    (src / "tagger.json").write_text(model.to_json())
    model.save_weights(str(src / "tagger_weights.h5"))
    out = folder / "imported" / "tagger"
    import_model(src / "tagger.json", out, weights_path=src / "tagger_weights.h5",
                 input_precision="ap_fixed<16,6>", echo=lambda s: print(f"  {s}"))
    return out


def export_once(model: Path, out: Path, profile: str, n_vectors: int) -> dict:
    from hls_backend.bundle import export_trial
    from qnas.artifacts import TrialArtifacts

    record = json.loads((model / "import.json").read_text())
    settings = PROFILES[profile]
    cpu0, wall0 = _cpu_seconds(), time.perf_counter()
    res = export_trial(TrialArtifacts(model), out, 0, part=record["part"], clock_ns=record["clock_ns"],
                       n_vectors=n_vectors, name=f"tagger_{profile}", jobs=settings["jobs"],
                       build_options=settings["build_options"], echo=lambda s: print(f"  [{profile}] {s.strip()}"))
    wall, cpu = time.perf_counter() - wall0, _cpu_seconds() - cpu0
    if not res.ok:
        raise SystemExit(f"{profile} export failed: {res.error}")
    if res.csim.get("bitexact_rate") != 1.0 or res.rtl_sim.get("row_exact_rate") != 1.0:
        raise SystemExit(f"{profile} export is not bit-exact: csim {res.csim}, rtl {res.rtl_sim}")
    return {"wall_s": wall, "cpu_s": cpu, "steps_wall_s": res.seconds, "lut_estimate": res.estimate_open["lut"],
            "csim_bitexact_rate": res.csim["bitexact_rate"], "rtl_row_exact_rate": res.rtl_sim["row_exact_rate"],
            "vectors": res.rtl_sim["vectors_checked"], "latency_cycles": res.rtl_sim["design_latency_cycles"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a folder written by `qnas import` (default: the tagger)")
    parser.add_argument("--vectors", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qnas_export_speed_") as tmp:
        tmp = Path(tmp)
        model = args.model or write_tagger(tmp)
        results = {name: export_once(model, tmp / "firmware", name, args.vectors) for name in PROFILES}
    base, new = results["baseline"], results["qnas"]
    summary = {"model": str(args.model or "published-style 16-64-32-32-5 6-bit tagger (seed 1)"),
               "lut_estimate": new["lut_estimate"], "profiles": results,
               "wall_speedup": base["wall_s"] / new["wall_s"], "cpu_speedup": base["cpu_s"] / new["cpu_s"],
               "load_average_1min": os.getloadavg()[0], "cpus": os.cpu_count()}
    print(f"\nexport of {summary['model']} (~{new['lut_estimate']:,.0f} LUT, {new['vectors']} vectors, "
          f"both bit-exact):")
    for name, r in results.items():
        steps = ", ".join(f"{k} {v:.0f}" for k, v in r["steps_wall_s"].items())
        print(f"  {name:9s} wall {r['wall_s']:7.1f} s  cpu {r['cpu_s']:7.1f} s   ({steps})")
    print(f"  speed-up: wall {summary['wall_speedup']:.2f}x, cpu {summary['cpu_speedup']:.2f}x "
          f"(load average {summary['load_average_1min']:.1f} on {summary['cpus']} cores)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
