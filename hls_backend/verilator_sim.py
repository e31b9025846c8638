"""Cycle-accurate simulation of a generated design with Verilator, checked against QKeras.

A C++ testbench is generated per design and compiled once (the binary is cached in the
design directory and rebuilt only when a Verilog file is newer). It reads one hex word
per clock edge from a file, drives ``model_inp``, ticks the clock and writes
``model_out`` as hex — so all vectors run in one process and any number of them costs one
compile.

Schedule: the first vector is held for ``W`` cycles (fills the pipeline with defined
values), then one new vector per cycle (initiation interval 1), then the last one is
held for ``W`` cycles to drain. The latency is *measured*: the edge offset ``L`` at which
the streamed outputs line up with the reference outputs (every other offset pairs an
output with the wrong input and mismatches); the bit-exact rate is read at that offset.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qnas.errors import CandidateFailed

from .rtl.design import RTLDesign
from .tools import VERILATOR_BUILD_FLAGS, Tool, find_verilator, run_tool

__all__ = ["RTLSimResult", "simulate_rtl", "simulate_design", "build_simulator", "measure_alignment"]

_BUILD_DIR = "verilator_build"
_EXE = "Vtop"


@dataclass(frozen=True)
class RTLSimResult:
    """Outputs of the RTL for each input row, decoded, and how they compare to the reference."""

    outputs: np.ndarray  # (n, n_out) float values decoded from the output format
    output_codes: np.ndarray  # (n, n_out) integer codes
    measured_latency_cycles: int | None
    design_latency_cycles: int
    bitexact_rate: float | None  # fraction of output values equal to the reference
    row_exact_rate: float | None  # fraction of rows whose every output matches
    argmax_agreement: float | None
    n_vectors: int
    compile_s: float
    run_s: float
    tool_version: str
    notes: tuple[str, ...] = field(default=())

    @property
    def latency_matches(self) -> bool:
        return self.measured_latency_cycles == self.design_latency_cycles


def build_simulator(design: RTLDesign, *, timeout_s: float = 900, progress: bool = False) -> tuple[Path, float]:
    """Compile (or reuse) the Verilator model + testbench; returns (executable, seconds spent)."""
    tool = find_verilator()
    root = Path(design.out_dir)
    build = root / _BUILD_DIR
    exe = build / _EXE
    sources = design.files
    if exe.exists() and all(exe.stat().st_mtime >= src.stat().st_mtime for src in sources):
        return exe, 0.0
    build.mkdir(exist_ok=True)
    tb = build / "tb.cpp"
    tb.write_text(_testbench_cpp())
    jobs = "1"
    args = ["--cc", "--exe", "--build", "-j", jobs, "--top-module", design.top, "--prefix", _EXE,
            "-Mdir", str(build / "obj"), "-o", str(exe), *VERILATOR_BUILD_FLAGS, "--x-assign", "0",
            "--x-initial", "0", "-CFLAGS", "-O1", "-CFLAGS", "-std=c++17", str(tb), *map(str, sources)]
    run = run_tool(tool, args, cwd=build, log_name="verilator.log", timeout_s=timeout_s,
                   what=f"Verilator build of {design.top}", progress=progress)
    if not exe.exists():
        raise CandidateFailed(f"Verilator finished but {exe} was not produced; see {run.log_path}")
    return exe, run.seconds


def simulate_rtl(design: RTLDesign, x: np.ndarray, *, reference: np.ndarray | None = None,
                 timeout_s: float = 900, progress: bool = False) -> RTLSimResult:
    """Run ``x`` (n, n_inputs) through the RTL; compare with ``reference`` (n, n_out).

    ``x`` is quantized by the spec's input quantizer first (the QKeras model's first
    QActivation does the same); ``reference`` defaults to
    ``qnas.fixed_point.reference_forward`` (the float64 emulation of QKeras inference).
    """
    spec = design.model_spec
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if x.shape[1] != spec.n_inputs or len(x) == 0:
        raise ValueError(f"x must have shape (n>0, {spec.n_inputs}); got {x.shape}")
    x_q = _quantize_input(spec, x)
    if reference is None:
        reference = _reference(spec, design, x_q)
    reference = None if reference is None else np.asarray(reference, dtype=np.float64)
    if reference is not None and reference.shape != (len(x), spec.n_outputs):
        raise ValueError(f"reference must have shape {(len(x), spec.n_outputs)}; got {reference.shape}")

    return simulate_design(design, x_q, reference=reference, timeout_s=timeout_s, progress=progress)


def simulate_design(design: RTLDesign, x_q: np.ndarray, *, reference: np.ndarray | None = None,
                    timeout_s: float = 900, progress: bool = False) -> RTLSimResult:
    """Run inputs already on the design's input grid through its RTL; compare with ``reference``.

    The spec-free core of :func:`simulate_rtl`, so designs qnas did not generate (da4ml
    projects of other trainers, see ``hls_backend.rtl.load_da4ml_project``) are checked by
    the same testbench. ``x_q`` is (n, n_inputs), ``reference`` (n, n_outputs) or None.
    """
    x_q = np.atleast_2d(np.asarray(x_q, dtype=np.float64))
    if x_q.shape[1] != design.input_format.n or len(x_q) == 0:
        raise ValueError(f"x_q must have shape (n>0, {design.input_format.n}); got {x_q.shape}")
    if reference is not None:
        reference = np.asarray(reference, dtype=np.float64)
        if reference.shape != (len(x_q), design.output_format.n):
            raise ValueError(f"reference must have shape {(len(x_q), design.output_format.n)}; "
                             f"got {reference.shape}")
    exe, compile_s = build_simulator(design, timeout_s=timeout_s, progress=progress)
    hold = design.latency_cycles + 4
    n = len(x_q)
    schedule = [0] * hold + list(range(1, n)) + [n - 1] * hold
    words = design.encode_inputs(x_q)
    hex_digits = max(1, -(-design.input_format.width // 4))
    work = exe.parent
    stamp = f"{os.getpid()}_{time.monotonic_ns()}"
    in_path, out_path = work / f"vectors_{stamp}.hex", work / f"outputs_{stamp}.hex"
    in_path.write_text("".join(f"{words[s]:0{hex_digits}x}\n" for s in schedule))
    start = time.perf_counter()
    try:
        runner = Tool("testbench", (str(exe),), "")
        run_tool(runner, [str(in_path), str(out_path)], cwd=work, log_name=f"tb_{stamp}.log",
                 timeout_s=timeout_s, what=f"RTL simulation of {design.top}", nice=0)
        trace = [int(line, 16) for line in out_path.read_text().split()]
    finally:
        for p in (in_path, out_path, work / f"tb_{stamp}.log"):
            p.unlink(missing_ok=True)
    run_s = time.perf_counter() - start
    if len(trace) != len(schedule):
        raise CandidateFailed(f"testbench wrote {len(trace)} outputs for {len(schedule)} cycles")
    codes_trace = design.output_format.decode_codes(trace)
    values_trace = codes_trace.astype(np.float64) * 2.0 ** -design.output_format.fractional

    notes: list[str] = []
    if reference is not None:
        latency, _ = measure_alignment(values_trace, reference, hold)
    else:
        latency = None
        notes.append("no reference: latency not measured, outputs read at the design's latency")
    use = latency if latency is not None else design.latency_cycles
    idx = [hold - 1 + t + use - 1 for t in range(n)]
    codes = codes_trace[idx]
    outputs = values_trace[idx]
    exact = row_exact = argmax = None
    if reference is not None:
        eq = outputs == reference
        exact, row_exact = float(eq.mean()), float(eq.all(axis=1).mean())
        argmax = float(np.mean(outputs.argmax(axis=1) == reference.argmax(axis=1)))
    tool = find_verilator()
    return RTLSimResult(outputs=outputs, output_codes=codes, measured_latency_cycles=latency,
                        design_latency_cycles=design.latency_cycles, bitexact_rate=exact,
                        row_exact_rate=row_exact, argmax_agreement=argmax, n_vectors=n,
                        compile_s=compile_s, run_s=run_s, tool_version=f"verilator {tool.version}",
                        notes=tuple(notes))


def measure_alignment(values_trace: np.ndarray, reference: np.ndarray, hold: int) -> tuple[int | None, float]:
    """Edge offset L (1..hold) at which output ``hold-2+t+L`` best equals ``reference[t]``.

    Returns (L, matching fraction); L is None when no offset matches a single row, or
    when the reference does not vary over the streamed rows (any offset would fit).
    """
    n = len(reference)
    if n > 1 and np.all(reference == reference[0]):
        return None, 0.0
    best, best_rate = None, 0.0
    for lat in range(1, hold + 1):
        idx = [hold - 1 + t + lat - 1 for t in range(n)]
        if idx[-1] >= len(values_trace):
            break
        rate = float(np.mean(np.all(values_trace[idx] == reference, axis=1)))
        if rate > best_rate:
            best, best_rate = lat, rate
    return best, best_rate


def _quantize_input(spec, x: np.ndarray) -> np.ndarray:
    from qnas.weights import is_representable

    q = spec.input_quantizer
    if np.all(is_representable(x, q)):
        return x
    from qnas._imports import require

    fixed_point = require("qnas.fixed_point", "all")
    return np.asarray(fixed_point.quantize_array(x, q), dtype=np.float64)


def _reference(spec, design: RTLDesign, x_q: np.ndarray) -> np.ndarray | None:
    weights_path = Path(design.out_dir) / "weights.npz"
    if not weights_path.exists():
        return None
    from qnas._imports import require
    from qnas.weights import ModelWeights

    fixed_point = require("qnas.fixed_point", "all")
    return np.asarray(fixed_point.reference_forward(spec, ModelWeights.load(weights_path), x_q), dtype=np.float64)


def _testbench_cpp() -> str:
    return r'''// Generated by qnas: replays one hex input word per clock edge, writes model_out per edge.
#include "Vtop.h"
#include "verilated.h"
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

static std::vector<uint32_t> parse_hex(const std::string& s, size_t nwords) {
    std::vector<uint32_t> w(nwords + 2, 0);
    size_t bit = 0;
    for (size_t k = s.size(); k-- > 0;) {
        char c = s[k];
        uint32_t d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : 0;
        if (bit / 32 < w.size()) w[bit / 32] |= d << (bit % 32);
        bit += 4;
    }
    return w;
}

template <typename T> static void set_port(T& port, const std::vector<uint32_t>& w) {
    port = (T)((uint64_t)w[0] | ((uint64_t)w[1] << 32));
}
template <std::size_t N> static void set_port(VlWide<N>& port, const std::vector<uint32_t>& w) {
    for (std::size_t i = 0; i < N; ++i) port[i] = w[i];
}
template <typename T> static void put_port(const T& port, FILE* f) {
    std::fprintf(f, "%llx\n", (unsigned long long)(uint64_t)port);
}
template <std::size_t N> static void put_port(const VlWide<N>& port, FILE* f) {
    bool started = false;
    for (std::size_t i = N; i-- > 0;) {
        uint32_t v = port[i];
        if (!started) {
            if (v == 0 && i != 0) continue;
            std::fprintf(f, "%x", v);
            started = true;
        } else {
            std::fprintf(f, "%08x", v);
        }
    }
    std::fprintf(f, "\n");
}

int main(int argc, char** argv) {
    if (argc < 3) { std::fprintf(stderr, "usage: %s vectors.hex outputs.hex\n", argv[0]); return 2; }
    VerilatedContext ctx;
    Vtop top(&ctx);
    std::ifstream in(argv[1]);
    FILE* out = std::fopen(argv[2], "w");
    if (!in || !out) { std::fprintf(stderr, "cannot open vector files\n"); return 2; }
    const size_t nwords = sizeof(top.model_inp) / 4 + 1;
    std::string line;
    top.clk = 0;
    top.eval();
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        set_port(top.model_inp, parse_hex(line, nwords));
        top.clk = 0;
        top.eval();
        top.clk = 1;
        top.eval();
        put_port(top.model_out, out);
    }
    top.final();
    std::fclose(out);
    return 0;
}
'''
