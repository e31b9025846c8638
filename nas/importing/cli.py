"""``qnas import``: a trained Keras/QKeras model -> a folder that estimate/export/synth/verify take."""

from __future__ import annotations

import argparse

from qnas.cli import positive_int
from qnas.pipeline import add_pipeline_arguments, pipeline_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import", help="import a trained QKeras/Keras model (estimate, export and synthesize it like a trial)",
        description="Map a trained QKeras (or float Keras, with --quantize) dense network to a qnas spec, rebuild "
                    "it with qnas's layer names and the user's weights, check that the rebuilt model equals the "
                    "original bit for bit on test vectors, and write a folder that `qnas estimate`, `qnas export` "
                    "and a study's `baselines:` accept.")
    p.add_argument("model", metavar="MODEL", help="MODEL.json (with --weights), MODEL.h5, a SavedModel directory "
                                                  "or a tf-keras MODEL.keras")
    p.add_argument("--weights", metavar="WEIGHTS.h5", help="HDF5 weights for a JSON architecture")
    p.add_argument("--input-precision", metavar="TYPE",
                   help="format the firmware receives, e.g. 'ap_fixed<16,6>' (needed when the model has no "
                        "input quantizer)")
    p.add_argument("--quantize", metavar="TYPE",
                   help="post-training quantization of a float model: weights and biases to TYPE (e.g. "
                        "'ap_fixed<8,3>'), ReLU outputs to the unsigned type of the same width")
    p.add_argument("--calibration-data", metavar="DATASET",
                   help="dataset name (e.g. jets) or file: test vectors and the accuracy before/after quantization")
    p.add_argument("--vectors", type=positive_int, default=1000, help="test vectors to keep (default 1000)")
    p.add_argument("--part", help="FPGA part for the estimate and export (default xcvu13p-flga2577-2-e)")
    p.add_argument("--clock-ns", type=float, help="target clock period (default: the part's)")
    p.add_argument("--seed", type=int, default=0, help="seed for random test vectors and data splits")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write (e.g. imported/tagger)")
    p.add_argument("--force", action="store_true", help="replace an existing --out folder")
    add_pipeline_arguments(p)
    p.set_defaults(func=_import)


def _import(args: argparse.Namespace) -> int:
    from .core import import_model

    import_model(args.model, args.out, weights_path=args.weights, input_precision=args.input_precision,
                 quantize=args.quantize, calibration_data=args.calibration_data, n_vectors=args.vectors,
                 seed=args.seed, part=args.part, clock_ns=args.clock_ns, force=args.force,
                 pipeline=pipeline_from_args(args))
    return 0
