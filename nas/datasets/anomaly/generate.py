"""``qnas data make-anomaly``: Pythia chunks of every process in parallel, checkpointed, in order.

The same three reproducibility rules as ``make-jets`` (:mod:`nas.datasets.jets.generate`):

1. A chunk is (process, chunk index, number of events); its seed comes from the run seed, the
   process and the chunk index only (``chunk_seed``), never from the worker or the time.
2. A chunk keeps the FIRST n accepted events of its stream (and event k's detector smearing
   is seeded by (chunk seed, k)), so a short chunk is the prefix of a longer one.
3. The output is assembled in canonical order (PROCESSES order, then chunk index), whatever
   order the workers finished in.

Chunks are checkpointed as ``<out>.chunks/<process>_<index>_<n>.npz`` (atomic rename); an
interrupted run resumes, and a checkpoint directory made with other settings is refused.
The L1 integers are exact int16 values, so the file is bit-for-bit the same for the same
command, seed, chunk size, detector response and package versions, whatever ``--workers``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from qnas.errors import ConfigError, DataError

from .detector import INPUT_NAMES, N_INPUTS, L1Response
from .processes import (BACKGROUND_FRACTIONS, FILTER_PT_GEV, FILTERED, PROCESSES, SIGNALS,
                        background_counts, pythia_settings)

#: bump when anything that changes a chunk's content changes (settings, detector, encoding)
GENERATOR_VERSION = 1
L1_COLUMN = "l1"
PROCESS_COLUMN = "process"


@dataclass(frozen=True)
class ChunkSpec:
    process: str
    index: int
    n_events: int
    seed: int

    @property
    def filename(self) -> str:
        return f"{self.process}_{self.index:04d}_{self.n_events}.npz"


def chunk_seed(seed: int, process: str, index: int) -> int:
    """Pythia seed of chunk ``index`` of ``process`` (Pythia accepts 1..900000000)."""
    state = np.random.SeedSequence(entropy=seed, spawn_key=(1000 + PROCESSES.index(process), index))
    return int(state.generate_state(1, np.uint32)[0]) % 900_000_000 + 1


def events_per_process(n_background: int, n_signal: int) -> dict[str, int]:
    """The SM mixture (ADC2021 fractions) and ``n_signal`` events of every signal."""
    return {**background_counts(n_background), **{s: n_signal for s in SIGNALS}}


def plan_chunks(n_background: int, n_signal: int, seed: int, chunk_size: int) -> list[ChunkSpec]:
    """Every chunk of a run, in canonical (output) order."""
    out = []
    for process, n in events_per_process(n_background, n_signal).items():
        for index, start in enumerate(range(0, n, chunk_size)):
            out.append(ChunkSpec(process, index, min(chunk_size, n - start), chunk_seed(seed, process, index)))
    return out


def _execution_order(chunks: Sequence[ChunkSpec]) -> list[ChunkSpec]:
    """Round-robin over processes, so an interrupted run has every process started."""
    return sorted(chunks, key=lambda c: (c.index, PROCESSES.index(c.process)))


def versions() -> dict[str, str]:
    """Everything a chunk's bytes depend on besides the seed and the detector response."""
    from nas.datasets.jets.generate import _package_version
    return {"qnas": _package_version("qnas"), "generator": str(GENERATOR_VERSION),
            "pythia8mc": _package_version("pythia8mc"), "fastjet": _package_version("fastjet"),
            "numpy": np.__version__, "python": platform.python_version(), "machine": platform.machine()}


def _run_chunk(args: tuple[ChunkSpec, L1Response, str]) -> tuple[ChunkSpec, dict[str, Any]]:
    """Worker: generate one chunk and checkpoint it (atomic rename)."""
    from .pythia_gen import generate_chunk
    spec, response, chunk_dir = args
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.time()
    rows, stats = generate_chunk(spec.process, spec.seed, spec.n_events, response)
    info = {**stats.as_dict(), "seconds": round(time.time() - t0, 2)}
    path = Path(chunk_dir) / spec.filename
    tmp = path.with_suffix(f".tmp{os.getpid()}.npz")
    np.savez(tmp, rows=rows, info=json.dumps(info))
    os.replace(tmp, path)
    return spec, info


def _check_checkpoints(chunk_dir: Path, identity: dict[str, Any]) -> None:
    ident_file = chunk_dir / "plan.json"
    if ident_file.is_file():
        old = json.loads(ident_file.read_text())
        if old != identity:
            diff = sorted(k for k in set(old) | set(identity) if old.get(k) != identity.get(k))
            raise DataError(f"{chunk_dir} holds chunks made with other settings ({', '.join(diff)} "
                            "differ); delete that directory or rerun with the same seed, chunk size, "
                            "detector response and package versions")
    else:
        chunk_dir.mkdir(parents=True, exist_ok=True)
        ident_file.write_text(json.dumps(identity, indent=1, sort_keys=True))


def load_chunk(chunk_dir: Path, spec: ChunkSpec) -> tuple[np.ndarray, dict[str, Any]]:
    with np.load(chunk_dir / spec.filename) as f:
        return f["rows"], json.loads(str(f["info"]))


def make_anomaly(out: str | os.PathLike, n_background: int, n_signal: int, seed: int = 0,
                 workers: int = 1, chunk_size: int = 2000, response: L1Response = L1Response(),
                 progress: bool = True, command: str | None = None) -> dict[str, Any]:
    """Generate the SM mixture and the signals to ``out`` (.npz) plus ``<out stem>.json``; return it.

    The .npz holds ``l1`` (n, 57) int16 L1 integers (:data:`INPUT_NAMES` order) and
    ``process`` (n,) process names; the sidecar records the command, seeds, Pythia settings,
    detector response, chunk table (with filter statistics) and versions.
    """
    if n_background < 1:
        raise ConfigError("--n-background", f"must be >= 1 (below ~340 the 0.3 % ttbar part is empty); got {n_background}")
    if n_signal < 1:
        raise ConfigError("--n-signal", f"must be >= 1; got {n_signal}")
    if chunk_size < 1:
        raise ConfigError("--chunk-size", f"must be >= 1; got {chunk_size}")
    if workers < 1:
        raise ConfigError("--workers", f"must be >= 1; got {workers}")
    out = Path(out)
    if out.suffix.lower() != ".npz":
        raise ConfigError("--out", f"unsupported suffix {out.suffix!r}; use .npz")
    out.parent.mkdir(parents=True, exist_ok=True)
    vers = versions()
    identity = {"seed": seed, "chunk_size": chunk_size, "response": asdict(response), "versions": vers}
    chunk_dir = Path(str(out) + ".chunks")
    _check_checkpoints(chunk_dir, identity)
    chunks = plan_chunks(n_background, n_signal, seed, chunk_size)
    todo = [c for c in _execution_order(chunks) if not (chunk_dir / c.filename).is_file()]
    total = sum(c.n_events for c in chunks)
    t0 = time.time()
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=total, initial=total - sum(c.n_events for c in todo), unit="ev",
                   desc="make-anomaly", smoothing=0.05)
    tasks = [(c, response, str(chunk_dir)) for c in todo]
    try:
        if workers == 1 or len(tasks) <= 1:
            for task in tasks:
                spec, _ = _run_chunk(task)
                if bar:
                    bar.update(spec.n_events)
        else:
            import multiprocessing as mp
            with mp.get_context("spawn").Pool(min(workers, len(tasks))) as pool:
                for spec, _ in pool.imap_unordered(_run_chunk, tasks):
                    if bar:
                        bar.update(spec.n_events)
    finally:
        if bar:
            bar.close()
    wall = time.time() - t0
    rows, labels, table = [], [], []
    offset = 0
    for spec in chunks:
        r, info = load_chunk(chunk_dir, spec)
        if r.shape != (spec.n_events, N_INPUTS):
            raise DataError(f"chunk {spec.filename} has shape {r.shape}, expected ({spec.n_events}, {N_INPUTS})")
        rows.append(r)
        labels += [spec.process] * len(r)
        table.append({**asdict(spec), "offset": offset, **info})
        offset += len(r)
    l1 = np.concatenate(rows).astype(np.int16)
    tmp = out.with_name(out.name + ".tmp.npz")
    np.savez_compressed(tmp, **{L1_COLUMN: l1, PROCESS_COLUMN: np.asarray(labels, dtype="<U8")})
    os.replace(tmp, out)
    per_process: dict[str, dict[str, Any]] = {}
    for t in table:
        agg = per_process.setdefault(t["process"], {"kept": 0, "events": 0, "seconds": 0.0})
        agg["kept"] += t["n_events"]
        agg["events"] += t["events"]
        agg["seconds"] = round(agg["seconds"] + t["seconds"], 2)
    for agg in per_process.values():
        agg["filter_efficiency"] = round(agg["kept"] / max(agg["events"], 1), 5)
    sidecar = {
        "command": command or f"qnas data make-anomaly --n-background {n_background} --n-signal {n_signal} "
                              f"--seed {seed} --chunk-size {chunk_size} --out {out}",
        "n_events": int(len(l1)), "n_background": n_background, "n_signal": n_signal, "seed": seed,
        "chunk_size": chunk_size, "events_per_process": events_per_process(n_background, n_signal),
        "background_fractions": BACKGROUND_FRACTIONS, "signals": list(SIGNALS),
        "filtered_processes": sorted(FILTERED), "filter": f"an L1 e/gamma or muon with pT > {FILTER_PT_GEV:g} GeV",
        "columns": {L1_COLUMN: list(INPUT_NAMES), PROCESS_COLUMN: "process name"},
        "encoding": "pT: floor(pT / 0.5 GeV), saturating at 4095; eta: round(eta / 0.0435); "
                    "phi: floor(phi / (2pi/144)) on [0, 2pi); empty slots all zero; MET eta = 0",
        "response": asdict(response), "versions": vers,
        "pythia_settings": {p: pythia_settings(p, 0) for p in PROCESSES},
        "pythia_seed_note": "Random:seed = chunk_seed(seed, process, chunk index) per chunk",
        "per_process": per_process, "chunks": table, "wall_seconds_this_run": round(wall, 1),
        "worker_seconds_all_chunks": round(sum(t["seconds"] for t in table), 1),
        "platform": {"system": platform.system(), "python": sys.version.split()[0]},
    }
    out.with_suffix(".json").write_text(json.dumps(sidecar, indent=1))
    return sidecar
