"""An FPGA budget and the constraint values Optuna records for it.

Constraint values follow Optuna's convention (``<= 0`` is satisfied) and are expressed in
the unit of the limit (fractions of the part for resources, ns for latency, cycles for II),
so a value of 0.02 on ``lut`` reads "2 % of the part over budget".
"""

from __future__ import annotations

from dataclasses import dataclass

from qnas.errors import ConfigError
from qnas.results import ResourceReport

from qnas.parts import DEFAULT_PART, FPGAPart, get_part


@dataclass(frozen=True)
class Budget:
    part: FPGAPart
    clock_ns: float
    max_lut: float = 1.0
    max_ff: float = 1.0
    max_dsp: float = 1.0
    max_bram: float = 1.0
    max_latency_ns: float | None = None
    max_ii: int | None = None

    def __post_init__(self) -> None:
        if not self.clock_ns > 0:
            raise ConfigError("budget.clock_ns", f"must be a positive number of ns; got {self.clock_ns!r}")
        for key in ("max_lut", "max_ff", "max_dsp", "max_bram"):
            value = getattr(self, key)
            if not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ConfigError(f"budget.{key}", f"must be a fraction of the part in [0, 1]; got {value!r}")
        if self.max_latency_ns is not None and not self.max_latency_ns > 0:
            raise ConfigError("budget.max_latency_ns", f"must be positive; got {self.max_latency_ns!r}")
        if self.max_ii is not None and (not isinstance(self.max_ii, int) or self.max_ii < 1):
            raise ConfigError("budget.max_ii", f"must be an int >= 1; got {self.max_ii!r}")

    @classmethod
    def create(cls, part: str | FPGAPart = DEFAULT_PART, clock_ns: float | None = None, **limits) -> "Budget":
        p = get_part(part, "budget.part")
        return cls(part=p, clock_ns=clock_ns if clock_ns is not None else p.default_clock_ns, **limits)

    def constraints(self, report: ResourceReport) -> dict[str, float]:
        """Constraint name -> value; every value <= 0 means the report fits."""
        used = report.utilisation(self.part.totals)
        values = {
            "lut": used["lut"] - self.max_lut,
            "ff": used["ff"] - self.max_ff,
            "dsp": used["dsp"] - self.max_dsp,
            "bram": used["bram"] - self.max_bram,
        }
        if self.max_latency_ns is not None:
            values["latency_ns"] = report.latency_ns - self.max_latency_ns
        if self.max_ii is not None:
            values["ii"] = float(report.ii_cycles - self.max_ii)
        return values

    def violations(self, report: ResourceReport) -> list[str]:
        """Human-readable reasons the report does not fit (empty when it fits)."""
        out = []
        used = report.utilisation(self.part.totals)
        for key, value in self.constraints(report).items():
            if value <= 0:
                continue
            if key in used:
                total = self.part.totals[key]
                limit = getattr(self, f"max_{key}")
                out.append(f"{key.upper()} {getattr(report, key):,.0f} > budget {limit * total:,.0f} "
                           f"({limit:.2%} of {self.part.name}; this design needs {used[key]:.2%})")
            elif key == "latency_ns":
                out.append(f"latency {report.latency_ns:.1f} ns > budget {self.max_latency_ns:g} ns")
            else:
                out.append(f"II {report.ii_cycles} cycles > budget {self.max_ii}")
        return out
