"""Export speed: a 16-64-32-32-5 jet tagger through `qnas export`, before and after, side by side.

The issue it answers: exporting an imported 30k-LUT tagger took 586 s, the RTL simulation
alone 391 s. This benchmark exports the same imported model twice in one run:

* ``baseline``: the build settings of before — hls4ml's own ``-O3`` for the C-simulation
  library, Verilator's default ``-Os`` and one make job for the testbench, every step one
  after the other (``jobs=1``);
* ``previous``: the first round of savings — C simulation at ``-O0`` compiled beside the RTL
  steps as one translation unit, the testbench at ``-O0`` with parallel make jobs;
* ``qnas``: today's defaults on a cold library cache — as ``previous``, with the generated
  layers compiled in parallel translation units (``hls_backend.csim.split_translation_units``);
* ``qnas_warm``: the same export again: the C-simulation library comes from the cache keyed
  by the hash of its sources (``hls_backend.csim.library_key``), as for any re-export of a
  design (``--force``, another clock); everything else runs as before.

The cache lives in a temporary directory of this run, so ``qnas`` is a true first export.
Every export must be bit-exact (C simulation and RTL against the model on every vector);
the benchmark fails otherwise. It prints wall and CPU seconds (this process and its
children: g++, Verilator, make) per export and their ratios to ``baseline``; CPU seconds
are the figure to trust on a shared machine, where wall time depends on the other load.

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
    "baseline": {"jobs": 1, "build_options": {"csim_opt_level": "-O3", "testbench_opt_flags": (),
                                              "csim_jobs": 1, "csim_cache": False}},
    "previous": {"jobs": None, "build_options": {"csim_jobs": 1, "csim_cache": False}},
    "qnas": {"jobs": None, "build_options": None},
    "qnas_warm": {"jobs": None, "build_options": None},
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
            "csim_build": res.csim.get("build", {}),
            "csim_bitexact_rate": res.csim["bitexact_rate"], "rtl_row_exact_rate": res.rtl_sim["row_exact_rate"],
            "vectors": res.rtl_sim["vectors_checked"], "latency_cycles": res.rtl_sim["design_latency_cycles"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a folder written by `qnas import` (default: the tagger)")
    parser.add_argument("--vectors", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--profiles", nargs="+", choices=list(PROFILES), default=list(PROFILES),
                        help="which exports to run (default: all, in this order)")
    args = parser.parse_args(argv)
    results, loads = {}, {}
    with tempfile.TemporaryDirectory(prefix="qnas_export_speed_") as tmp:
        tmp = Path(tmp)
        os.environ["QNAS_CSIM_CACHE"] = str(tmp / "csim_cache")  # this run's own: "qnas" is a cold export
        model = args.model or write_tagger(tmp)
        for name in args.profiles:
            loads[name] = {"before": os.getloadavg()[0]}
            results[name] = export_once(model, tmp / "firmware", name, args.vectors)
            loads[name]["after"] = os.getloadavg()[0]
            results[name]["load_average_1min"] = loads[name]
            print(f"  [{name}] wall {results[name]['wall_s']:.1f} s, cpu {results[name]['cpu_s']:.1f} s", flush=True)
            if args.json:  # after every export: a long run that is stopped keeps what it measured
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps({"partial": True, "profiles": results}, indent=2, sort_keys=True))
    new = results.get("qnas") or next(iter(results.values()))
    base = results.get("baseline")
    summary = {"model": str(args.model or "published-style 16-64-32-32-5 6-bit tagger (seed 1)"),
               "lut_estimate": new["lut_estimate"], "profiles": results,
               "load_average_1min": os.getloadavg()[0], "cpus": os.cpu_count()}
    if base is not None:
        summary["wall_speedup"] = {n: base["wall_s"] / r["wall_s"] for n, r in results.items()}
        summary["cpu_speedup"] = {n: base["cpu_s"] / r["cpu_s"] for n, r in results.items()}
    print(f"\nexport of {summary['model']} (~{new['lut_estimate']:,.0f} LUT, {new['vectors']} vectors, "
          f"all bit-exact):")
    for name, r in results.items():
        steps = ", ".join(f"{k} {v:.0f}" for k, v in r["steps_wall_s"].items())
        ratio = (f"  [vs baseline: wall {summary['wall_speedup'][name]:.2f}x, cpu {summary['cpu_speedup'][name]:.2f}x]"
                 if base is not None else "")
        print(f"  {name:9s} wall {r['wall_s']:7.1f} s  cpu {r['cpu_s']:7.1f} s   ({steps}; load "
              f"{r['load_average_1min']['before']:.1f}->{r['load_average_1min']['after']:.1f}){ratio}")
    print(f"  (load average {summary['load_average_1min']:.1f} on {summary['cpus']} cores at the end)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
