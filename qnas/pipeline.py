"""How the open (da4ml) flow pipelines a network: the one statement of the rule.

da4ml's unit-delay model counts one adder level as one latency unit. The pipeline is cut
every ``cutoff`` units, so a network of total adder depth ``L`` has
``n_stages = ceil(L / cutoff)`` combinational stages, and da4ml registers the input and
every stage output: ``cycles = n_stages + 1``.

Where the cuts go is a stated choice of the design (:class:`Pipelining`, the spec's
``pipeline`` field), in one of two forms:

* ``adders_per_stage: N``: cut every ``N`` adder levels, whatever the clock (the
  designer has measured what their part closes timing with);
* ``adders_per_ns: r``: a timing model, ``cutoff = max(1, floor(clock_ns * r))``: the
  deepest stage that is expected to meet the target clock, i.e. the fewest cycles at
  that clock.

A spec that states nothing gets :data:`DEFAULT_PIPELINING`, the timing-model form with
``r = DEFAULT_ADDERS_PER_NS``. The estimator (``estimators.distributed``: cycles and
pipeline FF), the RTL generator (``hls_backend.rtl``) and the bundle manifest all resolve
the cutoff with :func:`cutoff_for`, so estimate and RTL cannot drift apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import ConfigError

__all__ = ["DEFAULT_ADDERS_PER_NS", "DEFAULT_PIPELINING", "PIPELINE_KEYS", "Pipelining", "add_pipeline_arguments",
           "check_record", "cutoff_for", "cycles_for_depth", "pipeline_from_args", "latency_cutoff_for", "parse_pipelining", "pipeline_cycles", "pipeline_record",
           "pipelining_of"]

#: da4ml's own default is a cutoff of 5 units for a 5 ns clock, i.e. about one adder
#: (LUT + carry chain + routing) per ns on UltraScale+: the default timing model.
DEFAULT_ADDERS_PER_NS = 1.0

#: the keys of a pipelining choice, in YAML, JSON and the manifest
PIPELINE_KEYS = ("adders_per_stage", "adders_per_ns")

#: a stage deeper than this is not a pipeline any more (and a typo, e.g. 80 for 8)
MAX_ADDERS_PER_STAGE = 64


@dataclass(frozen=True)
class Pipelining:
    """A design's stated pipelining: exactly one of ``adders_per_stage`` or ``adders_per_ns``.

    ``key`` is where the values came from (``pipeline`` in a study or a spec,
    ``--adders-per-stage`` on a command line); errors name it.
    """

    adders_per_stage: int | None = None
    adders_per_ns: float | None = None

    def __post_init__(self) -> None:
        _check(self.adders_per_stage, self.adders_per_ns, "pipeline")
        if self.adders_per_ns is not None:
            object.__setattr__(self, "adders_per_ns", float(self.adders_per_ns))

    @property
    def rule(self) -> str:
        """Which form is stated: ``adders_per_stage`` or ``adders_per_ns``."""
        return "adders_per_stage" if self.adders_per_stage is not None else "adders_per_ns"

    def cutoff(self, clock_ns: float) -> float:
        """Adder levels per pipeline stage at ``clock_ns`` (at least one)."""
        _check_clock(clock_ns)
        if self.adders_per_stage is not None:
            return float(self.adders_per_stage)
        return latency_cutoff_for(clock_ns, self.adders_per_ns)

    @property
    def label(self) -> str:
        """``adders_per_stage=8`` / ``adders_per_ns=1``: the choice as it is written."""
        return f"{self.rule}={getattr(self, self.rule):g}"

    def to_dict(self) -> dict[str, Any]:
        return {self.rule: getattr(self, self.rule)}

    @classmethod
    def from_dict(cls, data: Any, key: str = "pipeline") -> "Pipelining":
        return parse_pipelining(data, key)


def _check_clock(clock_ns: Any) -> None:
    if isinstance(clock_ns, bool) or not (isinstance(clock_ns, (int, float)) and math.isfinite(clock_ns)
                                          and clock_ns > 0):
        raise ConfigError("clock_ns", f"must be a positive number of ns; got {clock_ns!r}")


def _check(per_stage: Any, per_ns: Any, key: str) -> None:
    if (per_stage is None) == (per_ns is None):
        raise ConfigError(key, "state exactly one of adders_per_stage (adder levels per register stage, "
                               "e.g. 8) or adders_per_ns (a timing model: the cutoff is floor(clock_ns * "
                               f"adders_per_ns), default {DEFAULT_ADDERS_PER_NS:g}); got "
                               f"adders_per_stage={per_stage!r}, adders_per_ns={per_ns!r}")
    if per_stage is not None and (isinstance(per_stage, bool) or not isinstance(per_stage, int)
                                  or not 1 <= per_stage <= MAX_ADDERS_PER_STAGE):
        raise ConfigError(f"{key}.adders_per_stage", f"must be an int in [1, {MAX_ADDERS_PER_STAGE}] "
                                                     f"(adder levels per register stage); got {per_stage!r}")
    if per_ns is not None and (isinstance(per_ns, bool) or not isinstance(per_ns, (int, float))
                               or not math.isfinite(per_ns) or not 0 < per_ns <= MAX_ADDERS_PER_STAGE):
        raise ConfigError(f"{key}.adders_per_ns", f"must be a number in (0, {MAX_ADDERS_PER_STAGE}] "
                                                  f"(adder levels per ns of clock period); got {per_ns!r}")


def parse_pipelining(data: Any, key: str = "pipeline") -> Pipelining:
    """A :class:`Pipelining` from ``{adders_per_stage: N}`` or ``{adders_per_ns: r}`` (YAML/JSON).

    Unknown keys are refused with a did-you-mean, and every error names ``key``.
    """
    from .validation import check_keys, check_mapping

    mapping = check_mapping(data, key, "{adders_per_stage: N} or {adders_per_ns: r}")
    check_keys(mapping, PIPELINE_KEYS, key)
    per_stage, per_ns = mapping.get("adders_per_stage"), mapping.get("adders_per_ns")
    _check(per_stage, per_ns, key)
    return Pipelining(per_stage, per_ns)


#: what a design that states no pipelining gets: the fewest cycles the timing model expects to
#: meet the target clock
DEFAULT_PIPELINING = Pipelining(adders_per_ns=DEFAULT_ADDERS_PER_NS)


def pipelining_of(spec_or_choice: Any) -> Pipelining:
    """The pipelining in force: a spec's (or a given) choice, else :data:`DEFAULT_PIPELINING`."""
    if spec_or_choice is None:
        return DEFAULT_PIPELINING
    if isinstance(spec_or_choice, Pipelining):
        return spec_or_choice
    choice = getattr(spec_or_choice, "pipeline", None)
    return choice if choice is not None else DEFAULT_PIPELINING


def cutoff_for(spec_or_choice: Any, clock_ns: float) -> float:
    """Adder levels per stage of a spec (or a :class:`Pipelining`, or None) at ``clock_ns``."""
    return pipelining_of(spec_or_choice).cutoff(clock_ns)


def latency_cutoff_for(clock_ns: float, adders_per_ns: float = DEFAULT_ADDERS_PER_NS) -> float:
    """Adder levels per pipeline stage for a target clock (at least one adder per stage)."""
    _check_clock(clock_ns)
    return float(max(1, math.floor(clock_ns * adders_per_ns + 1e-9)))


def pipeline_cycles(n_stages: int) -> int:
    """Latency in clock cycles of ``n_stages`` combinational stages (input and each stage registered)."""
    return int(n_stages) + 1


def cycles_for_depth(depth: float, cutoff: float) -> tuple[int, int]:
    """(n_stages, latency cycles) of a pipeline of total adder depth ``depth`` cut every ``cutoff``."""
    n_stages = max(1, math.ceil(depth / cutoff - 1e-9))
    return n_stages, pipeline_cycles(n_stages)


def pipeline_record(spec_or_choice: Any, clock_ns: float, **measured: Any) -> dict[str, Any]:
    """What an estimate, an RTL design and a bundle manifest record about the pipelining.

    ``stated`` is False when the spec states nothing and the default rule applied;
    ``measured`` adds what was found (``n_stages``, ``latency_cycles``).
    """
    choice = pipelining_of(spec_or_choice)
    stated = spec_or_choice is not None and (isinstance(spec_or_choice, Pipelining)
                                             or getattr(spec_or_choice, "pipeline", None) is not None)
    return {**choice.to_dict(), "rule": choice.rule, "stated": bool(stated), "clock_ns": float(clock_ns),
            "latency_cutoff": choice.cutoff(clock_ns), **measured}


def check_record(record: Mapping[str, Any], key: str = "pipeline") -> Pipelining:
    """The choice a recorded pipeline entry states (ConfigError naming ``key`` if damaged)."""
    if not isinstance(record, Mapping):
        raise ConfigError(key, f"must be a mapping; got {type(record).__name__}")
    return parse_pipelining({k: v for k, v in record.items() if k in PIPELINE_KEYS}, key)


def add_pipeline_arguments(parser: Any) -> None:
    """``--adders-per-stage N`` / ``--adders-per-ns R`` on an argparse parser (one of them)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--adders-per-stage", type=int, metavar="N",
                       help="open flow: cut the RTL pipeline every N adder levels (a stated choice recorded in the "
                            "spec and the bundle; the estimate predicts the same cycles)")
    group.add_argument("--adders-per-ns", type=float, metavar="R",
                       help="open flow: cut every floor(clock_ns * R) adder levels (timing model; default: the "
                            f"spec's choice, else {DEFAULT_ADDERS_PER_NS:g})")


def pipeline_from_args(args: Any) -> Pipelining | None:
    """The choice given by :func:`add_pipeline_arguments`' flags, or None (ConfigError naming the flag)."""
    per_stage, per_ns = getattr(args, "adders_per_stage", None), getattr(args, "adders_per_ns", None)
    if per_stage is None and per_ns is None:
        return None
    flag = "--adders-per-stage" if per_stage is not None else "--adders-per-ns"
    try:
        return Pipelining(per_stage, per_ns)
    except ConfigError as exc:
        raise ConfigError(flag, str(exc)[len(exc.path) + 2:]) from None
