"""``qnas report`` and ``qnas dashboard``: argument parsing and what each command prints.

Both take what ``qnas export`` takes (a run directory, a .db file or an Optuna storage URL)
and ``--study``; a storage that holds several studies gets them listed instead of a crash.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path

from qnas.errors import FatalError

__all__ = ["register"]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("storage", help="the study: a run directory (runs/<name>/), a .db file or an Optuna storage URL")
    p.add_argument("--study", help="study name (needed when the storage holds several)")
    p.add_argument("--bundles", action="append", default=[], metavar="DIR",
                   help="folder of firmware bundles (firmware/) to read synthesis results from; repeatable. "
                        "Bundles recorded by `qnas export` in the study are found without it")
    p.add_argument("--reference", action="append", default=[], metavar="FILE",
                   help="reference designs or peer fronts to draw (JSON/YAML: 'references:' list, or "
                        "'fronts.<name>.points' as benchmarks/pareto_vs_peers.py writes); repeatable. "
                        "Added to the study file's 'references:'")


def register(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("report", help="write a self-contained HTML report of a study (and PNG figures)",
                       description="Write RUN_DIR/report.html: the Pareto front with budget and reference "
                                   "designs, estimate vs synthesis, search progress and a trial table, in one "
                                   "file that opens offline. --png also writes each figure as a PNG.")
    _common(r)
    r.add_argument("--out", help="report file (default: <run dir>/report.html, or ./<study>-report.html)")
    r.add_argument("--png", metavar="DIR", help="also write the figures as PNG files into DIR")
    r.add_argument("--axes", metavar="X,Y", help="the first 2-D front's axes, e.g. lut,accuracy (default)")
    r.set_defaults(func=_report)

    d = sub.add_parser("dashboard", help="serve a live, read-only dashboard of a (running) study",
                       description="Serve the report's views on http://HOST:PORT, refreshing as trials finish "
                                   "(in this or another process sharing the storage). Read-only on the storage.")
    _common(d)
    d.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    d.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only); any other needs --allow-remote")
    d.add_argument("--allow-remote", action="store_true",
                   help="allow binding a non-loopback address (anyone who reaches it sees the study)")
    d.add_argument("--refresh", type=float, default=5.0, help="seconds between storage polls (default 5)")
    d.set_defaults(func=_dashboard)


def _open(args: argparse.Namespace):
    from .data import RunSource, SeveralStudies
    try:
        return RunSource(args.storage, args.study, bundles=args.bundles, references=args.reference)
    except SeveralStudies as exc:
        listing = "\n".join(f"  {name}" for name in exc.names)
        raise FatalError(f"{exc.url} holds {len(exc.names)} studies:\n{listing}\nchoose one with --study NAME, "
                         f"e.g. qnas {args.command} {args.storage} --study {exc.names[0]}") from None


def _axes(text: str | None, run) -> tuple[str, str] | None:
    if not text:
        return None
    parts = [p.strip() for p in text.split(",")]
    known = [m for m, _ in run.objectives] + ["ff", "dsp", "n_params", "latency_cycles"]
    if len(parts) != 2 or any(p not in known for p in parts):
        raise FatalError(f"--axes must be two of {', '.join(dict.fromkeys(known))} separated by a comma; got {text!r}")
    return parts[0], parts[1]


def _report(args: argparse.Namespace) -> int:
    from .static import write_pngs, write_report
    run = _open(args).load()
    out = Path(args.out) if args.out else (run.run_dir / "report.html" if run.run_dir and run.run_dir.is_dir()
                                           else Path(f"{run.name}-report.html"))
    path = write_report(run, out, _axes(args.axes, run))
    size = path.stat().st_size / 1e6
    print(f"qnas report: {len(run.rows)} trials, {len(run.pareto)} Pareto designs, {len(run.synthesis)} synthesized, "
          f"{len(run.references)} reference designs -> {path} ({size:.1f} MB, opens offline)")
    for note in run.notes:
        print(f"  note: {note}")
    if args.png:
        paths = write_pngs(run, args.png)
        print(f"qnas report: {len(paths)} PNG figures -> {args.png}")
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _dashboard(args: argparse.Namespace) -> int:
    if not _is_loopback(args.host):
        if not args.allow_remote:
            raise FatalError(f"--host {args.host} would publish the study beyond this machine; add --allow-remote "
                             "if that is intended (or keep the default 127.0.0.1 and use an SSH tunnel)")
        print(f"qnas dashboard: WARNING: serving on {args.host}:{args.port}, reachable from other machines; the "
              "dashboard has no authentication", file=sys.stderr)
    if args.refresh <= 0:
        raise FatalError(f"--refresh must be a positive number of seconds; got {args.refresh}")
    from .live import create_app
    source = _open(args)
    app = create_app(source, refresh_s=args.refresh)
    print(f"qnas dashboard: study {source.study.study_name!r} on http://{args.host}:{args.port}/ "
          f"(read-only; refresh {args.refresh:g} s; Ctrl-C stops)", flush=True)
    import logging
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app.run(host=args.host, port=args.port, debug=False)
    return 0
