"""``qnas data``: generate the jet and anomaly datasets (``make-jets``, ``make-anomaly``) and describe a dataset (``info``).

Only argparse here; Pythia, FastJet and pandas are imported when a command runs.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from qnas.cli import int_at_least, positive_int


_seed = int_at_least(0)


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("data", help="generate or inspect datasets (jets, anomaly)",
                                   description="Dataset tools: Pythia 8 jet generation and dataset summaries.")
    sub = parser.add_subparsers(dest="data_command", metavar="DATA_COMMAND")

    make = sub.add_parser(
        "make-jets", help="generate jet-tagging data with Pythia 8 + FastJet (extra: physics)",
        description="Generate balanced g/q/t/w/z jets (pp at 13 TeV, anti-kT R=0.8, pT window "
                    "around 1 TeV) with the 16 features of OpenML 42468. Seeded and reproducible: "
                    "the same command gives the same bytes whatever --workers is. Interrupted runs "
                    "resume from <out>.chunks/. Writes <out> (.npz, .parquet or .csv) and a sidecar "
                    "<out without suffix>.json with the command, seeds and versions.")
    make.add_argument("--n-jets", type=positive_int, required=True, metavar="N",
                      help="total jets, split evenly over the five classes")
    make.add_argument("--seed", type=_seed, default=0, metavar="S", help="run seed (default 0)")
    make.add_argument("--out", required=True, metavar="PATH", help="output file: .npz, .parquet or .csv")
    make.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1, metavar="K",
                      help="parallel processes (default: all cores); does not change the output")
    make.add_argument("--chunk-size", type=positive_int, default=1000, metavar="N",
                      help="jets per checkpointed chunk (default 1000); part of the run's identity")
    make.add_argument("--pt-min", type=float, default=800.0, metavar="GEV", help="jet pT window low edge (800)")
    make.add_argument("--pt-max", type=float, default=1200.0, metavar="GEV", help="jet pT window high edge (1200)")
    make.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")
    make.set_defaults(func=make_jets_command)

    anomaly = sub.add_parser(
        "make-anomaly", help="generate L1 anomaly-detection events with Pythia 8 (extra: physics)",
        description="Generate the SM background mixture (W, QCD, Z, ttbar with ADC2021's fractions) "
                    "and four signals (A->4l, LQ->b tau, h->tau tau, H+->tau nu) through a simple "
                    "L1 detector response, as 57 L1 integers per event (MET, 4 e/gamma, 4 muons, "
                    "10 jets). Seeded and reproducible: the same command gives the same bytes "
                    "whatever --workers is. Interrupted runs resume from <out>.chunks/. Writes "
                    "<out>.npz and a sidecar <out without suffix>.json. See nas/datasets/anomaly/.")
    anomaly.add_argument("--n-background", type=positive_int, required=True, metavar="N",
                         help="SM events in total, split by the mixture fractions")
    anomaly.add_argument("--n-signal", type=positive_int, required=True, metavar="N",
                         help="events of each signal")
    anomaly.add_argument("--seed", type=_seed, default=0, metavar="S", help="run seed (default 0)")
    anomaly.add_argument("--out", required=True, metavar="PATH", help="output .npz")
    anomaly.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1, metavar="K",
                         help="parallel processes (default: all cores); does not change the output")
    anomaly.add_argument("--chunk-size", type=positive_int, default=2000, metavar="N",
                         help="events per checkpointed chunk (default 2000); part of the run's identity")
    anomaly.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")
    anomaly.set_defaults(func=make_anomaly_command)

    info = sub.add_parser("info", help="summarise a dataset: a registered name or a data file",
                          description="Load a dataset (by registered name, or a CSV/Parquet/NPZ/HDF5 "
                                      "file with a 'class' label column) and print its splits, "
                                      "features and class balance.")
    info.add_argument("dataset", metavar="NAME_OR_FILE", help="e.g. jets, jets-openml, digits, data.parquet")
    info.add_argument("--label", default="class", metavar="COLUMN",
                      help="label column when DATASET is a file (default: class)")
    info.add_argument("--seed", type=_seed, default=0, metavar="S")
    info.set_defaults(func=info_command)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])
    return parser


def make_jets_command(args: argparse.Namespace) -> int:
    from qnas.errors import ConfigError

    from .jets.generate import make_jets
    from .jets.pythia_gen import JetCuts
    if not 0 < args.pt_min < args.pt_max:
        raise ConfigError("--pt-min/--pt-max", f"need 0 < pt-min < pt-max; got {args.pt_min}, {args.pt_max}")
    command = "qnas data make-jets " + " ".join(shlex.quote(a) for a in sys.argv[3:]) \
        if sys.argv[1:3] == ["data", "make-jets"] else None
    cuts = JetCuts(pt_min=args.pt_min, pt_max=args.pt_max)
    sidecar = make_jets(args.out, args.n_jets, seed=args.seed, workers=args.workers,
                        chunk_size=args.chunk_size, cuts=cuts, progress=not args.no_progress,
                        command=command)
    print(f"wrote {sidecar['n_jets']} jets to {args.out} "
          f"({sidecar['worker_seconds_all_chunks']:.0f} worker-seconds over all chunks)")
    return 0


def make_anomaly_command(args: argparse.Namespace) -> int:
    from .anomaly.generate import make_anomaly
    command = "qnas data make-anomaly " + " ".join(shlex.quote(a) for a in sys.argv[3:]) \
        if sys.argv[1:3] == ["data", "make-anomaly"] else None
    sidecar = make_anomaly(args.out, args.n_background, args.n_signal, seed=args.seed,
                           workers=args.workers, chunk_size=args.chunk_size,
                           progress=not args.no_progress, command=command)
    print(f"wrote {sidecar['n_events']} events to {args.out} "
          f"({sidecar['worker_seconds_all_chunks']:.0f} worker-seconds over all chunks)")
    return 0


def info_command(args: argparse.Namespace) -> int:
    import numpy as np

    from . import load_dataset
    if os.path.exists(args.dataset):
        ds = load_dataset("file", {"path": args.dataset, "label": args.label}, args.seed)
    else:
        ds = load_dataset(args.dataset, {}, args.seed)
    print(f"dataset {ds.name!r} ({ds.task}): {ds.n_features} features, "
          f"train/val/test = {len(ds.x_train)}/{len(ds.x_val)}/{len(ds.x_test)}")
    print("features: " + ", ".join(ds.feature_names))
    if ds.class_names and ds.y_train is not None:
        counts = np.bincount(ds.y_train, minlength=ds.n_classes)
        print("train classes: " + ", ".join(f"{c}={n}" for c, n in zip(ds.class_names, counts)))
    for key, value in dict(ds.provenance).items():
        print(f"  {key}: {value}")
    return 0
