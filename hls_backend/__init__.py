"""hls_backend: from a trained candidate to confirmed firmware.

* hls4ml conversion with precisions derived from the spec, bit-exact C simulation;
* the open flow: da4ml pipelined RTL, Verilator simulation, Yosys ``synth_xilinx``,
  Yosys + nextpnr place-and-route on ECP5;
* the vendor flow (Vitis HLS / Vivado through hls4ml) where those tools are installed, and
  parsing of their reports;
* firmware bundles (export, synth, verify).

Every flow returns :class:`qnas.results.SynthesisResult`, the estimator's field set. Heavy
dependencies (hls4ml, da4ml, TensorFlow) load only when a function needs them.
"""

from .bundle import ExportResult, VerifyResult, export_trial, synthesize_bundle, verify_bundle
from .csim import BitExactReport, csim_check
from .hls4ml_convert import convert_to_hls
from .manifest import check_files, read_manifest, write_manifest
from .nextpnr import pnr_ecp5
from .open_flow import OpenFlowResult, run_open_flow
from .rtl import PortFormat, RTLDesign, generate_rtl
from .testbench import ReplayResult, run_testbench, write_testbench, write_vectors
from .tools import find_nextpnr_ecp5, find_verilator, find_yosys
from .vendor import run_vendor_flow, vendor_tools_available
from .vendor_reports import parse_vendor_reports
from .verilator_sim import RTLSimResult, simulate_rtl
from .yosys_synth import parse_yosys_stat, synth_xilinx

__all__ = [
    "BitExactReport", "ExportResult", "OpenFlowResult", "PortFormat", "RTLDesign", "RTLSimResult", "ReplayResult",
    "VerifyResult", "check_files", "convert_to_hls", "csim_check", "export_trial", "find_nextpnr_ecp5",
    "find_verilator", "find_yosys", "generate_rtl", "parse_vendor_reports", "parse_yosys_stat", "pnr_ecp5",
    "read_manifest", "run_open_flow", "run_testbench", "run_vendor_flow", "simulate_rtl", "synth_xilinx",
    "synthesize_bundle", "vendor_tools_available", "verify_bundle", "write_manifest", "write_testbench",
    "write_vectors",
]
