"""A simple, documented Level-1 detector response and the L1 integer encoding of its objects.

Input: one event's visible generator-level final-state particles (PDG id, px, py, pz, E).
Output: the 57 values AXOL1TL and the LHC anomaly-detection data challenge (ADC2021) feed a
Level-1 anomaly detector -- MET plus the leading 4 e/gamma, 4 muon and 10 jet candidates as
(pT, eta, phi), zero-padded -- as L1 integers (see :func:`quantize`).

Response (every number is a field of :class:`L1Response`, recorded in the sidecar JSON):

* **Muons**: final-state mu+- with |eta| < 2.1 (ADC2021's muon acceptance), pT smeared by a
  Gaussian of 15 % (L1 muon momentum resolution), kept above 3 GeV. Muons leave no energy in
  the calorimeter model (minimum ionising), and are not in MET (CMS L1 calorimeter MET).
* **e/gamma**: final-state e+- and photons with |eta| < 3.0 that are isolated (scalar sum of
  the other visible particles' pT within dR < 0.3 below 0.5 x the candidate's pT, a loose
  L1-style isolation that removes the pi0 photons inside jets), pT smeared by
  sigma/pT = 0.2/sqrt(pT) (+) 2 %, kept above 3 GeV.
* **Calorimeter**: every visible particle except muons lands in a tower of
  0.087 x 2pi/72 (the CMS trigger-tower size) for |eta| < 5.0; tower ET is the sum of pT.
* **Jets**: towers with ET > 0.5 GeV clustered with anti-kT R = 0.4 (FastJet); jet pT
  smeared by sigma/pT = 1.0/sqrt(pT) (+) 10 % (L1 jets are coarse); |eta| < 4.0, pT > 15 GeV
  (ADC2021's jet acceptance and threshold).
* **MET**: minus the vector sum of all tower ET (|eta| < 5.0), each component smeared by a
  Gaussian of 0.6 x sqrt(sum ET) (the usual stochastic MET resolution); phi from the vector.

Every Gaussian is truncated at +-4 sigma, so an object's smeared pT is bounded by
(1 + 4 sigma) x its true pT; :meth:`L1Response.prefilter_pt` uses that bound to skip the
detector for events that cannot pass a lepton filter, without changing which events pass.
Not modelled: pile-up, electron/photon/jet misidentification beyond the isolation,
tau-specific objects, trigger-tower ET quantization inside the jet finder, dead regions.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass

import numpy as np

N_EGAMMA, N_MUONS, N_JETS = 4, 4, 10
#: object slots in input order: MET first, then e/gamma, muons, jets (pT-ordered within a type)
SLOTS: tuple[tuple[str, int], ...] = (("met", 1), ("egamma", N_EGAMMA), ("muon", N_MUONS), ("jet", N_JETS))
N_OBJECTS = sum(n for _, n in SLOTS)
N_INPUTS = 3 * N_OBJECTS  # 57


def input_names() -> tuple[str, ...]:
    """The 57 input names in order: met_pt, met_eta, met_phi, egamma0_pt, ..., jet9_phi."""
    names = []
    for kind, n in SLOTS:
        for i in range(n):
            stem = kind if kind == "met" else f"{kind}{i}"
            names += [f"{stem}_pt", f"{stem}_eta", f"{stem}_phi"]
    return tuple(names)


INPUT_NAMES = input_names()

#: L1 integer encoding: pT in 0.5 GeV steps (truncated, as L1 hardware does), eta in steps of
#: half a trigger tower (0.087 / 2), phi in 144 steps of 2pi/144 over [0, 2pi).
PT_LSB_GEV = 0.5
PT_MAX_HW = 4095  # 12-bit pT field: saturates at 2047.5 GeV
ETA_LSB = 0.087 / 2
PHI_STEPS = 144
PHI_LSB = 2 * math.pi / PHI_STEPS


def quantize(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pT, eta, phi) floats -> L1 integers (int16): floor(pT/0.5) saturated at 4095,
    round(eta/0.0435), floor(phi/(2pi/144)) with phi wrapped into [0, 2pi)."""
    pt = np.asarray(pt, np.float64)
    pt_hw = np.minimum(np.floor(np.maximum(pt, 0.0) / PT_LSB_GEV), PT_MAX_HW).astype(np.int16)
    eta_hw = np.rint(np.asarray(eta, np.float64) / ETA_LSB).astype(np.int16)
    wrapped = np.mod(np.asarray(phi, np.float64), 2 * math.pi)
    phi_hw = np.minimum(np.floor(wrapped / PHI_LSB), PHI_STEPS - 1).astype(np.int16)
    return pt_hw, eta_hw, phi_hw


def dequantize(hw: np.ndarray) -> np.ndarray:
    """(n, 57) L1 integers -> physical (pT GeV, eta, phi rad at the bin's low edge) float32.

    Zero-padded slots (pT = 0) stay all zero, so the padding is exactly 0 in physical units too.
    """
    hw = np.asarray(hw)
    out = np.empty(hw.shape, np.float32)
    out[:, 0::3] = hw[:, 0::3] * PT_LSB_GEV
    out[:, 1::3] = hw[:, 1::3] * ETA_LSB
    out[:, 2::3] = hw[:, 2::3] * PHI_LSB
    empty = hw[:, 0::3] == 0
    for k in (1, 2):
        view = out[:, k::3]
        view[empty] = 0.0
    return out


@dataclass(frozen=True)
class L1Response:
    """Detector-response parameters; part of a run's identity (changing one changes every chunk)."""

    muon_abs_eta: float = 2.1
    muon_pt_min: float = 3.0
    muon_sigma: float = 0.15
    egamma_abs_eta: float = 3.0
    egamma_pt_min: float = 3.0
    egamma_stochastic: float = 0.2
    egamma_constant: float = 0.02
    egamma_iso_dr: float = 0.3
    egamma_iso_max: float = 0.5
    calo_abs_eta: float = 5.0
    tower_deta: float = 0.087
    tower_nphi: int = 72
    jet_radius: float = 0.4
    jet_tower_min: float = 0.5
    jet_abs_eta: float = 4.0
    jet_pt_min: float = 15.0
    jet_stochastic: float = 1.0
    jet_constant: float = 0.10
    met_stochastic: float = 0.6
    truncate_sigma: float = 4.0

    def prefilter_pt(self, filter_pt: float) -> float:
        """Largest true lepton pT that can never be smeared above ``filter_pt`` (see module doc)."""
        worst = max(self.muon_sigma, math.hypot(self.egamma_stochastic / math.sqrt(self.egamma_pt_min),
                                                self.egamma_constant))
        return filter_pt / (1.0 + self.truncate_sigma * worst)


def _gauss(rng: np.random.Generator, n: int, clip: float) -> np.ndarray:
    return np.clip(rng.standard_normal(n), -clip, clip)


def _kinematics(p4: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    px, py, pz = p4[:, 0], p4[:, 1], p4[:, 2]
    pt = np.hypot(px, py)
    eta = np.arcsinh(np.divide(pz, pt, out=np.full_like(pz, np.sign(pz) * 1e9 + 0.0), where=pt > 0))
    phi = np.arctan2(py, px)
    return pt, eta, phi


@contextlib.contextmanager
def _silenced_stdout():
    """FastJet prints its banner to stdout (C++) on first use; keep it out of logs and bars."""
    fd = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(fd, 1)
        os.close(fd)


_FASTJET = {}


def _cluster(et: np.ndarray, eta: np.ndarray, phi: np.ndarray, radius: float) -> np.ndarray:
    """anti-kT jets of massless towers -> (n, 3) pt, eta, phi, pT-descending."""
    import fastjet
    if "jetdef" not in _FASTJET:
        _FASTJET["jetdef"] = {}
        with _silenced_stdout():
            fastjet.ClusterSequence([fastjet.PseudoJet(1.0, 0.0, 0.0, 1.0)],
                                    fastjet.JetDefinition(fastjet.antikt_algorithm, 0.4)).inclusive_jets(0.0)
    jetdef = _FASTJET["jetdef"].setdefault(radius, fastjet.JetDefinition(fastjet.antikt_algorithm, radius))
    px, py, pz = et * np.cos(phi), et * np.sin(phi), et * np.sinh(eta)
    e = et * np.cosh(eta)
    particles = [fastjet.PseudoJet(a, b, c, d) for a, b, c, d in zip(px.tolist(), py.tolist(), pz.tolist(), e.tolist())]
    if not particles:
        return np.zeros((0, 3))
    seq = fastjet.ClusterSequence(particles, jetdef)
    jets = fastjet.sorted_by_pt(seq.inclusive_jets(0.0))
    return np.array([(j.pt(), j.eta(), j.phi_std()) for j in jets], dtype=np.float64).reshape(-1, 3)


def _pad(objs: np.ndarray, n: int) -> np.ndarray:
    """The leading ``n`` (pt, eta, phi) rows by pT, zero-padded to (n, 3)."""
    out = np.zeros((n, 3), np.float64)
    if len(objs):
        order = np.argsort(-objs[:, 0], kind="stable")[:n]
        out[:len(order)] = objs[order]
    return out


def l1_objects(pid: np.ndarray, p4: np.ndarray, rng: np.random.Generator,
               response: L1Response = L1Response()) -> np.ndarray:
    """One event's visible final-state particles -> (19, 3) physical L1 objects (pt, eta, phi).

    Row 0 is MET (pt = MET, eta = 0, phi), rows 1-4 e/gamma, 5-8 muons, 9-18 jets; empty slots
    are zero. ``rng`` draws every smearing of this event in a fixed order (muons, e/gamma,
    jets, MET), so the output depends only on the particles and the generator state.
    """
    r = response
    clip = r.truncate_sigma
    pid = np.asarray(pid)
    p4 = np.asarray(p4, np.float64).reshape(-1, 4)
    apid = np.abs(pid)
    pt, eta, phi = _kinematics(p4)

    is_mu = apid == 13
    mu = np.flatnonzero(is_mu & (np.abs(eta) < r.muon_abs_eta))
    mu_pt = pt[mu] * (1.0 + r.muon_sigma * _gauss(rng, len(mu), clip))
    muons = np.column_stack([mu_pt, eta[mu], phi[mu]])[mu_pt > r.muon_pt_min]

    calo = (~is_mu) & (np.abs(eta) < r.calo_abs_eta) & (pt > 0)
    em = np.flatnonzero(((apid == 11) | (apid == 22)) & (np.abs(eta) < r.egamma_abs_eta) & (pt > r.egamma_pt_min / 2))
    keep = []
    vis = np.flatnonzero(calo | is_mu)
    for i in em:
        dphi = np.mod(phi[vis] - phi[i] + math.pi, 2 * math.pi) - math.pi
        near = (np.hypot(eta[vis] - eta[i], dphi) < r.egamma_iso_dr) & (vis != i)
        if pt[vis][near].sum() < r.egamma_iso_max * pt[i]:
            keep.append(i)
    em = np.asarray(keep, dtype=np.int64)
    sig = np.hypot(r.egamma_stochastic / np.sqrt(np.maximum(pt[em], 1e-9)), r.egamma_constant)
    em_pt = pt[em] * (1.0 + sig * _gauss(rng, len(em), clip))
    egammas = np.column_stack([em_pt, eta[em], phi[em]])[em_pt > r.egamma_pt_min]

    ieta = np.floor(eta[calo] / r.tower_deta).astype(np.int64)
    iphi = np.floor(np.mod(phi[calo], 2 * math.pi) / (2 * math.pi / r.tower_nphi)).astype(np.int64)
    iphi = np.minimum(iphi, r.tower_nphi - 1)
    key = ieta * r.tower_nphi + iphi
    towers, inverse = np.unique(key, return_inverse=True)
    t_px = np.bincount(inverse, weights=p4[calo, 0], minlength=len(towers))
    t_py = np.bincount(inverse, weights=p4[calo, 1], minlength=len(towers))
    t_et = np.bincount(inverse, weights=pt[calo], minlength=len(towers))
    t_eta = (np.floor_divide(towers, r.tower_nphi) + 0.5) * r.tower_deta
    t_phi = (np.mod(towers, r.tower_nphi) + 0.5) * (2 * math.pi / r.tower_nphi)
    t_phi = np.where(t_phi > math.pi, t_phi - 2 * math.pi, t_phi)
    seeds = t_et > r.jet_tower_min
    jets = _cluster(t_et[seeds], t_eta[seeds], t_phi[seeds], r.jet_radius)
    jets = jets[np.abs(jets[:, 1]) < r.jet_abs_eta]
    jsig = np.hypot(r.jet_stochastic / np.sqrt(np.maximum(jets[:, 0], 1e-9)), r.jet_constant)
    jets[:, 0] = jets[:, 0] * (1.0 + jsig * _gauss(rng, len(jets), clip))
    jets = jets[jets[:, 0] > r.jet_pt_min]

    sum_et = float(t_et.sum())
    noise = r.met_stochastic * math.sqrt(sum_et) * _gauss(rng, 2, clip)
    mex, mey = -float(t_px.sum()) + noise[0], -float(t_py.sum()) + noise[1]
    met = np.array([[math.hypot(mex, mey), 0.0, math.atan2(mey, mex)]])
    return np.concatenate([met, _pad(egammas, N_EGAMMA), _pad(muons, N_MUONS), _pad(jets, N_JETS)])


def encode_event(objects: np.ndarray) -> np.ndarray:
    """(19, 3) physical objects -> (57,) int16 L1 integers; zero-pT slots encode as all zeros."""
    pt_hw, eta_hw, phi_hw = quantize(objects[:, 0], objects[:, 1], objects[:, 2])
    empty = pt_hw == 0
    eta_hw[empty] = 0
    phi_hw[empty] = 0
    return np.stack([pt_hw, eta_hw, phi_hw], axis=1).reshape(-1)
