"""FPGA part catalogue: the totals a budget is expressed against, and the default part.

Shared by the estimators (budgets, per-family calibration), the synthesis flows (which
Yosys/hls4ml target a part maps to) and the study configuration, so the part every stage
assumes when none is named is :data:`DEFAULT_PART`, stated here once. Totals are from the vendors' product tables. BRAM is counted in 18 Kb blocks (hls4ml and
Vivado report ``BRAM_18K``; an ECP5 EBR is also 18 Kb). Lookups accept the full part name
or a unique prefix/alias, and an unknown name lists the valid ones.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from qnas.errors import ConfigError


@dataclass(frozen=True)
class FPGAPart:
    name: str
    family: str  # "xilinx-ultrascale+", "xilinx-7series", "lattice-ecp5"
    lut: int
    ff: int
    dsp: int
    bram: int  # 18 Kb blocks
    default_clock_ns: float
    lut_inputs: int = 6
    aliases: tuple[str, ...] = ()

    @property
    def totals(self) -> dict[str, float]:
        return {"lut": self.lut, "ff": self.ff, "dsp": self.dsp, "bram": self.bram}

    @property
    def vendor(self) -> str:
        return self.family.split("-")[0]


PARTS: dict[str, FPGAPart] = {
    p.name: p
    for p in (
        FPGAPart("xcvu13p-flga2577-2-e", "xilinx-ultrascale+", 1_728_000, 3_456_000, 12_288, 5_376, 5.0,
                 aliases=("vu13p", "xcvu13p")),
        FPGAPart("xcvu9p-flga2104-2L-e", "xilinx-ultrascale+", 1_182_240, 2_364_480, 6_840, 4_320, 5.0,
                 aliases=("vu9p", "xcvu9p")),
        FPGAPart("xcu250-figd2104-2L-e", "xilinx-ultrascale+", 1_728_000, 3_456_000, 12_288, 5_376, 5.0,
                 aliases=("u250", "xcu250")),
        FPGAPart("xc7z020clg400-1", "xilinx-7series", 53_200, 106_400, 220, 280, 10.0,
                 aliases=("z020", "xc7z020")),
        FPGAPart("LFE5U-85F-6BG381C", "lattice-ecp5", 83_640, 83_640, 156, 208, 10.0, lut_inputs=4,
                 aliases=("ecp5-85f", "lfe5u-85f", "ecp5")),
    )
}

#: the part every stage assumes when none is named (study config, estimate, synthesis)
DEFAULT_PART = "xcvu13p-flga2577-2-e"

__all__ = ["DEFAULT_CLOCK_NS", "DEFAULT_PART", "FPGAPart", "PARTS", "get_part"]


def get_part(name: str | FPGAPart, key: str = "part") -> FPGAPart:
    """Find a part by full name, alias or unambiguous prefix (case-insensitive)."""
    if isinstance(name, FPGAPart):
        return name
    wanted = str(name).strip().lower()
    for part in PARTS.values():
        if wanted == part.name.lower() or wanted in part.aliases:
            return part
    prefixed = [p for p in PARTS.values() if p.name.lower().startswith(wanted)]
    if len(prefixed) == 1:
        return prefixed[0]
    names = sorted(PARTS)
    close = difflib.get_close_matches(str(name), names + [a for p in PARTS.values() for a in p.aliases], n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ConfigError(key, f"unknown FPGA part {name!r}; known parts: {', '.join(names)}.{hint}")


#: the clock every stage assumes when neither a clock nor a part is named: the default part's
DEFAULT_CLOCK_NS = get_part(DEFAULT_PART).default_clock_ns
