"""``qnas data make-jets``: many Pythia chunks in parallel, checkpointed, assembled in order.

Reproducibility rests on three rules:

1. A chunk is (class, chunk index, number of jets); its Pythia seed is derived from the run
   seed, the class and the chunk index only (``chunk_seed``), never from the worker or time.
2. A chunk keeps the FIRST n accepted jets of its event stream, so a chunk of n jets is the
   prefix of a chunk of m > n jets with the same seed (a short test can regenerate a prefix
   of a committed chunk and compare arrays exactly).
3. The output is assembled in canonical order (class, then chunk index), whatever order the
   workers finished in; float32 rounding is the last step.

Chunks are checkpointed as ``<out>.chunks/<class>_<index>_<n>.npz`` (written atomically), so
an interrupted run resumes; a checkpoint directory made with other settings is refused
rather than mixed. Chunk seeds do not depend on ``n_jets``: a smaller run reuses the first
chunks of a larger one, and its jets are a subset of the larger run's.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from qnas.errors import ConfigError, DataError

from ._native_src import ABI_VERSION
from .features import CLASS_NAMES, FEATURE_NAMES, KINEMATIC_NAMES, LABEL_COLUMN
from .pythia_gen import JetCuts, generate_chunk, pythia_settings

#: bump when anything that changes a chunk's content changes (settings, matching, features)
GENERATOR_VERSION = 1
#: columns of a generated file besides the features and the label
STORED_KINEMATICS = ("jet_pt", "jet_eta", "jet_mass")
_ROW_INDEX = {name: i for i, name in enumerate(KINEMATIC_NAMES + FEATURE_NAMES)}


@dataclass(frozen=True)
class ChunkSpec:
    label: str
    index: int
    n_jets: int
    seed: int

    @property
    def filename(self) -> str:
        return f"{self.label}_{self.index:04d}_{self.n_jets}.npz"


def chunk_seed(seed: int, label: str, index: int) -> int:
    """Pythia seed of chunk ``index`` of class ``label`` (Pythia accepts 1..900000000)."""
    state = np.random.SeedSequence(entropy=seed, spawn_key=(CLASS_NAMES.index(label), index))
    return int(state.generate_state(1, np.uint32)[0]) % 900_000_000 + 1


def jets_per_class(n_jets: int) -> dict[str, int]:
    """Balanced classes; a remainder goes to the first classes (g, q, ...)."""
    base, extra = divmod(n_jets, len(CLASS_NAMES))
    return {c: base + (i < extra) for i, c in enumerate(CLASS_NAMES)}


def plan_chunks(n_jets: int, seed: int, chunk_size: int) -> list[ChunkSpec]:
    """Every chunk of a run, in canonical (output) order."""
    out = []
    for label, n in jets_per_class(n_jets).items():
        for index, start in enumerate(range(0, n, chunk_size)):
            out.append(ChunkSpec(label, index, min(chunk_size, n - start), chunk_seed(seed, label, index)))
    return out


def _execution_order(chunks: Sequence[ChunkSpec]) -> list[ChunkSpec]:
    """Round-robin over classes, so an interrupted run has balanced classes done."""
    return sorted(chunks, key=lambda c: (c.index, CLASS_NAMES.index(c.label)))


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    """Everything a chunk's bytes depend on besides the seed and the cuts."""
    cxx = os.environ.get("CXX", "g++")
    try:
        cxx_version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    except OSError:
        cxx_version = "unknown"
    return {"qnas": _package_version("qnas"), "generator": str(GENERATOR_VERSION),
            "native_abi": str(ABI_VERSION), "pythia8mc": _package_version("pythia8mc"),
            "fastjet": _package_version("fastjet"), "numpy": np.__version__,
            "python": platform.python_version(), "cxx": cxx_version, "machine": platform.machine()}


def _run_chunk(args: tuple[ChunkSpec, JetCuts, str]) -> tuple[ChunkSpec, dict[str, Any]]:
    """Worker: generate one chunk and checkpoint it (atomic rename)."""
    spec, cuts, chunk_dir = args
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.time()
    rows, stats = generate_chunk(spec.label, spec.seed, spec.n_jets, cuts)
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
                            "cuts and package versions")
    else:
        chunk_dir.mkdir(parents=True, exist_ok=True)
        ident_file.write_text(json.dumps(identity, indent=1, sort_keys=True))


def load_chunk(chunk_dir: Path, spec: ChunkSpec) -> tuple[np.ndarray, dict[str, Any]]:
    with np.load(chunk_dir / spec.filename) as f:
        return f["rows"], json.loads(str(f["info"]))


def rows_to_columns(rows: np.ndarray, labels: Sequence[str]) -> dict[str, np.ndarray]:
    """Helper rows (float64) -> stored columns (features and kinematics float32, class str)."""
    cols = {name: rows[:, _ROW_INDEX[name]].astype(np.float32) for name in FEATURE_NAMES}
    for name in STORED_KINEMATICS:
        cols[name] = rows[:, _ROW_INDEX[name]].astype(np.float32)
    cols[LABEL_COLUMN] = np.asarray(labels, dtype="<U1")
    return cols


def write_table(path: Path, cols: dict[str, np.ndarray]) -> None:
    """Write columns to .npz (compressed), .parquet (zstd) or .csv by the file suffix."""
    suffix = path.suffix.lower()
    tmp = path.with_name(path.name + ".tmp" + path.suffix)
    if suffix == ".npz":
        np.savez_compressed(tmp, **cols)
    elif suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq
        table = pa.table({k: v for k, v in cols.items()})
        pq.write_table(table, tmp, compression="zstd", compression_level=19,
                       use_byte_stream_split=[k for k in cols if k != LABEL_COLUMN])
    elif suffix == ".csv":
        import pandas as pd
        pd.DataFrame(cols).to_csv(tmp, index=False, float_format="%.9g")
    else:
        raise ConfigError("--out", f"unsupported suffix {suffix!r}; use .npz, .parquet or .csv")
    os.replace(tmp, path)


def make_jets(out: str | os.PathLike, n_jets: int, seed: int = 0, workers: int = 1,
              chunk_size: int = 1000, cuts: JetCuts = JetCuts(), progress: bool = True,
              command: str | None = None) -> dict[str, Any]:
    """Generate ``n_jets`` balanced jets to ``out`` plus a sidecar ``<out stem>.json``; return it."""
    from nas.datasets.jets._native import library_path
    if n_jets < len(CLASS_NAMES):
        raise ConfigError("--n-jets", f"must be at least {len(CLASS_NAMES)} (one per class); got {n_jets}")
    if chunk_size < 1:
        raise ConfigError("--chunk-size", f"must be >= 1; got {chunk_size}")
    if workers < 1:
        raise ConfigError("--workers", f"must be >= 1; got {workers}")
    out = Path(out)
    if out.suffix.lower() not in (".npz", ".parquet", ".csv"):
        raise ConfigError("--out", f"unsupported suffix {out.suffix!r}; use .npz, .parquet or .csv")
    out.parent.mkdir(parents=True, exist_ok=True)
    library_path()  # compile once here, not in every worker
    vers = versions()
    identity = {"seed": seed, "chunk_size": chunk_size, "cuts": asdict(cuts), "versions": vers}
    chunk_dir = Path(str(out) + ".chunks")
    _check_checkpoints(chunk_dir, identity)
    chunks = plan_chunks(n_jets, seed, chunk_size)
    todo = [c for c in _execution_order(chunks) if not (chunk_dir / c.filename).is_file()]
    t0 = time.time()
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=n_jets, initial=n_jets - sum(c.n_jets for c in todo), unit="jet",
                   desc="make-jets", smoothing=0.05)
    tasks = [(c, cuts, str(chunk_dir)) for c in todo]
    try:
        if workers == 1 or len(tasks) <= 1:
            for task in tasks:
                spec, _ = _run_chunk(task)
                if bar:
                    bar.update(spec.n_jets)
        else:
            import multiprocessing as mp
            with mp.get_context("spawn").Pool(min(workers, len(tasks))) as pool:
                for spec, _ in pool.imap_unordered(_run_chunk, tasks):
                    if bar:
                        bar.update(spec.n_jets)
    finally:
        if bar:
            bar.close()
    wall = time.time() - t0
    rows, labels, table = [], [], []
    offset = 0
    for spec in chunks:
        r, info = load_chunk(chunk_dir, spec)
        rows.append(r)
        labels += [spec.label] * len(r)
        table.append({**asdict(spec), "offset": offset, **info})
        offset += len(r)
    all_rows = np.concatenate(rows)
    write_table(out, rows_to_columns(all_rows, labels))
    sidecar = {
        "command": command or f"qnas data make-jets --n-jets {n_jets} --seed {seed} "
                              f"--chunk-size {chunk_size} --out {out}",
        "n_jets": int(len(all_rows)), "seed": seed, "chunk_size": chunk_size, "cuts": asdict(cuts),
        "jets_per_class": jets_per_class(n_jets), "columns": list(FEATURE_NAMES) + list(STORED_KINEMATICS)
        + [LABEL_COLUMN], "versions": vers,
        "pythia_settings": {c: pythia_settings(c, 0, cuts) for c in CLASS_NAMES},
        "pythia_seed_note": "Random:seed = chunk_seed(seed, class, chunk index) per chunk",
        "chunks": table, "wall_seconds_this_run": round(wall, 1),
        "worker_seconds_all_chunks": round(sum(t["seconds"] for t in table), 1),
        "platform": {"system": platform.system(), "python": sys.version.split()[0]},
    }
    Path(out).with_suffix(".json").write_text(json.dumps(sidecar, indent=1))
    return sidecar
