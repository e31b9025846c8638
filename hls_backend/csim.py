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


#: Where compiled C-simulation libraries are kept for reuse, keyed by the hash of everything
#: the compiler reads (``$QNAS_CSIM_CACHE`` moves it; ``off`` disables it).
CSIM_CACHE_ENV = "QNAS_CSIM_CACHE"
#: libraries kept (the newest by use); one is ~6 MB for a 46k-LUT tagger at -O0
CSIM_CACHE_ENTRIES = 32
SPLIT_DIR = "qnas_csim"

_GENERATED = re.compile(r"^template <typename inp_t, typename out_t>\s*\nvoid (\w+)\(inp_t \w+\[\d+\], out_t",
                        re.MULTILINE)
_CALL = re.compile(r"nnet::(\w+)<\s*(\w+)\s*,\s*(\w+)\s*>\(")
_COMPILE_LINE = re.compile(r'^\$\{CC\} \$\{CFLAGS\} \$\{INCFLAGS\} -D WEIGHTS_DIR="\$\{WEIGHTS_DIR\}" '
                           r'-c firmware/\$\{PROJECT\}\.cpp -o \$\{PROJECT\}\.o\n', re.MULTILINE)
_LINK_LINE = re.compile(r"^\$\{CC\} \$\{CFLAGS\} \$\{INCFLAGS\} -shared \$\{PROJECT\}\.o \$\{PROJECT\}_bridge\.o ",
                        re.MULTILINE)


def split_translation_units(project: Path, jobs: int) -> int:
    """Compile the generated layer functions in ``jobs`` translation units side by side.

    hls4ml writes every distributed-arithmetic layer as a function template in
    ``nnet_code_gen.h`` (thousands of ap_fixed statements) and instantiates all of them in
    ``myproject.cpp``: one g++ process, nearly all of it C++ front-end work (overload
    resolution and template instantiation of the ap_fixed operators). Here each layer is
    explicitly instantiated in its own file under ``qnas_csim/`` (grouped into ``jobs``
    files balanced by size), ``myproject.cpp`` is compiled unchanged behind ``extern
    template`` declarations, and ``build_lib.sh`` runs the compilers in parallel and links
    them all. The code and flags are hls4ml's own, so the library computes the same values;
    the C simulation's bit-exact check proves it on every export. Returns the number of
    translation units (0: nothing to split, the script is left as hls4ml wrote it).
    """
    script, top = project / "build_lib.sh", project / "firmware" / "myproject.cpp"
    code_gen = project / "firmware" / "nnet_utils" / "nnet_code_gen.h"
    if jobs < 2 or not (script.exists() and top.exists() and code_gen.exists()):
        return 0
    text = code_gen.read_text()
    starts = [(m.start(), m.group(1)) for m in _GENERATED.finditer(text)]
    defined = {name for _, name in starts}
    calls = [(name, a, b) for name, a, b in _CALL.findall(top.read_text()) if name in defined]
    build = script.read_text()
    if len(calls) < 2 or len({c[0] for c in calls}) != len(calls) or not _COMPILE_LINE.search(build) \
            or not _LINK_LINE.search(build):
        return 0
    size = {name: end - start for (start, name), (end, _) in zip(starts, starts[1:] + [(len(text), "")])}
    groups: list[list[tuple[str, str, str]]] = [[] for _ in range(min(jobs, len(calls)))]
    for call in sorted(calls, key=lambda c: -size[c[0]]):  # largest first into the lightest group
        min(groups, key=lambda g: sum(size[c[0]] for c in g)).append(call)
    out = project / SPLIT_DIR
    out.mkdir(exist_ok=True)
    head = '#include "../firmware/myproject.h"\n#include "../firmware/parameters.h"\n'
    decl = "template void nnet::{0}<{1}, {2}>({1}*, {2}*);\n"
    for i, group in enumerate(groups):
        (out / f"part{i}.cpp").write_text("// qnas: explicit instantiation of generated layers (see hls_backend/csim.py)\n"
                                          + head + "".join(decl.format(*c) for c in group))
    (out / "top.cpp").write_text("// qnas: myproject.cpp with its generated layers compiled in part*.cpp\n" + head
                                 + "".join("extern " + decl.format(*c) for c in calls)
                                 + '#include "../firmware/myproject.cpp"\n')
    flags = '${CC} ${CFLAGS} ${INCFLAGS} -D WEIGHTS_DIR="${WEIGHTS_DIR}"'
    lines = [f"{flags} -c {SPLIT_DIR}/top.cpp -o ${{PROJECT}}.o & pids=$!"]
    lines += [f"{flags} -c {SPLIT_DIR}/part{i}.cpp -o qnas_part{i}.o & pids=\"$pids $!\"" for i in range(len(groups))]
    lines.append("for pid in $pids; do wait $pid || exit 1; done")
    build = _COMPILE_LINE.sub(lambda _: "\n".join(lines) + "\n", build, count=1)
    parts = " ".join(f"qnas_part{i}.o" for i in range(len(groups)))
    build = _LINK_LINE.sub(lambda m: m.group(0).replace("${PROJECT}.o ", f"${{PROJECT}}.o {parts} ", 1), build, count=1)
    script.write_text(build)
    return len(groups) + 1


def _cache_dir() -> Path | None:
    import os

    where = os.environ.get(CSIM_CACHE_ENV, "")
    if where.lower() in ("off", "0", "none", "false"):
        return None
    return Path(where) if where else Path.home() / ".cache" / "qnas" / "csim"


def library_key(project: Path) -> str | None:
    """Hash of everything g++ reads to build the library, or None when it must not be reused.

    The sources (``firmware/``, the bridge, ``qnas_csim/``), the build script without its
    random library stamp, and the compiler's version. A project that loads weights from
    text files at run time (``load_weights_from_txt``) bakes its own directory into the
    library, so it is never reused from elsewhere.
    """
    import hashlib
    import subprocess

    top = project / "firmware" / "myproject.cpp"
    if not top.exists() or "load_weights_from_txt" in top.read_text():
        return None
    digest = hashlib.sha256()
    try:
        version = subprocess.run(["g++", "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    digest.update(version.encode())
    script = re.sub(r"^LIB_STAMP=.*$", "", (project / "build_lib.sh").read_text(), flags=re.MULTILINE)
    digest.update(script.encode())
    files = [p for d in ("firmware", SPLIT_DIR) for p in sorted((project / d).rglob("*"))
             if p.is_file() and p.suffix in (".h", ".hpp", ".cpp", ".cc", ".txt")]
    for path in [project / "myproject_bridge.cpp", *files]:
        if path.exists():
            digest.update(str(path.relative_to(project)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _library_path(hls_model: Any) -> Path:
    config = hls_model.config
    return (Path(config.get_output_dir()) / "firmware"
            / f"{config.get_project_name()}-{config.get_config_value('Stamp')}.so")


def _load_cached(hls_model: Any, cached: Path) -> bool:
    """Put a cached library where hls4ml would have built it and load it (False: not possible)."""
    import ctypes
    import shutil

    if getattr(hls_model, "_top_function_lib", None) is not None:
        return False  # already loaded once: let hls4ml's own _compile() swap it
    target = _library_path(hls_model)
    shutil.copyfile(cached, target)
    hls_model._top_function_lib = ctypes.cdll.LoadLibrary(str(target))
    return True


def _store(cached: Path, built: Path) -> None:
    import os
    import shutil

    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
    shutil.copyfile(built, tmp)
    os.replace(tmp, cached)
    entries = sorted(cached.parent.glob("*.so"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[CSIM_CACHE_ENTRIES:]:
        old.unlink(missing_ok=True)


def build_csim(hls_model: Any, opt_level: str | None = None, *, jobs: int = 1,
               cache: bool = True) -> dict[str, Any]:
    """Write and compile the hls4ml project's C-simulation library (g++), and load it.

    Separate from :func:`run_csim` so that an export can compile it while the RTL is being
    generated and simulated. With ``jobs`` > 1 the generated layers compile in parallel
    (:func:`split_translation_units`). With ``cache`` a library built before from the very
    same sources, script and compiler (:func:`library_key`) is reused instead of compiled
    (``$QNAS_CSIM_CACHE``, default ``~/.cache/qnas/csim``; ``off`` disables it); the C
    simulation then still runs and is compared value by value. Compilation errors raise
    CandidateFailed with the compiler's message excerpted. Returns how it was built
    (``translation_units``, ``cache``: ``hit``/``miss``/``off``).
    """
    info: dict[str, Any] = {"translation_units": 1, "cache": "off"}
    try:
        hls_model.write()
        project = Path(hls_model.config.get_output_dir())
        _set_optimisation(project / "build_lib.sh", opt_level or CSIM_OPT_LEVEL)
        info["translation_units"] = split_translation_units(project, jobs) or 1
        where = _cache_dir() if cache else None
        key = library_key(project) if where is not None else None
        cached = where / f"{key}.so" if key else None
        if cached is not None and cached.exists():
            try:
                if _load_cached(hls_model, cached):
                    import os

                    os.utime(cached)
                    info["cache"] = "hit"
                    return info
            except OSError:
                pass  # unreadable or damaged entry: build it
        hls_model._compile()  # compile() would write build_lib.sh again; _compile() builds and loads it
        if cached is not None:
            info["cache"] = "miss"
            try:
                _store(cached, _library_path(hls_model))
            except OSError:
                info["cache"] = "miss (not stored)"
    except CandidateFailed:
        raise
    except Exception as exc:  # hls4ml raises bare Exception when g++ fails
        raise CandidateFailed(f"C simulation build failed: {error_excerpt(exc)}") from exc
    return info


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
