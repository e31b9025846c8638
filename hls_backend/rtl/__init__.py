"""RTL generation for the open flow: qnas MLP -> da4ml trace (:mod:`qnas.tracer`) -> pipelined Verilog."""

from .design import DESIGN_FILE, PortFormat, RTLDesign, generate_rtl, load_da4ml_project

__all__ = ["DESIGN_FILE", "PortFormat", "RTLDesign", "generate_rtl", "load_da4ml_project"]
