"""RTL generation for the open flow: qnas MLP -> da4ml trace -> pipelined Verilog."""

from .design import DESIGN_FILE, PortFormat, RTLDesign, generate_rtl, latency_cutoff_for, load_da4ml_project
from .tracer import check_supported

__all__ = ["DESIGN_FILE", "PortFormat", "RTLDesign", "check_supported", "generate_rtl", "latency_cutoff_for",
           "load_da4ml_project"]
