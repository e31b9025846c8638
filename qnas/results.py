"""Resource and latency results: one shape for estimates and for synthesis truth.

The estimator returns a :class:`ResourceEstimate`, every synthesis flow a
:class:`SynthesisResult`; both are :class:`ResourceReport` with the same fields, so
:func:`compare` can put an estimate beside the truth field by field and calibration can
consume either.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Mapping

#: Fields compared between an estimate and a synthesis result.
COMPARED_FIELDS: tuple[str, ...] = ("lut", "ff", "dsp", "bram", "latency_cycles", "ii_cycles", "latency_ns")

#: what a flow can say about meeting the target clock; only "met" and "fails" are facts
TIMING_VERDICTS: tuple[str, ...] = ("met", "fails", "at_risk", "not_established")


@dataclass(frozen=True)
class TimingCheck:
    """Whether a design meets its target clock, as far as the flow that made it can tell.

    ``latency_ns`` is cycles times the period, which holds only if the design meets that
    period; this says how far that is established. ``verdict``: ``met`` (a routed Fmax at
    or above the target), ``fails`` (shown not to meet it, e.g. cell delays alone exceed
    the period), ``at_risk`` (a proxy says it may not), ``not_established``. ``basis``
    names the tool and model behind the numbers (e.g. unplaced, cell delays only), so a
    logic-level count is never mistaken for a timing closure.
    """

    clock_ns: float
    verdict: str
    basis: str
    logic_levels_max: int | None = None  # cells on the longest register-to-register path
    logic_delay_ns: float | None = None  # delay of the slowest path through cells only (no routing)
    fmax_mhz: float | None = None  # routed, where place and route ran
    critical_path_cells: Mapping[str, int] = field(default_factory=dict)
    reason: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in TIMING_VERDICTS:
            raise ValueError(f"verdict must be one of {TIMING_VERDICTS}; got {self.verdict!r}")

    @property
    def meets_clock(self) -> bool | None:
        """True or False where established, None where not."""
        return {"met": True, "fails": False}.get(self.verdict)

    @property
    def warning(self) -> str | None:
        """One line for the user when the design fails or may fail its clock."""
        if self.verdict == "fails":
            return f"does NOT meet the {self.clock_ns:g} ns clock: {self.reason}"
        if self.verdict == "at_risk":
            return f"may not meet the {self.clock_ns:g} ns clock: {self.reason}"
        return None


@dataclass(frozen=True)
class LayerResources:
    """Resources of one layer (where the producer can attribute them)."""

    name: str
    lut: float = 0.0
    ff: float = 0.0
    dsp: float = 0.0
    bram: float = 0.0
    latency_cycles: int = 0
    ii_cycles: int = 1


@dataclass(frozen=True)
class ResourceReport:
    """What a design costs on a part and how fast it answers.

    ``producer`` says which estimator or tool made the numbers (``"qnas.analytic"``,
    ``"yosys 0.23 synth_xilinx"``, ``"vivado 2020.1"``), ``tool_version`` its version, so no
    number travels without its source. ``latency_ns`` is cycles times the clock period used
    (the target clock for estimates and HLS, ``1000/fmax_mhz`` where a routed Fmax exists).
    ``in_calibrated_range`` is False when an estimate extrapolates beyond the data its
    coefficients were fitted on, ``None`` when the question does not apply.
    """

    lut: float
    ff: float
    dsp: float
    bram: float
    latency_cycles: int
    ii_cycles: int
    clock_ns: float
    latency_ns: float
    part: str
    producer: str
    tool_version: str = ""
    fmax_mhz: float | None = None
    carry: float | None = None
    per_layer: tuple[LayerResources, ...] = ()
    in_calibrated_range: bool | None = None
    notes: tuple[str, ...] = ()
    timing: TimingCheck | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = type(self).__name__
        data["per_layer"] = [asdict(layer) for layer in self.per_layer]
        data["notes"] = list(self.notes)
        data["extra"] = dict(self.extra)
        if self.timing is not None:
            data["timing"]["meets_clock"] = self.timing.meets_clock  # for readers of the JSON
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ResourceReport":
        data = dict(data)
        kind = data.pop("kind", cls.__name__)
        target = _KINDS.get(kind, cls)
        names = {f.name for f in fields(target)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown ResourceReport fields {sorted(unknown)}")
        data["per_layer"] = tuple(LayerResources(**layer) for layer in data.get("per_layer", ()))
        data["notes"] = tuple(data.get("notes", ()))
        if data.get("timing") is not None:
            timing = {k: v for k, v in data["timing"].items() if k != "meets_clock"}
            data["timing"] = TimingCheck(**timing)
        return target(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def with_notes(self, *notes: str) -> "ResourceReport":
        return replace(self, notes=self.notes + tuple(notes))

    def utilisation(self, totals: Mapping[str, float]) -> dict[str, float]:
        """Fraction of each resource of a part used (``totals`` keyed lut/ff/dsp/bram)."""
        return {key: (getattr(self, key) / totals[key] if totals.get(key) else 0.0)
                for key in ("lut", "ff", "dsp", "bram")}


@dataclass(frozen=True)
class ResourceEstimate(ResourceReport):
    """A prediction made without synthesis."""


@dataclass(frozen=True)
class SynthesisResult(ResourceReport):
    """Numbers read from a real synthesis / place-and-route / simulation run."""


_KINDS = {"ResourceReport": ResourceReport, "ResourceEstimate": ResourceEstimate,
          "SynthesisResult": SynthesisResult}


def compare(estimate: ResourceReport, truth: ResourceReport) -> dict[str, dict[str, float | None]]:
    """Field-by-field estimate vs truth with relative error (None where truth is 0)."""
    out: dict[str, dict[str, float | None]] = {}
    for name in COMPARED_FIELDS:
        est, true = float(getattr(estimate, name)), float(getattr(truth, name))
        rel = None if true == 0 else (est - true) / true
        out[name] = {"estimate": est, "truth": true, "rel_error": rel}
    return out
