"""``qnas export``, ``qnas synth`` and ``qnas verify``: from a finished study to proven firmware."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from qnas.cli import positive_int
from qnas.errors import FatalError
from qnas.pipeline import add_pipeline_arguments, pipeline_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export trained trials as firmware bundles (hls4ml + RTL + test vectors)",
                       description="Export Pareto-optimal (or chosen) trials of a study as firmware bundles: "
                                   "hls4ml project with a bit-exact C-simulation check, pipelined RTL with a "
                                   "replaying testbench, test vectors and a checksummed manifest.")
    p.add_argument("storage", help="the study (a run directory, a .db file or an Optuna storage URL), or a "
                                   "folder written by `qnas import`")
    which = p.add_mutually_exclusive_group(required=False)
    which.add_argument("--pareto", action="store_true", help="every Pareto-optimal feasible trial")
    which.add_argument("--trial", type=int, action="append", metavar="N", help="trial number (repeatable)")
    p.add_argument("--study", help="study name (needed when the storage holds several)")
    p.add_argument("--out", default="firmware", help="output directory (default: firmware/)")
    p.add_argument("--part", help="FPGA part (default: the study's budget part)")
    p.add_argument("--clock-ns", type=float, help="target clock period (default: the study's)")
    p.add_argument("--backend", choices=("Vitis", "Vivado"), default="Vitis", help="hls4ml backend")
    p.add_argument("--vectors", type=int, default=1000, help="test vectors per bundle (default 1000)")
    p.add_argument("--no-csim", action="store_true", help="skip the hls4ml C simulation")
    p.add_argument("--no-rtl", action="store_true", help="skip RTL generation and simulation")
    add_pipeline_arguments(p)
    p.add_argument("--force", action="store_true",
                   help="replace an existing bundle of the same trial in --out (default: refuse)")
    p.add_argument("--workers", type=positive_int, default=1, metavar="N",
                   help="export N designs at once, one process each (default 1)")
    p.add_argument("--run-dir", metavar="DIR",
                   help="where the study's trials/ are on this machine (default: the run directory the "
                        "study records; give it when the shared folder is mounted elsewhere here)")
    p.set_defaults(func=_export)

    s = sub.add_parser("synth", help="synthesize a firmware bundle (open flow or vendor tools)",
                       description="Synthesize a bundle and record the results beside the estimate: "
                                   "--flow open runs Yosys synth_xilinx and nextpnr-ecp5 (no vendor tools); "
                                   "--flow vitis/vivado runs hls4ml build() where those tools are installed.")
    s.add_argument("bundles", nargs="+", help="bundle directories (firmware/trial_00042 ...)")
    s.add_argument("--flow", choices=("open", "vitis", "vivado"), default="open")
    s.add_argument("--no-ecp5", action="store_true", help="open flow: skip ECP5 place-and-route")
    s.add_argument("--vsynth", action="store_true", help="vendor flow: also run Vivado logic synthesis")
    s.add_argument("--timeout", type=float, default=3600, help="seconds per tool run (default 3600)")
    s.add_argument("--ecp5-timeout", type=float, help="seconds for ECP5 place and route (default: --timeout)")
    s.add_argument("--workers", type=positive_int, default=1, metavar="N",
                   help="synthesize N bundles at once, one process each (default 1)")
    s.set_defaults(func=_synth)

    v = sub.add_parser("verify", help="check a bundle's checksums and replay its testbench",
                       description="Check every file of a bundle against its manifest, then replay the "
                                   "test vectors through the RTL testbench with Verilator.")
    v.add_argument("bundles", nargs="+")
    v.add_argument("--no-testbench", action="store_true", help="checksums only")
    v.set_defaults(func=_verify)


def _export_imported(args: argparse.Namespace, artifacts) -> int:
    """Export a folder written by ``qnas import``: one bundle named after the folder."""
    import json

    from .bundle import export_trial

    if args.pareto or args.trial:
        raise FatalError(f"{args.storage} is an imported model, not a study: drop --pareto/--trial")
    record = json.loads(artifacts.import_record.read_text())
    part = args.part or record.get("part")
    clock_ns = args.clock_ns or record.get("clock_ns")
    name = artifacts.root.resolve().name
    print(f"qnas export: imported model {name} -> {args.out} (part {part}, {clock_ns} ns)")
    res = export_trial(artifacts, args.out, 0, part=part, clock_ns=float(clock_ns), backend=args.backend,
                       n_vectors=args.vectors, csim=not args.no_csim, rtl=not args.no_rtl, name=name,
                       provenance={"imported": str(artifacts.root.resolve()), "source": record.get("source")},
                       force=args.force, pipeline=pipeline_from_args(args))
    return _report_export(name, res)


def _export(args: argparse.Namespace) -> int:
    from nas.storage_url import parse_storage_url
    from qnas._parallel import run_tasks
    from qnas.artifacts import TrialArtifacts

    from .study_access import open_finished_study

    imported = TrialArtifacts(Path(args.storage))
    if imported.is_imported:
        return _export_imported(args, imported)
    if not args.pareto and not args.trial:
        raise FatalError("choose what to export from the study: --pareto or --trial N")
    found = open_finished_study(args.storage, args.study)
    if args.run_dir:
        found.run_dir = Path(args.run_dir).resolve()
    numbers = found.pareto_numbers() if args.pareto else args.trial
    if not numbers:
        raise FatalError(f"study {found.name!r} has no feasible Pareto-optimal trial to export; "
                         "run more trials or relax the budget")
    part = args.part or found.part
    clock_ns = args.clock_ns or found.clock_ns
    print(f"qnas export: {len(numbers)} trial(s) of study {found.name!r} from {found.run_dir} -> {args.out} "
          f"(part {part}, {clock_ns} ns)")
    failed = 0
    jobs = [(TrialArtifacts(found.artifacts_dir(number)), number) for number in numbers]
    options = {"out_dir": args.out, "part": part, "clock_ns": clock_ns, "backend": args.backend,
               "n_vectors": args.vectors, "csim": not args.no_csim, "rtl": not args.no_rtl, "force": args.force,
               "pipeline": pipeline_from_args(args), "study": found.name, "storage": parse_storage_url(found.url).without_password}
    for (_, number), res, error in run_tasks(_export_one, jobs, args.workers, options):
        if error is not None:
            raise error
        failed += _report_export(f"trial {number}", res)
        if res.ok:
            found.record(number, "export", {"bundle": str(res.bundle), "csim": res.csim, "rtl_sim": res.rtl_sim})
    return 1 if failed else 0


def _export_one(job: tuple, *, out_dir: str, study: str, storage: str, **options: Any):
    """One design's export (a pool task: module-level, so a spawned process can run it)."""
    from .bundle import export_trial

    artifacts, number = job
    return export_trial(artifacts, out_dir, number, provenance={"study": study, "storage": storage, "trial": number},
                        **options)


def _report_export(label: str, res) -> int:
    """Print one export's outcome; 1 if it failed."""
    if not res.ok:
        print(f"  {label}: EXPORT FAILED ({res.error.splitlines()[0]}); details in "
              f"{res.bundle / 'FAILED.json'}", file=sys.stderr)
        return 1
    parts = [f"{label}: {res.bundle}"]
    if res.csim and "skipped" in res.csim:
        parts.append("no hls4ml project (see reports/csim.json)")
    elif res.csim:
        parts.append(f"C-sim bit-exact {res.csim['bitexact_rate']:.2%}, argmax {res.csim['argmax_agreement']:.2%}")
    if res.rtl_sim:
        parts.append(f"RTL exact {res.rtl_sim['row_exact_rate']:.2%} of {res.rtl_sim['vectors_checked']} vectors, "
                     f"{res.rtl_sim['design_latency_cycles']} cycles (cut every "
                     f"{res.rtl_sim['latency_cutoff']:g} adder levels)")
    seconds = ", ".join(f"{k[:-2]} {v:.0f} s" for k, v in res.seconds.items())
    print("  " + "; ".join(parts) + (f" ({seconds})" if seconds else ""))
    return 0


def _synth(args: argparse.Namespace) -> int:
    from qnas._parallel import run_tasks

    from .bundle import synthesize_bundle
    from .manifest import read_manifest
    from .study_access import record_synthesis

    bad = 0
    options = {"flow": args.flow, "ecp5": not args.no_ecp5, "timeout_s": args.timeout,
               "ecp5_timeout_s": args.ecp5_timeout, "vsynth": args.vsynth}
    for bundle, results, error in run_tasks(synthesize_bundle, list(args.bundles), args.workers, options):
        if error is not None:
            raise error
        manifest = read_manifest(Path(bundle))
        estimate = manifest["results"].get("estimate_open" if args.flow == "open" else "estimate") or {}
        print(f"{bundle}:")
        print(f"  {'':14s} {'LUT':>9s} {'FF':>9s} {'DSP':>5s} {'cycles':>6s} {'ns':>8s}  producer")
        rows: list[tuple[str, dict[str, Any]]] = [("estimate", estimate)]
        rows += [(name, r.to_dict()) for name, r in results.items()]
        for name, r in rows:
            if not r:
                continue
            print(f"  {name:14s} {r['lut']:9.0f} {r['ff']:9.0f} {r['dsp']:5.0f} {r['latency_cycles']:6d} "
                  f"{r['latency_ns']:8.1f}  {r['producer']}"
                  + (f" (Fmax {r['fmax_mhz']:.0f} MHz)" if r.get("fmax_mhz") else ""))
        for name, r in results.items():
            if r.timing is not None and r.timing.warning:
                print(f"  WARNING {name}: {r.timing.warning} [{r.timing.basis}]")
        failed = {n: e["error"] for n, e in manifest["results"]["synthesis"].items() if "error" in e}
        for name, error in failed.items():
            print(f"  {name:14s} FAILED: {error.splitlines()[0]}")
            bad += name not in results
        record_synthesis(manifest, results)
    return 1 if bad else 0


def _verify(args: argparse.Namespace) -> int:
    from .bundle import verify_bundle

    bad = 0
    for bundle in args.bundles:
        try:
            result = verify_bundle(bundle, testbench=not args.no_testbench)
        except FatalError as exc:  # no manifest, a corrupt one, a failed export: this bundle fails
            bad += 1
            print(f"{bundle}: FAILED\n  - {exc}", file=sys.stderr)
            continue
        if result.ok:
            tb = result.testbench
            extra = f"; testbench {tb['checked']} vectors, 0 mismatches" if tb else ""
            print(f"{bundle}: OK (all checksums match{extra})")
        else:
            bad += 1
            print(f"{bundle}: FAILED", file=sys.stderr)
            for problem in result.problems:
                print(f"  - {problem}", file=sys.stderr)
    return 1 if bad else 0
