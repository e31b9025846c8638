"""C simulation of an hls4ml project against the QKeras model: is the firmware bit-exact?

The comparison is exact equality of the values, not a tolerance: both sides hold fixed-point
numbers, so any difference is a conversion bug (a too-narrow accumulator, a wrong rounding
mode), never float noise. Inputs must already lie on the firmware's input grid; an
off-grid value would be truncated by ap_fixed but rounded by QKeras, so it is refused
rather than silently snapped.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qnas.errors import CandidateFailed, error_excerpt


#: ap_fixed -> double is exact up to the 53-bit mantissa of a double
_DOUBLE_MANTISSA_BITS = 53


@dataclass(frozen=True)
class BitExactReport:
    """How the C simulation compares with the reference outputs, value by value."""

    n_samples: int
    n_outputs: int
    bitexact_rate: float  # fraction of output values equal bit for bit
    argmax_agreement: float  # fraction of samples whose largest output is the same one
    max_abs_diff: float

    @property
    def is_bitexact(self) -> bool:
        return self.bitexact_rate == 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare_outputs(y: np.ndarray, y_reference: np.ndarray) -> BitExactReport:
    """Value-by-value comparison of two (samples, outputs) arrays."""
    y = np.asarray(y, dtype=np.float64)
    ref = np.asarray(y_reference, dtype=np.float64)
    if y.shape != ref.shape or y.ndim != 2:
        raise ValueError(f"outputs must both have shape (samples, outputs); got {y.shape} and {ref.shape}")
    if y.shape[0] == 0:
        raise ValueError("no samples to compare")
    return BitExactReport(
        n_samples=int(y.shape[0]),
        n_outputs=int(y.shape[1]),
        bitexact_rate=float(np.mean(y == ref)),
        argmax_agreement=float(np.mean(np.argmax(y, axis=1) == np.argmax(ref, axis=1))),
        max_abs_diff=float(np.max(np.abs(y - ref))),
    )


def _precision(variable: Any) -> Any:
    return variable.type.precision


#: g++ optimisation of the C-simulation library. hls4ml builds with -O3, which on the
#: unrolled adder graphs of distributed arithmetic takes most of an export's time (the
#: 4,100-line adder graph of a 16-64-32-32-5 tagger: 53 CPU-s at -O0, 70 at -O1); the
#: values are the same at any level (ap_fixed arithmetic is exact integer code), and the
#: simulation of a few thousand vectors is instant either way.
CSIM_OPT_LEVEL = "-O0"


def _set_optimisation(script: Path, level: str) -> None:
    """Rewrite the optimisation flag hls4ml writes into ``build_lib.sh``."""
    text = script.read_text()
    patched = re.sub(r'CFLAGS="-O\d ', f'CFLAGS="{level} ', text, count=1)
    if patched == text and f'CFLAGS="{level} ' not in text:
        raise CandidateFailed(f"{script} has no CFLAGS=\"-O<n> line to set {level} in (hls4ml changed its build "
                              "script?); C simulation not built")
    script.write_text(patched)


def check_on_input_grid(x: np.ndarray, precision: Any) -> None:
    """Raise ValueError unless every value of ``x`` is exactly representable in ``precision``."""
    frac = precision.width - precision.integer
    lo = -(2 ** (precision.width - 1)) if precision.signed else 0
    hi = 2 ** (precision.width - 1) - 1 if precision.signed else 2 ** precision.width - 1
    scaled = x * 2.0 ** frac
    bad = (scaled != np.round(scaled)) | (scaled < lo) | (scaled > hi)
    if bad.any():
        raise ValueError(f"{int(bad.sum())} input values (e.g. {x[bad].flat[0]!r}) are not on the firmware "
                         f"input grid {precision}; quantize them first with "
                         "qnas.fixed_point.quantize_array(x, spec.input_quantizer)")


def _check_io(hls_model: Any, x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float64)
    inputs, outputs = hls_model.get_input_variables(), hls_model.get_output_variables()
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(f"csim_check handles single-input single-output models; this one has "
                         f"{len(inputs)} inputs and {len(outputs)} outputs")
    n_in = int(np.prod(inputs[0].shape))
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ValueError(f"x must have shape (samples, {n_in}); got {x.shape}")
    check_on_input_grid(x, _precision(inputs[0]))
    out_width = getattr(_precision(outputs[0]), "width", 0)
    if out_width > _DOUBLE_MANTISSA_BITS:
        raise ValueError(f"output type {_precision(outputs[0])} is wider than a double's mantissa; "
                         "C simulation values could not be compared exactly")
    return x


def build_csim(hls_model: Any, opt_level: str | None = None) -> None:
    """Write and compile the hls4ml project's C-simulation library (g++), and load it.

    Separate from :func:`run_csim` so that an export can compile it while the RTL is being
    generated and simulated (both are single-threaded subprocesses). Compilation errors
    raise CandidateFailed with the compiler's message excerpted.
    """
    try:
        hls_model.write()
        _set_optimisation(Path(hls_model.config.get_output_dir()) / "build_lib.sh", opt_level or CSIM_OPT_LEVEL)
        hls_model._compile()  # compile() would write build_lib.sh again; _compile() builds and loads it
    except Exception as exc:  # hls4ml raises bare Exception when g++ fails
        raise CandidateFailed(f"C simulation build failed: {error_excerpt(exc)}") from exc


def run_csim(hls_model: Any, x: np.ndarray, y_qkeras: np.ndarray) -> BitExactReport:
    """Run the compiled C simulation on ``x`` and compare with the QKeras outputs."""
    x = _check_io(hls_model, x)
    y_hls = np.asarray(hls_model.predict(x), dtype=np.float64).reshape(x.shape[0], -1)
    return compare_outputs(y_hls, np.asarray(y_qkeras).reshape(x.shape[0], -1))


def csim_check(hls_model: Any, x: np.ndarray, y_qkeras: np.ndarray) -> BitExactReport:
    """Compile the hls4ml project (g++), run its C simulation on ``x`` and compare with QKeras.

    ``x`` (samples, inputs) must be quantized to the input format already; ``y_qkeras`` is
    the QKeras model's output for the same ``x``. Compilation errors raise CandidateFailed
    with the compiler's message excerpted.
    """
    _check_io(hls_model, x)
    build_csim(hls_model)
    return run_csim(hls_model, x, y_qkeras)
