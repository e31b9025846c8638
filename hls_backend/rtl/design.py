"""Generate pipelined Verilog for a qnas MLP with da4ml, and describe what was generated.

The :class:`RTLDesign` is what every later step reads (Verilator simulation, Yosys
synthesis, nextpnr place-and-route, the firmware bundle): the top module, the Verilog
files, the pipeline latency and the integer format of each port. It round-trips through
``design.json`` in the output directory so a bundle can be re-simulated or
re-synthesised without re-running generation.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from qnas.errors import UnsupportedSpec
from qnas.parts import DEFAULT_CLOCK_NS
from qnas.pipeline import cutoff_for, pipeline_cycles, pipeline_record, pipelining_of
from qnas.spec import ModelSpec
from qnas.tracer import check_supported, trace_pipeline, zero_fraction
from qnas.weights import ModelWeights

__all__ = ["PortFormat", "RTLDesign", "generate_rtl", "load_da4ml_project", "DESIGN_FILE"]

DESIGN_FILE = "design.json"


@dataclass(frozen=True)
class PortFormat:
    """A port carrying ``n`` equally wide fixed-point numbers, element 0 in the low bits.

    Element ``j`` occupies bits ``[j*bits, (j+1)*bits)`` and its value is the integer in
    those bits (two's complement when ``signed``) times ``2**-fractional``.
    """

    n: int
    bits: int
    fractional: int
    signed: bool

    @property
    def width(self) -> int:
        return self.n * self.bits

    def encode(self, values: np.ndarray) -> list[int]:
        """Pack rows of values into one integer per row (raises if a value is off-grid)."""
        values = np.atleast_2d(np.asarray(values, dtype=np.float64))
        if values.shape[1] != self.n:
            raise ValueError(f"expected {self.n} values per row, got {values.shape[1]}")
        scaled = values * 2.0 ** self.fractional
        codes = np.round(scaled)
        if not np.array_equal(codes, scaled):
            raise ValueError(f"values are not on the port's grid (step 2**-{self.fractional})")
        lo, hi = (-(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1) if self.signed else (0, (1 << self.bits) - 1)
        if codes.min(initial=0) < lo or codes.max(initial=0) > hi:
            raise ValueError(f"values do not fit {self.bits}-bit {'signed' if self.signed else 'unsigned'} codes")
        mask = (1 << self.bits) - 1
        words = []
        for row in codes.astype(np.int64):
            word = 0
            for j, c in enumerate(row.tolist()):
                word |= (int(c) & mask) << (j * self.bits)
            words.append(word)
        return words

    def decode_codes(self, words: list[int]) -> np.ndarray:
        """Integer codes (n_rows, n) from packed words."""
        mask = (1 << self.bits) - 1
        out = np.empty((len(words), self.n), dtype=np.int64)
        for r, word in enumerate(words):
            for j in range(self.n):
                c = (word >> (j * self.bits)) & mask
                if self.signed and c >> (self.bits - 1):
                    c -= 1 << self.bits
                out[r, j] = c
        return out

    def decode(self, words: list[int]) -> np.ndarray:
        return self.decode_codes(words).astype(np.float64) * 2.0 ** -self.fractional


@dataclass(frozen=True)
class RTLDesign:
    """A generated design: where it is, what it does per clock, what it costs per da4ml."""

    top: str
    out_dir: str
    verilog_files: tuple[str, ...]
    latency_cycles: int
    n_stages: int
    clock_ns: float
    latency_cutoff: float
    input_format: PortFormat
    output_format: PortFormat
    da4ml_cost: float
    register_bits: int
    generation_s: float
    spec_fingerprint: str
    spec: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    notes: tuple[str, ...] = ()
    #: the pipelining the cuts follow (:func:`qnas.pipeline.pipeline_record`); {} for designs
    #: written outside qnas or before it was recorded
    pipeline: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    #: inputs no output depends on (a zero-bit format after tracing, e.g. a feature HGQ2 pruned):
    #: their slot in the input word is unconnected, so test vectors carry 0 there
    dead_inputs: tuple[int, ...] = ()

    @property
    def model_spec(self) -> ModelSpec:
        return ModelSpec.from_dict(self.spec)

    def encode_inputs(self, x_q: np.ndarray) -> list[int]:
        """Input words for rows of quantized inputs; unconnected (dead) slots carry 0."""
        x_q = np.atleast_2d(np.asarray(x_q, dtype=np.float64))
        if self.dead_inputs:
            x_q = x_q.copy()
            x_q[:, list(self.dead_inputs)] = 0.0
        return self.input_format.encode(x_q)

    @property
    def files(self) -> list[Path]:
        return [Path(self.out_dir) / f for f in self.verilog_files]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verilog_files"] = list(self.verilog_files)
        data["notes"] = list(self.notes)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RTLDesign":
        data = dict(data)
        data["input_format"] = PortFormat(**data["input_format"])
        data["output_format"] = PortFormat(**data["output_format"])
        data["verilog_files"] = tuple(data["verilog_files"])
        data["notes"] = tuple(data.get("notes", ()))
        data["pipeline"] = dict(data.get("pipeline") or {})
        data["dead_inputs"] = tuple(data.get("dead_inputs", ()))
        return cls(**data)

    def save(self) -> Path:
        path = Path(self.out_dir) / DESIGN_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True))
        return path

    @classmethod
    def load(cls, out_dir: str | Path) -> "RTLDesign":
        """Read ``design.json``; every Verilog file it names must lie inside ``out_dir``."""
        from qnas.errors import FatalError

        path = Path(out_dir) / DESIGN_FILE
        try:
            data = json.loads(path.read_text())
            data["out_dir"] = str(Path(out_dir).resolve())  # the bundle may have moved
            design = cls.from_dict(data)
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise FatalError(f"{path} is not a readable RTL design description ({type(exc).__name__}: "
                             f"{str(exc)[:200]}); re-export the bundle") from None
        root = Path(design.out_dir)
        for name in design.verilog_files:
            if not isinstance(name, str) or Path(name).is_absolute() or not (root / name).resolve().is_relative_to(root):
                raise FatalError(f"{path} names a Verilog file outside {root}: {str(name)[:200]!r}; "
                                 "re-export the bundle")
        return design


def generate_rtl(spec: ModelSpec, weights: ModelWeights, out_dir: str | Path, *,
                 clock_ns: float = DEFAULT_CLOCK_NS, name: str = "qnas_mlp", hard_dc: int = 2) -> RTLDesign:
    """Trace the network and write pipelined Verilog to ``out_dir``.

    The design is fully unrolled with initiation interval 1 (every ``reuse_factor`` must be
    1, else :class:`UnsupportedSpec`). The pipeline is cut where the spec's stated
    ``pipeline`` puts it at ``clock_ns`` (:func:`qnas.pipeline.cutoff_for`, the rule the
    estimator predicts cycles with; a spec stating none gets the default rule). To pipeline
    differently, state it on the spec: ``replace(spec, pipeline=Pipelining(adders_per_stage=8))``.
    ``hard_dc`` is da4ml's adder-depth constraint for its CMVM solver (-1 = no constraint;
    2 = its default trade-off of depth for area).
    """
    from qnas._imports import require

    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"name must be a Verilog identifier; got {name!r}")
    check_supported(spec, weights)
    codegen = require("da4ml.codegen", "hls")
    cutoff = cutoff_for(spec, clock_ns)

    start = time.perf_counter()
    comb, pipe = trace_pipeline(spec, weights, latency_cutoff=cutoff, hard_dc=hard_dc)
    out_path = Path(out_dir).resolve()
    _clear_previous(out_path)
    out_path.mkdir(parents=True, exist_ok=True)
    model = codegen.RTLModel(pipe, name, out_path, flavor="verilog", latency_cutoff=cutoff,
                             clock_period=clock_ns, print_latency=False)
    model.write({"qnas_spec": spec.to_dict()})
    weights.save(out_path / "weights.npz")  # lets simulation compute the reference later
    generation_s = time.perf_counter() - start

    in_fmt = _uniform_format(pipe.inp_qint)
    out_fmt = _uniform_format(pipe.out_qint)
    n_stages = len(pipe.solutions)
    files = sorted(str(p.relative_to(out_path)) for p in (out_path / "src").rglob("*.v"))
    notes = [
        "fully unrolled da4ml distributed arithmetic, II=1, no DSPs by construction",
        f"{n_stages} combinational stages between {n_stages + 1} register ranks "
        "(da4ml registers the input and every stage output)",
        f"pipeline cut every {cutoff:g} adder levels: "
        + (f"{spec.pipeline.label}, stated by the spec" if spec.pipeline is not None
           else f"the default rule ({pipelining_of(None).label} at {clock_ns:g} ns)"),
        f"kernel zero fraction {zero_fraction(weights):.3f}",
    ]
    design = RTLDesign(
        top=f"{name}_wrapper",
        out_dir=str(out_path),
        verilog_files=tuple(files),
        latency_cycles=pipeline_cycles(n_stages),
        n_stages=n_stages,
        clock_ns=float(clock_ns),
        latency_cutoff=cutoff,
        input_format=in_fmt,
        output_format=out_fmt,
        da4ml_cost=float(comb.cost),
        register_bits=int(pipe.reg_bits),
        generation_s=generation_s,
        spec_fingerprint=spec.fingerprint(),
        spec=spec.to_dict(),
        notes=tuple(notes),
        pipeline=pipeline_record(spec, clock_ns, n_stages=n_stages, latency_cycles=pipeline_cycles(n_stages)),
        dead_inputs=_dead_inputs(pipe.inp_qint),
    )
    design.save()
    return design


def load_da4ml_project(out_dir: str | Path, *, prj_name: str, clock_ns: float,
                       notes: tuple[str, ...] = ()) -> RTLDesign:
    """Describe a pipelined Verilog project written by da4ml's ``RTLModel`` outside qnas.

    Models that qnas did not train (e.g. an HGQ2 network converted with da4ml in HGQ2's own
    environment) then go through the same Verilator testbench and the same Yosys
    synthesis as qnas designs. The port formats are read from the saved pipeline
    (``model/pipeline.json``) exactly as :func:`generate_rtl` derives them; the design has no
    qnas spec, so it is simulated on inputs already on its input grid
    (:func:`hls_backend.verilator_sim.simulate_design`). Writes ``design.json``.
    """
    from qnas._imports import require

    types = require("da4ml.types", "hls")
    out_path = Path(out_dir).resolve()
    pipeline_file = out_path / "model" / "pipeline.json"
    if not pipeline_file.exists():
        raise FileNotFoundError(f"{out_path} is not a pipelined da4ml RTL project (no model/pipeline.json); "
                                "write it with da4ml's RTLModel(..., latency_cutoff > 0)")
    pipe = types.Pipeline.load(str(pipeline_file))
    metadata_file = out_path / "metadata.json"
    metadata = json.loads(metadata_file.read_text()) if metadata_file.exists() else {}
    top = f"{prj_name}_wrapper"
    if not (out_path / "src" / f"{top}.v").exists():
        raise FileNotFoundError(f"{out_path / 'src'} has no {top}.v; is prj_name {prj_name!r} right?")
    files = sorted(str(p.relative_to(out_path)) for p in (out_path / "src").rglob("*.v"))
    n_stages = len(pipe.solutions)
    design = RTLDesign(
        top=top, out_dir=str(out_path), verilog_files=tuple(files), latency_cycles=pipeline_cycles(n_stages),
        n_stages=n_stages, clock_ns=float(clock_ns),
        latency_cutoff=float(metadata.get("latency_cutoff", -1)),
        input_format=_uniform_format(pipe.inp_qint), output_format=_uniform_format(pipe.out_qint),
        da4ml_cost=float(pipe.cost), register_bits=int(pipe.reg_bits), generation_s=0.0,
        spec_fingerprint="", spec={}, notes=("pipelined da4ml RTL written outside qnas", *notes),
        dead_inputs=_dead_inputs(pipe.inp_qint),
    )
    design.save()
    return design


def _clear_previous(out_path: Path) -> None:
    """Remove the Verilog of an earlier generation here (stale stage files would be read).

    Only a directory qnas wrote (it has ``design.json``) is cleared; foreign Verilog is
    never deleted.
    """
    src = out_path / "src"
    if not src.exists():
        return
    if not (out_path / DESIGN_FILE).exists():
        raise FileExistsError(f"{src} exists but was not written by qnas (no {DESIGN_FILE}); "
                              "choose an empty out_dir")
    shutil.rmtree(src)
    (out_path / DESIGN_FILE).unlink()


def _dead_inputs(qints) -> tuple[int, ...]:
    """Indices of inputs the traced pipeline gives zero bits (nothing downstream reads them)."""
    from da4ml.types import minimal_kif

    return tuple(j for j, q in enumerate(qints) if sum(int(v) for v in minimal_kif(q)) <= 0)


def _uniform_format(qints) -> PortFormat:
    """The wrapper's uniform per-element format (mirrors da4ml's io wrapper layout)."""
    from da4ml.types import minimal_kif

    kifs = [minimal_kif(q) for q in qints]
    ks = [int(k) for k, _, _ in kifs]
    max_int = max(int(i) for _, i, _ in kifs) + max(ks)
    max_frac = max(int(f) for _, _, f in kifs)
    bits = max_int + max_frac
    if bits <= 0:
        raise UnsupportedSpec("the traced network has constant outputs only (all-zero kernels); "
                              "there is no logic to generate")
    return PortFormat(n=len(kifs), bits=bits, fractional=max_frac, signed=bool(max(ks)))
