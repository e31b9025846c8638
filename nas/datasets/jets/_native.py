"""Build (once) and call the C++ jet-feature helper linked against the ``fastjet`` wheel.

Why C++ and fjcontrib rather than NumPy: the reference dataset's features were computed
with FastJet contrib (EnergyCorrelator, ModifiedMassDropTagger); calling the same code
removes every definitional doubt (angle measure, recombination scheme, which branch mMDT
follows) and the O(n^3) generalized correlators cost ~1 ms per jet instead of ~20 ms. The
wheel ships headers and libfastjetcontribfragile, so no system FastJet is needed, only g++.

The shared library is cached under ``$QNAS_CACHE`` (default ``~/.cache/qnas``) keyed by a
hash of the source, the fastjet version and the compiler, and written atomically so parallel
workers never see a half-written file.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from qnas._imports import require
from qnas.errors import ToolNotFound

from ._native_src import ABI_VERSION, N_COLUMNS, SOURCE


def cache_dir() -> Path:
    """Where compiled helpers live (``$QNAS_CACHE/jetfeatures``)."""
    root = os.environ.get("QNAS_CACHE") or os.path.join(Path.home(), ".cache", "qnas")
    return Path(root) / "jetfeatures"


def _fastjet_paths() -> tuple[str, Path, Path]:
    fastjet = require("fastjet", "physics")
    base = Path(fastjet.__file__).parent
    include, lib = base / "include", base / "lib64"
    if not (include / "fastjet" / "contrib" / "EnergyCorrelator.hh").is_file():
        raise ToolNotFound(f"the fastjet wheel at {base} has no fjcontrib headers "
                           "(fastjet/contrib/EnergyCorrelator.hh); install the pinned wheel: "
                           "pip install 'qnas[physics]'")
    if not lib.is_dir():
        lib = base / "lib"
    return fastjet.__version__, include, lib


def _compiler() -> str:
    cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not cxx:
        raise ToolNotFound("a C++ compiler (g++) is needed once to build the jet-feature helper "
                           "against the fastjet wheel; install g++ (e.g. apt-get install g++) "
                           "or set CXX")
    return cxx


def library_path() -> Path:
    """Path of the compiled helper, building it first if this source/version is not cached."""
    version, include, lib = _fastjet_paths()
    cxx = _compiler()
    cxx_version = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    key = hashlib.sha256("\n".join([SOURCE, version, cxx_version, str(include)]).encode()).hexdigest()[:16]
    target = cache_dir() / f"libqnasjets-{key}.so"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        src = Path(tmp) / "qnas_jets.cpp"
        src.write_text(SOURCE)
        out = Path(tmp) / target.name
        cmd = [cxx, "-O2", "-std=c++17", "-shared", "-fPIC", str(src), "-o", str(out),
               f"-I{include}", f"-L{lib}", f"-Wl,-rpath,{lib}",
               "-lfastjetcontribfragile", "-lfastjettools", "-lfastjet"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ToolNotFound("building the jet-feature helper failed:\n  " + " ".join(cmd)
                               + "\n" + proc.stderr[-2000:])
        os.replace(out, target)  # atomic: a concurrent builder just overwrites with the same bytes
    return target


@lru_cache(maxsize=1)
def _lib() -> ctypes.CDLL:
    lib = ctypes.CDLL(str(library_path()))
    if lib.qnas_abi_version() != ABI_VERSION:
        raise ToolNotFound("stale jet-feature helper in the cache; delete " + str(cache_dir()))
    dptr = np.ctypeslib.ndpointer(dtype=np.float64, flags="C_CONTIGUOUS")
    lib.qnas_jet_rows.argtypes = [dptr, ctypes.c_int, ctypes.c_double, ctypes.c_double,
                                  ctypes.c_double, ctypes.c_double, ctypes.c_double,
                                  ctypes.c_int, dptr]
    lib.qnas_jet_rows.restype = ctypes.c_int
    lib.qnas_jet_from_constituents.argtypes = [dptr, ctypes.c_int, ctypes.c_double, dptr]
    lib.qnas_jet_from_constituents.restype = ctypes.c_int
    return lib


def jet_rows(p4: np.ndarray, radius: float, pt_min: float, pt_max: float, abs_eta_max: float,
             zcut: float, max_jets: int = 4) -> np.ndarray:
    """Cluster an event's particles (n, 4: px, py, pz, E) and return one row per accepted jet.

    Row layout: pt, eta, phi, m, then the 16 features (NaN when mMDT found no two-prong split).
    """
    p4 = np.ascontiguousarray(p4, dtype=np.float64)
    out = np.empty((max_jets, N_COLUMNS), dtype=np.float64)
    n = _lib().qnas_jet_rows(p4, len(p4), radius, pt_min, pt_max, abs_eta_max, zcut, max_jets, out)
    if n < 0:
        raise RuntimeError("the FastJet helper raised a C++ exception for this event")
    return out[:n]


def constituent_row(p4: np.ndarray, zcut: float = 0.1) -> np.ndarray:
    """The row of a single jet made of exactly these constituents (for checks on toy jets)."""
    p4 = np.ascontiguousarray(p4, dtype=np.float64)
    out = np.empty(N_COLUMNS, dtype=np.float64)
    n = _lib().qnas_jet_from_constituents(p4, len(p4), zcut, out)
    if n != 1:
        raise ValueError("the constituents do not form exactly one jet (or FastJet failed)")
    return out
