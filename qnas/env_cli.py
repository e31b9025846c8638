"""``qnas env``: create (or locate) the isolated environment of a toolset ahead of time.

A study whose family needs one (``search_space.family: hgq2_mlp``) creates it on first use;
running ``qnas env hgq2`` first moves those minutes (and the download) out of the study.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    from .isolated_env import ENV_DIR_VAR, TOOLSETS

    p = sub.add_parser("env", help="create or locate an isolated toolset environment (e.g. hgq2)",
                       description=__doc__.split("\n\n")[0] + " Toolsets: "
                       + "; ".join(f"{t.name}: {t.about}" for t in TOOLSETS.values()))
    p.add_argument("toolset", nargs="?", choices=sorted(TOOLSETS), help="toolset to create (omit with --list)")
    p.add_argument("--list", action="store_true", help="list toolsets, their pins and whether they are ready")
    p.add_argument("--dir", default=None, help=f"directory holding the environments (default ${ENV_DIR_VAR} "
                                               "or ~/.cache/qnas/envs)")
    p.add_argument("--python", default=None, help="interpreter to build the venv from (default: this one)")
    p.add_argument("--quiet", action="store_true", help="do not stream pip's output")
    p.add_argument("--pip-arg", action="append", default=[], metavar="ARG",
                   help="extra argument for pip install (repeatable), e.g. --pip-arg=--index-url=URL")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .errors import ConfigError
    from .isolated_env import TOOLSETS, ensure_env, env_root, find_env

    if args.list or not args.toolset:
        for name, ts in sorted(TOOLSETS.items()):
            env = find_env(name, args.dir)
            state = f"ready: {env.path}" if env else f"not created (would be {env_root(args.dir) / ts.dirname})"
            print(f"{name}: {' '.join(ts.pins)}\n  {state}")
        if not args.list and not args.toolset:
            raise ConfigError("toolset", f"name one of {', '.join(sorted(TOOLSETS))} (or pass --list)")
        return 0
    env = ensure_env(args.toolset, args.dir, python=args.python, progress=not args.quiet,
                     pip_args=tuple(args.pip_arg))
    print(env.python)
    return 0
