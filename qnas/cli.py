"""The ``qnas`` command line: one registry of sub-commands, each defined by its package.

Each entry names a light module that has ``register(subparsers)``, which adds its parser
and sets ``func``; heavy imports happen inside ``func``, so ``qnas --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .errors import QnasError

#: sub-command modules, in the order ``--help`` lists them
COMMANDS: tuple[str, ...] = (
    "nas.cli",            # run
    "nas.importing.cli",  # import
    "hls_backend.cli",    # export, synth, verify
    "estimators.cli",     # calibrate, estimate
    "nas.datasets.cli",   # data make-jets / data info
    "studies.dashboard.cli",  # report, dashboard
)


def int_at_least(low: int):
    """argparse type for whole numbers >= ``low`` (counts, seeds), with one message shape."""
    what = "a positive integer" if low == 1 else f"an integer >= {low}" if low else "a non-negative integer"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}; got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be {what}; got {value}")
        return value

    return parse


positive_int = int_at_least(1)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qnas",
        description="Quantization-aware neural architecture search for FPGAs "
                    "(Optuna x QKeras x hls4ml, with estimation and open synthesis).",
    )
    parser.add_argument("--version", action="version", version=f"qnas {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def _version() -> str:
    from . import __version__
    return __version__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except QnasError as exc:
        print(f"qnas {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"qnas {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
