"""conifer BDTs as a reference front for benchmarks/pareto_vs_peers.py.

sklearn gradient boosting (a few rounds of shallow trees, the boosted decision trees the L1
trigger deploys) -> conifer 1.11's VHDL backend at ``ap_fixed<12,5>`` -> Debian's GHDL
``--synth --out=verilog`` -> a thin Verilog wrapper with the project's port names -> the
same Yosys ``synth_xilinx`` and Verilator testbench as every network. Exactness is checked
against conifer's own hardware emulation (its GHDL simulation of the VHDL) on all test jets.

conifer's wheel lacks the ``ap_fixed`` headers its fixed-point converter compiles against;
hls4ml ships them, and conifer reads ``XILINX_AP_INCLUDE``.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import math
import os
import resource
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

#: (boosting rounds, tree depth): 2-20 rounds of depth 2-4; one warm-started fit per depth.
BDT_GRID: tuple[tuple[int, int], ...] = (
    (2, 2), (5, 2), (10, 2), (20, 2),
    (2, 3), (3, 3), (5, 3), (10, 3), (20, 3),
    (3, 4), (5, 4), (10, 4), (20, 4),
)
PRECISION = "ap_fixed<12,5>"
BITS, FRACTIONAL = 12, 7
LEARNING_RATE = 0.3

_FIT_CACHE: dict[int, Any] = {}


def _cpu_s() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _ap_headers() -> None:
    if os.environ.get("XILINX_AP_INCLUDE"):
        return
    spec = importlib.util.find_spec("hls4ml")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("conifer needs ap_fixed headers: install hls4ml (qnas[hls]) or set XILINX_AP_INCLUDE")
    os.environ["XILINX_AP_INCLUDE"] = str(Path(list(spec.submodule_search_locations)[0]) / "templates" / "vivado"
                                          / "ap_types")


def _staged_fits(depth: int, rounds: int, data) -> tuple[Any, float, float]:
    """The gradient boosting of ``depth`` after ``rounds`` rounds (warm start: later rounds reuse earlier)."""
    from sklearn.ensemble import GradientBoostingClassifier

    t, c = time.monotonic(), _cpu_s()
    clf = _FIT_CACHE.get(depth)
    if clf is None or clf.n_estimators > rounds:
        clf = GradientBoostingClassifier(n_estimators=rounds, max_depth=depth, learning_rate=LEARNING_RATE,
                                         random_state=0, warm_start=True)
    clf.set_params(n_estimators=rounds)
    clf.fit(data.x_train, data.y_train)
    _FIT_CACHE[depth] = clf
    return copy.deepcopy(clf), time.monotonic() - t, _cpu_s() - c


def _wrapper(n_in: int, n_out: int) -> str:
    """model_inp/model_out (element 0 in the low bits) around GHDL's BDTTop (element 0 in the high bits)."""
    w = BITS
    ins = "\n".join(f"  assign X[{(n_in - 1 - i) * w + w - 1}:{(n_in - 1 - i) * w}] = model_inp[{i * w + w - 1}:{i * w}];"
                    for i in range(n_in))
    outs = "\n".join(f"  assign model_out[{j * w + w - 1}:{j * w}] = Y[{(n_out - 1 - j) * w + w - 1}:{(n_out - 1 - j) * w}];"
                     for j in range(n_out))
    return (f"module bdt_wrapper(input clk, input [{n_in * w - 1}:0] model_inp, output [{n_out * w - 1}:0] model_out);\n"
            f"  wire [{n_in * w - 1}:0] X;\n  wire [{n_out * w - 1}:0] Y;\n{ins}\n{outs}\n"
            "  BDTTop core(.clk(clk), .X(X), .X_vld(1'b1), .y(Y), .y_vld());\nendmodule\n")


def evaluate_bdt(rounds: int, depth: int, data, part: str, clock_ns: float, work: Path, fresh: bool) -> dict[str, Any]:
    """Train (cached), write with conifer, emulate, GHDL-synthesize, simulate and Yosys one BDT."""
    from hls_backend.rtl.design import PortFormat, RTLDesign
    from hls_backend.verilator_sim import simulate_design
    from hls_backend.yosys_synth import synth_xilinx
    from qnas._io import write_json_atomic

    recipe = {"rounds": rounds, "depth": depth, "lr": LEARNING_RATE, "precision": PRECISION, "seed": 0,
              "dataset": "jets 0.2/0.2 seed 0", "conifer": "1.11"}
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]
    directory = work / "bdt" / f"bdt-{rounds}x{depth}-{key}"
    result_file = directory / "result.json"
    if result_file.exists() and not fresh:
        return json.loads(result_file.read_text())
    _ap_headers()
    import conifer

    directory.mkdir(parents=True, exist_ok=True)
    clf, train_wall, train_cpu = _staged_fits(depth, rounds, data)
    t, c = time.monotonic(), _cpu_s()
    prj = directory / "conifer"
    cfg = {"Backend": "vhdl", "ProjectName": "bdt", "OutputDir": str(prj), "Precision": PRECISION,
           "XilinxPart": part}
    cwd = os.getcwd()
    os.chdir(directory)  # conifer compiles its converter in the working directory
    try:
        model = conifer.converters.convert_from_sklearn(clf, cfg)
        model.compile()
        x_int = np.array([model._fp_converter.to_int(v) for v in data.x_test.ravel()]).reshape(data.x_test.shape)
        x_q = x_int.astype(np.float64) * 2.0 ** -FRACTIONAL
        emulated = np.asarray(model.decision_function(x_q), np.float64)
    finally:
        os.chdir(cwd)
    fw = prj / "firmware"
    n_classes = emulated.shape[1]
    order = ["Constants", "Split", "Types", "Tree", "AddReduce", *[f"Arrays{i}" for i in range(n_classes)],
             "BDT", "BDTTop"]
    rtl = directory / "rtl"
    (rtl / "src").mkdir(parents=True, exist_ok=True)
    with open(rtl / "src" / "bdt.v", "w") as out:
        subprocess.run(["ghdl", "--synth", "--std=08", "--out=verilog", *[str(fw / f"{n}.vhd") for n in order],
                        "-e", "BDTTop"], stdout=out, stderr=subprocess.PIPE, check=True, cwd=rtl)
    (rtl / "src" / "bdt_wrapper.v").write_text(_wrapper(data.x_test.shape[1], n_classes))
    n_trees = rounds * (n_classes if n_classes > 2 else 1)
    design = RTLDesign(
        top="bdt_wrapper", out_dir=str(rtl), verilog_files=("src/bdt.v", "src/bdt_wrapper.v"),
        latency_cycles=1 + depth + math.ceil(math.log2(max(rounds, 1))), n_stages=0, clock_ns=clock_ns,
        latency_cutoff=-1, input_format=PortFormat(data.x_test.shape[1], BITS, FRACTIONAL, True),
        output_format=PortFormat(n_classes, BITS, FRACTIONAL, True), da4ml_cost=0.0, register_bits=0,
        generation_s=0.0, spec_fingerprint=key, notes=("conifer VHDL -> GHDL --synth --out=verilog",))
    design.save()
    sim = simulate_design(design, x_q, reference=emulated, timeout_s=3600)
    synth = synth_xilinx(design, part, timeout_s=7200, work_dir=directory / "yosys")
    cycles = sim.measured_latency_cycles or design.latency_cycles
    result = {
        "name": f"{rounds}x{depth}", "rounds": rounds, "depth": depth, "n_trees": n_trees,
        "spec": f"BDT {rounds} rounds x depth {depth} ({n_trees} trees), {PRECISION}",
        "test_accuracy": float(np.mean(emulated.argmax(1) == data.y_test)),
        "sklearn_test_accuracy": float(np.mean(clf.predict(data.x_test) == data.y_test)),
        "lut": synth.lut, "ff": synth.ff, "carry": synth.carry, "dsp": synth.dsp, "cycles": int(cycles),
        "latency_ns": cycles * clock_ns, "measured_latency_cycles": sim.measured_latency_cycles,
        "rtl_bitexact_rate": sim.bitexact_rate, "rtl_row_exact_rate": sim.row_exact_rate,
        "rtl_test_accuracy": float(np.mean(sim.outputs.argmax(1) == data.y_test)), "n_test": int(len(x_q)),
        "reference": "conifer hardware emulation (GHDL simulation of its VHDL)", "yosys": synth.producer,
        "train_wall_s": train_wall, "train_cpu_s": train_cpu,
        "eval_wall_s": time.monotonic() - t, "eval_cpu_s": _cpu_s() - c,
    }
    write_json_atomic(result_file, result)
    return result
