"""One chunk of jets of one class from Pythia 8: processes, truth matching, event loop.

Physics choices (documented because they decide what the labels mean):

* pp at sqrt(s) = 13 TeV, Pythia 8 defaults (Monash tune, ISR/FSR/MPI on, no pile-up),
  hadron decays limited to c*tau0 < 10 mm as at the LHC experiments (K0S, Lambda stable).
* Particles: all final-state particles except neutrinos, at generator level (no detector
  simulation; the reference dataset used Delphes, one reason accuracies differ).
* Jets: anti-kT R = 0.8, pT in [pt_min, pt_max] (default 800-1200 GeV), |eta| < 2.5.
* g and q: QCD 2->2 (gg->gg, qqbar->gg, qg->qg for gluons; qq->qq, qqbar->q'qbar' with light
  flavours, qg->qg for quarks) with pTHat around the window. A jet is labelled by the nearest
  outgoing hard-process parton within dR < R: a gluon -> g, u/d/s -> q; c/b-matched and
  unmatched jets are dropped.
* w: Z' (2 TeV, gmZmode=3) -> W+W-, W -> quarks; z: RS graviton G* (2 TeV) -> ZZ, Z -> quarks;
  t: Z' (2 TeV) -> t tbar, t -> W b, W -> quarks. A jet is labelled when the boson/top is
  within dR < R of the jet axis AND all its decay quarks (the b and both W quarks for a top)
  are too ("contained"); other jets are dropped.

A chunk is defined by (class, seed, number of jets): it builds a fresh Pythia with that seed
and keeps the first n accepted jets, so its output depends on nothing else (not on which
worker ran it or what ran before), which is what makes parallel runs reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from qnas._imports import require

from ._native import jet_rows
from .features import CLASS_NAMES, MMDT_ZCUT

COMMON_SETTINGS: tuple[str, ...] = (
    "Beams:eCM = 13000.",
    "ParticleDecays:limitTau0 = on",
    "ParticleDecays:tau0Max = 10.",
    "Print:quiet = on",
    "Next:numberCount = 0",
    "Random:setSeed = on",
)

_HADRONIC_W = ("24:onMode = off", "24:onIfAny = 1 2 3 4 5")
_HADRONIC_Z = ("23:onMode = off", "23:onIfAny = 1 2 3 4 5")
_ZPRIME = ("NewGaugeBoson:ffbar2gmZZprime = on", "Zprime:gmZmode = 3", "32:m0 = 2000.",
           "32:onMode = off")

PROCESS_SETTINGS: dict[str, tuple[str, ...]] = {
    "g": ("HardQCD:gg2gg = on", "HardQCD:qqbar2gg = on", "HardQCD:qg2qg = on"),
    "q": ("HardQCD:qq2qq = on", "HardQCD:qqbar2qqbarNew = on", "HardQCD:nQuarkNew = 3",
          "HardQCD:qg2qg = on"),
    "t": _ZPRIME + ("32:onIfMatch = 6 -6",) + _HADRONIC_W,
    "w": _ZPRIME + ("Zprime:coup2WW = 1.", "32:onIfMatch = 24 -24") + _HADRONIC_W,
    "z": ("ExtraDimensionsG*:all = on", "5100039:m0 = 2000.", "5100039:onMode = off",
          "5100039:onIfMatch = 23 23") + _HADRONIC_Z,
}

_NEUTRINOS = (12, 14, 16)
_LIGHT_QUARKS = (1, 2, 3)
_TARGET_ID = {"t": 6, "w": 24, "z": 23}


@dataclass(frozen=True)
class JetCuts:
    """Jet selection; part of a run's identity (changing it changes every chunk)."""

    radius: float = 0.8
    pt_min: float = 800.0
    pt_max: float = 1200.0
    abs_eta_max: float = 2.5
    zcut: float = MMDT_ZCUT

    def pthat_settings(self) -> tuple[str, ...]:
        """QCD pTHat range: jets lose pT out of the cone, so start a bit below the window."""
        return (f"PhaseSpace:pTHatMin = {0.85 * self.pt_min:g}",
                f"PhaseSpace:pTHatMax = {1.15 * self.pt_max:g}")


def pythia_settings(label: str, seed: int, cuts: JetCuts) -> list[str]:
    """Every readString line for a chunk of class ``label`` (recorded in the sidecar JSON)."""
    lines = list(COMMON_SETTINGS) + [f"Random:seed = {seed}"] + list(PROCESS_SETTINGS[label])
    if label in ("g", "q"):
        lines += cuts.pthat_settings()
    return lines


@dataclass
class ChunkStats:
    events: int = 0
    failed_events: int = 0
    jets_in_window: int = 0
    rejected_grooming: int = 0
    rejected_label: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _delta_r(eta1: float, phi1: float, eta2: float, phi2: float) -> float:
    dphi = (phi1 - phi2 + math.pi) % (2 * math.pi) - math.pi
    return math.hypot(eta1 - eta2, dphi)


def _final_particles(event) -> np.ndarray:
    rows = [(p.px(), p.py(), p.pz(), p.e()) for p in event
            if p.isFinal() and p.idAbs() not in _NEUTRINOS]
    return np.asarray(rows, dtype=np.float64).reshape(-1, 4)


def _decaying_copies(event, target: int) -> list[int]:
    """Indices of the last copy (the one that decays) of each particle with |id| == target."""
    out = []
    for i in range(event.size()):
        p = event[i]
        if p.idAbs() != target:
            continue
        d1 = p.daughter1()
        if d1 > 0 and event[d1].idAbs() != target:
            out.append(i)
    return out


def _prongs(event, i: int) -> list[tuple[float, float]] | None:
    """(eta, phi) of the decay quarks of boson/top ``i``; None if any decay is not to quarks."""
    prongs = []
    for d in event[i].daughterList():
        q = event[d]
        if q.idAbs() == 24:  # top -> W b: follow the W to its quarks
            inner = _prongs(event, q.iBotCopy())
            if inner is None:
                return None
            prongs += inner
        elif 1 <= q.idAbs() <= 5:
            prongs.append((q.eta(), q.phi()))
        else:
            return None
    return prongs or None


@dataclass
class _Truth:
    label: str
    eta: float
    phi: float
    prongs: list[tuple[float, float]] = field(default_factory=list)


def truth_objects(event, label: str) -> list[_Truth]:
    """What a jet may be matched to in this event, for a chunk of class ``label``."""
    if label in ("g", "q"):
        out = []
        for i in (5, 6):  # the two outgoing partons of the 2->2 hard process
            p = event[event[i].iBotCopy()]
            a = p.idAbs()
            kind = "g" if a == 21 else "q" if a in _LIGHT_QUARKS else "other"
            out.append(_Truth(kind, p.eta(), p.phi()))
        return out
    out = []
    for i in _decaying_copies(event, _TARGET_ID[label]):
        prongs = _prongs(event, i)
        if prongs is not None:
            out.append(_Truth(label, event[i].eta(), event[i].phi(), prongs))
    return out


def match_label(eta: float, phi: float, truths: list[_Truth], radius: float) -> str | None:
    """The class of the jet at (eta, phi), or None when it has no acceptable truth match."""
    best, best_dr = None, radius
    for t in truths:
        dr = _delta_r(eta, phi, t.eta, t.phi)
        if dr < best_dr:
            best, best_dr = t, dr
    if best is None or best.label not in CLASS_NAMES:
        return None
    if any(_delta_r(eta, phi, e, f) >= radius for e, f in best.prongs):
        return None  # not contained: a W/Z/top whose quarks spill out of the jet
    return best.label


def generate_chunk(label: str, seed: int, n_jets: int, cuts: JetCuts,
                   max_events_per_jet: int = 200) -> tuple[np.ndarray, ChunkStats]:
    """``n_jets`` rows (pt, eta, phi, m, 16 features) of class ``label`` from a fresh Pythia."""
    p8 = require("pythia8mc", "physics")
    pythia = p8.Pythia("", False)
    for line in pythia_settings(label, seed, cuts):
        if not pythia.readString(line):
            raise RuntimeError(f"Pythia rejected the setting {line!r}")
    if not pythia.init():
        raise RuntimeError(f"Pythia failed to initialise for class {label!r}")
    stats = ChunkStats()
    rows: list[np.ndarray] = []
    while len(rows) < n_jets:
        if stats.events >= max_events_per_jet * max(n_jets, 1):
            raise RuntimeError(f"class {label!r}: only {len(rows)} jets after {stats.events} events; "
                               "the jet window is probably outside what this process produces")
        stats.events += 1
        if not pythia.next():
            stats.failed_events += 1
            continue
        event = pythia.event
        jets = jet_rows(_final_particles(event), cuts.radius, cuts.pt_min, cuts.pt_max,
                        cuts.abs_eta_max, cuts.zcut)
        if len(jets) == 0:
            continue
        truths = truth_objects(event, label)
        for row in jets:
            stats.jets_in_window += 1
            if match_label(row[1], row[2], truths, cuts.radius) != label:
                stats.rejected_label += 1
                continue
            if not np.all(np.isfinite(row)):
                stats.rejected_grooming += 1
                continue
            rows.append(row)
            if len(rows) == n_jets:
                break
    return np.asarray(rows, dtype=np.float64).reshape(-1, 20), stats
