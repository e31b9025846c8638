"""One chunk of L1 events of one process: a fresh seeded Pythia, the filter, the detector.

A chunk is (process, seed, number of events): it keeps the FIRST n accepted events of its
event stream, and the detector smearing of event k draws from a NumPy generator seeded by
(seed, k) alone, so a chunk of n events is the prefix of a chunk of m > n with the same seed,
whatever ran before it in the process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qnas._imports import require

from .detector import N_INPUTS, N_OBJECTS, L1Response, encode_event, l1_objects
from .processes import FILTER_PT_GEV, FILTERED, pythia_settings

_INVISIBLE = (12, 14, 16)


@dataclass
class ChunkStats:
    events: int = 0
    failed_events: int = 0
    rejected_prefilter: int = 0
    rejected_filter: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def visible_final(event) -> tuple[np.ndarray, np.ndarray]:
    """(PDG ids, (n, 4) px py pz E) of the final-state particles except neutrinos."""
    rows = [(p.id(), p.px(), p.py(), p.pz(), p.e()) for p in event
            if p.isFinal() and p.idAbs() not in _INVISIBLE]
    arr = np.asarray(rows, dtype=np.float64).reshape(-1, 5)
    return arr[:, 0].astype(np.int64), arr[:, 1:]


def passes_prefilter(pid: np.ndarray, p4: np.ndarray, threshold: float) -> bool:
    """A true e, mu or photon above ``threshold`` GeV (the bound of L1Response.prefilter_pt)."""
    lep = np.isin(np.abs(pid), (11, 13, 22))
    return bool(np.any(np.hypot(p4[lep, 0], p4[lep, 1]) > threshold))


def passes_filter(objects: np.ndarray) -> bool:
    """An L1 e/gamma (rows 1-4) or muon (rows 5-8) candidate above FILTER_PT_GEV."""
    return bool(np.any(objects[1:9, 0] > FILTER_PT_GEV))


def event_rng(seed: int, k: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(k,)))


def generate_chunk(process: str, seed: int, n_events: int, response: L1Response = L1Response(),
                   max_tries_per_event: int = 500) -> tuple[np.ndarray, ChunkStats]:
    """``n_events`` rows of 57 L1 integers (int16) of ``process`` from a fresh Pythia."""
    p8 = require("pythia8mc", "physics")
    pythia = p8.Pythia("", False)
    for line in pythia_settings(process, seed):
        if not pythia.readString(line):
            raise RuntimeError(f"Pythia rejected the setting {line!r}")
    if not pythia.init():
        raise RuntimeError(f"Pythia failed to initialise process {process!r}")
    filtered = process in FILTERED
    pre = response.prefilter_pt(FILTER_PT_GEV)
    stats = ChunkStats()
    rows = np.zeros((n_events, N_INPUTS), np.int16)
    kept = 0
    while kept < n_events:
        if stats.events >= max_tries_per_event * max(n_events, 1):
            raise RuntimeError(f"process {process!r}: only {kept} events passed after {stats.events}")
        k = stats.events
        stats.events += 1
        if not pythia.next():
            stats.failed_events += 1
            continue
        pid, p4 = visible_final(pythia.event)
        if filtered and not passes_prefilter(pid, p4, pre):
            stats.rejected_prefilter += 1
            continue
        objects = l1_objects(pid, p4, event_rng(seed, k), response)
        assert objects.shape == (N_OBJECTS, 3)
        if filtered and not passes_filter(objects):
            stats.rejected_filter += 1
            continue
        rows[kept] = encode_event(objects)
        kept += 1
    return rows, stats
