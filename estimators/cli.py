"""``qnas calibrate`` and ``qnas estimate``: the estimator from the command line.

Both parsers are registered without importing anything heavy; the work happens in the
``_calibrate`` / ``_estimate`` functions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qnas.parts import DEFAULT_PART


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "calibrate", help="fit the estimator's coefficients to synthesis results",
        description="Fit the resource/latency estimator to synthesis results and save the coefficients per "
                    "estimator, tool and part; every later estimate for that part uses them. REPORTS are "
                    "ground-truth datasets (*.jsonl from benchmarks/make_ground_truth.py; training split only) "
                    "and/or hls4ml project directories with Vivado/Vitis reports and the trial's spec.json.")
    c.add_argument("reports", nargs="+", metavar="REPORTS")
    c.add_argument("--part", help="part the reports are for (default: what the reports say)")
    c.add_argument("--tool", help="tool name to file the calibration under (default: from the reports)")
    c.add_argument("--out", help="coefficient directory (default: $QNAS_CALIBRATION_DIR or ~/.qnas/calibration)")
    c.add_argument("--include-heldout", action="store_true",
                   help="also fit on the held-out split of datasets (then the accuracy benchmark is no longer honest)")
    c.set_defaults(func=_calibrate)

    e = sub.add_parser("estimate", help="estimate LUT/FF/DSP/BRAM and latency of a spec in milliseconds",
                       description="Estimate resources and latency of a ModelSpec JSON without synthesis.")
    e.add_argument("spec", metavar="SPEC", help="a ModelSpec JSON, a trial folder or a `qnas import` folder")
    e.add_argument("--weights", metavar="W.npz|W.h5",
                   help="trained weights: qnas weights.npz, or a Keras HDF5 file with the spec's layer names "
                        "(sharper estimate; a folder's weights.npz is used by default)")
    e.add_argument("--part", help=f"FPGA part (default {DEFAULT_PART})")
    e.add_argument("--clock-ns", type=float, help="target clock period in ns (default: the part's)")
    e.add_argument("--json", action="store_true", help="print the full ResourceEstimate as JSON")
    from qnas.pipeline import add_pipeline_arguments

    add_pipeline_arguments(e)
    e.set_defaults(func=_estimate)


def _calibrate(args: argparse.Namespace) -> int:
    from .calibration import calibrate

    written = calibrate(args.reports, part=args.part, tool=args.tool, out_dir=args.out,
                        include_heldout=args.include_heldout)
    for path in written:
        data = json.loads(Path(path).read_text())
        cal = data["calibrated_for"]
        print(f"wrote {path} ({data['estimator']}, {cal['tool']} on {cal['part']}, {cal['n_designs']} designs)")
    return 0


def _estimate(args: argparse.Namespace) -> int:
    from qnas.errors import ConfigError
    from qnas.spec import ModelSpec, SpecError
    from qnas.weights import load_weights_file

    from . import estimate

    spec_path, weights_path = Path(args.spec), args.weights
    if spec_path.is_dir():  # a trial folder or one written by `qnas import`
        folder = spec_path
        spec_path = folder / "spec.json"
        if not spec_path.is_file():
            raise ConfigError("SPEC", f"{folder} has no spec.json; give a ModelSpec JSON, a trial folder "
                                      "(runs/<study>/trials/<n>) or a folder written by `qnas import`")
        if weights_path is None and (folder / "weights.npz").is_file():
            weights_path = str(folder / "weights.npz")
    if not spec_path.is_file():
        raise ConfigError("SPEC", f"no spec file at {spec_path}")
    try:
        spec = ModelSpec.from_json(spec_path.read_text())
    except (SpecError, KeyError, ValueError, TypeError, AttributeError, RecursionError, OSError) as exc:
        raise ConfigError("SPEC", f"{spec_path} is not a valid ModelSpec JSON: {type(exc).__name__}: "
                                  f"{str(exc)[:300]}; for a Keras/QKeras model, run `qnas import MODEL --out DIR` "
                                  "first and estimate DIR") from None
    weights = None
    if weights_path:
        try:
            weights = load_weights_file(weights_path, spec)
        except ValueError as exc:
            raise ConfigError("--weights", str(exc)) from None
    from dataclasses import replace

    from qnas.pipeline import pipeline_from_args

    choice = pipeline_from_args(args)
    if choice is not None:  # what `qnas export --adders-per-stage` would build
        spec = replace(spec, pipeline=choice)
    result = estimate(spec, weights=weights, part=args.part, clock_ns=args.clock_ns)
    if args.json:
        print(result.to_json())
        return 0
    print(f"{spec.architecture} on {result.part} @ {result.clock_ns:g} ns  [{result.producer}, {result.tool_version}]")
    print(f"  LUT {result.lut:,.0f}  FF {result.ff:,.0f}  DSP {result.dsp:,.0f}  BRAM18 {result.bram:,.0f}")
    print(f"  latency {result.latency_cycles} cycles = {result.latency_ns:g} ns, II {result.ii_cycles}")
    pipe = result.extra.get("pipeline")
    if pipe:
        print(f"  pipeline cut every {pipe['latency_cutoff']:g} adder levels ("
              + (f"{pipe['rule']}: {pipe[pipe['rule']]:g}" if pipe["stated"] else "the default rule") + ")")
    for layer in result.per_layer:
        print(f"    {layer.name:12s} LUT {layer.lut:9,.0f}  FF {layer.ff:8,.0f}  DSP {layer.dsp:5,.0f}")
    if result.in_calibrated_range is False:
        print("  WARNING: outside the calibrated range")
    for note in result.notes:
        print(f"  note: {note}")
    return 0
