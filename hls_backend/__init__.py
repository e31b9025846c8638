"""hls_backend: from a trained candidate to confirmed firmware.

* hls4ml conversion with precisions derived from the spec, bit-exact C simulation;
* the open flow: da4ml pipelined RTL, Verilator simulation, Yosys ``synth_xilinx``,
  Yosys + nextpnr place-and-route on ECP5;
* the vendor flow (Vitis HLS / Vivado through hls4ml) where those tools are installed, and
  parsing of their reports;
* firmware bundles (export, synth, verify).

Every flow returns :class:`qnas.results.SynthesisResult`, the estimator's field set. Heavy
dependencies (hls4ml, da4ml, TensorFlow) load only when a function needs them, and
importing the package loads none of its modules: every public name is resolved on first
use (PEP 562 ``__getattr__``), so ``import hls_backend.rtl`` does not drag in the bundle,
the study access or ``nas``.
"""

from __future__ import annotations

from qnas._imports import lazy_exports

_EXPORTS: dict[str, str] = {
    # bundles
    "ExportResult": "hls_backend.bundle", "VerifyResult": "hls_backend.bundle", "export_trial": "hls_backend.bundle",
    "synthesize_bundle": "hls_backend.bundle", "verify_bundle": "hls_backend.bundle",
    "check_files": "hls_backend.manifest", "read_manifest": "hls_backend.manifest",
    "write_manifest": "hls_backend.manifest",
    # hls4ml
    "BitExactReport": "hls_backend.csim", "csim_check": "hls_backend.csim",
    "convert_to_hls": "hls_backend.hls4ml_convert",
    # open flow
    "OpenFlowResult": "hls_backend.open_flow", "run_open_flow": "hls_backend.open_flow",
    "PortFormat": "hls_backend.rtl", "RTLDesign": "hls_backend.rtl", "generate_rtl": "hls_backend.rtl",
    "RTLSimResult": "hls_backend.verilator_sim", "simulate_rtl": "hls_backend.verilator_sim",
    "ReplayResult": "hls_backend.testbench", "run_testbench": "hls_backend.testbench",
    "write_testbench": "hls_backend.testbench", "write_vectors": "hls_backend.testbench",
    "parse_yosys_stat": "hls_backend.yosys_synth", "synth_xilinx": "hls_backend.yosys_synth",
    "pnr_ecp5": "hls_backend.nextpnr",
    "find_nextpnr_ecp5": "hls_backend.tools", "find_verilator": "hls_backend.tools", "find_yosys": "hls_backend.tools",
    # vendor flow
    "run_vendor_flow": "hls_backend.vendor", "vendor_tools_available": "hls_backend.vendor",
    "parse_vendor_reports": "hls_backend.vendor_reports",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
