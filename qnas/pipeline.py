"""How the open (da4ml) flow pipelines a network: the one statement of the rule.

da4ml's unit-delay model counts one adder level as one latency unit. The pipeline is cut
every ``cutoff`` units, ``cutoff = max(1, floor(clock_ns * adders_per_ns))``, so a network
of total adder depth ``L`` has ``n_stages = ceil(L / cutoff)`` combinational stages, and
da4ml registers the input and every stage output: ``cycles = n_stages + 1``. The RTL
generator (``hls_backend.rtl``) cuts the real trace with this cutoff and the estimator
(``estimators.distributed``) predicts with it, so the two cannot drift apart.
"""

from __future__ import annotations

import math

from .errors import ConfigError

__all__ = ["DEFAULT_ADDERS_PER_NS", "cycles_for_depth", "latency_cutoff_for", "pipeline_cycles"]

#: da4ml's own default is a cutoff of 5 units for a 5 ns clock, i.e. about one adder
#: (LUT + carry chain + routing) per ns on UltraScale+. Overridable per call.
DEFAULT_ADDERS_PER_NS = 1.0


def latency_cutoff_for(clock_ns: float, adders_per_ns: float = DEFAULT_ADDERS_PER_NS) -> float:
    """Adder levels per pipeline stage for a target clock (at least one adder per stage)."""
    if not (isinstance(clock_ns, (int, float)) and clock_ns > 0):
        raise ConfigError("clock_ns", f"must be a positive number of ns; got {clock_ns!r}")
    return float(max(1, math.floor(clock_ns * adders_per_ns)))


def pipeline_cycles(n_stages: int) -> int:
    """Latency in clock cycles of ``n_stages`` combinational stages (input and each stage registered)."""
    return int(n_stages) + 1


def cycles_for_depth(depth: float, cutoff: float) -> tuple[int, int]:
    """(n_stages, latency cycles) of a pipeline of total adder depth ``depth`` cut every ``cutoff``."""
    n_stages = max(1, math.ceil(depth / cutoff - 1e-9))
    return n_stages, pipeline_cycles(n_stages)
