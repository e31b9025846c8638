"""The L1 anomaly-detection sample: encoding, detector response, generator determinism, loader."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nas.datasets.anomaly import detector as det
from nas.datasets.anomaly.generate import chunk_seed, events_per_process, make_anomaly, plan_chunks
from nas.datasets.anomaly.processes import BACKGROUND_FRACTIONS, SIGNALS, background_counts
from qnas.errors import ConfigError


def test_quantize_uses_l1_steps_truncation_wrap_and_saturation():
    pt, eta, phi = det.quantize(np.array([0.0, 0.49, 0.5, 23.74, 5000.0]),
                                np.array([0.0, 0.0435, -0.0436, 2.5, -4.0]),
                                np.array([0.0, math.pi, -1e-9, -math.pi / 2, 2 * math.pi]))
    assert pt.tolist() == [0, 0, 1, 47, 4095]            # floor(pT / 0.5), 12-bit saturation
    assert eta.tolist() == [0, 1, -1, 57, -92]            # round(eta / 0.0435)
    assert phi.tolist() == [0, 72, 143, 108, 0]           # floor(phi / (2pi/144)) on [0, 2pi)
    assert pt.dtype == eta.dtype == phi.dtype == np.int16


def test_encode_and_dequantize_keep_empty_slots_exactly_zero():
    objects = np.zeros((det.N_OBJECTS, 3))
    objects[0] = (40.2, 0.0, 1.0)       # MET
    objects[5] = (30.0, -1.2, -2.0)     # leading muon
    objects[6] = (0.3, 1.0, 1.0)        # below one pT step: encodes as empty
    hw = det.encode_event(objects)
    assert hw.shape == (57,)
    assert hw[det.INPUT_NAMES.index("muon1_pt"):det.INPUT_NAMES.index("muon1_phi") + 1].tolist() == [0, 0, 0]
    phys = det.dequantize(hw[None, :])[0]
    assert phys[det.INPUT_NAMES.index("met_pt")] == 40.0
    assert phys[det.INPUT_NAMES.index("muon0_pt")] == 30.0
    assert abs(phys[det.INPUT_NAMES.index("muon0_eta")] - (-1.2)) <= det.ETA_LSB / 2 + 1e-6
    filled = np.flatnonzero(phys)
    assert set(det.INPUT_NAMES[i] for i in filled) == {"met_pt", "met_phi", "muon0_pt", "muon0_eta", "muon0_phi"}
    assert len(det.INPUT_NAMES) == 57 and det.INPUT_NAMES[:3] == ("met_pt", "met_eta", "met_phi")


def _p4(pt, eta, phi, m=0.0):
    px, py, pz = pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)
    return [px, py, pz, math.sqrt(px * px + py * py + pz * pz + m * m)]


def test_detector_response_on_a_hand_made_event():
    pytest.importorskip("fastjet")
    # an isolated electron, a muon, a photon inside a hadronic jet, a forward muon outside acceptance
    pid = [11, 13, 211, 211, 22, 13]
    p4 = [_p4(40, 0.5, 1.0), _p4(25, -1.0, -2.0), _p4(60, 2.0, 2.9), _p4(30, 2.05, 2.95),
          _p4(10, 2.02, 2.92), _p4(50, 2.5, 0.0)]
    objs = det.l1_objects(np.array(pid), np.array(p4), np.random.default_rng(1))
    eg, mu, jets = objs[1:5], objs[5:9], objs[9:]
    assert np.count_nonzero(eg[:, 0]) == 1 and abs(eg[0, 1] - 0.5) < 1e-9      # photon in the jet not isolated
    assert np.count_nonzero(mu[:, 0]) == 1 and abs(mu[0, 1] + 1.0) < 1e-9      # |eta| 2.5 muon outside 2.1
    assert abs(mu[0, 0] - 25) <= 4 * 0.15 * 25                                   # truncated smearing
    assert np.count_nonzero(jets[:, 0]) >= 1 and 60 < jets[0, 0] < 160 and abs(jets[0, 1] - 2.0) < 0.2
    # MET balances the calorimeter (electron + jet), muons excluded, within the smearing bound
    visible = np.array([_p4(40, 0.5, 1.0), _p4(60, 2.0, 2.9), _p4(30, 2.05, 2.95), _p4(10, 2.02, 2.92)])
    true_met = math.hypot(*visible[:, :2].sum(axis=0))
    assert abs(objs[0, 0] - true_met) < 4 * 0.6 * math.sqrt(140) * math.sqrt(2) + 1e-6
    assert objs[0, 1] == 0.0


def test_prefilter_bound_is_the_largest_unpassable_pt():
    r = det.L1Response()
    bound = r.prefilter_pt(23.0)
    worst = max(r.muon_sigma, math.hypot(r.egamma_stochastic / math.sqrt(r.egamma_pt_min), r.egamma_constant))
    assert bound * (1 + r.truncate_sigma * worst) == pytest.approx(23.0)
    assert bound * (1 + r.truncate_sigma * r.muon_sigma) <= 23.0 + 1e-9


def test_plan_follows_the_mixture_and_seeds_are_stable():
    counts = background_counts(100_000)
    assert counts == {"w": 59_200, "qcd": 33_800, "z": 6_700, "ttbar": 300}
    assert sum(background_counts(12_345).values()) == 12_345
    assert abs(sum(BACKGROUND_FRACTIONS.values()) - 1) < 1e-12
    plan = plan_chunks(1000, 30, seed=0, chunk_size=250)
    assert [c.n_events for c in plan if c.process == "w"] == [250, 250, 92]
    assert sum(c.n_events for c in plan) == 1000 + 30 * len(SIGNALS)
    seeds = [c.seed for c in plan]
    assert len(set(seeds)) == len(seeds) and all(1 <= s <= 900_000_000 for s in seeds)
    assert chunk_seed(0, "w", 1) == plan[1].seed != chunk_seed(1, "w", 1)
    assert events_per_process(10, 3)["A4l"] == 3


def test_a_chunk_is_a_pure_function_of_its_seed_and_a_prefix_of_a_longer_one():
    pytest.importorskip("pythia8mc")
    from nas.datasets.anomaly.pythia_gen import generate_chunk
    a, stats_a = generate_chunk("z", 12345, 3)
    b, _ = generate_chunk("z", 12345, 2)
    c, _ = generate_chunk("z", 54321, 2)
    assert a.dtype == np.int16 and a.shape == (3, 57)
    np.testing.assert_array_equal(a[:2], b)
    assert not np.array_equal(b, c)
    assert stats_a.events >= 3   # filtered process: tries >= kept
    # every kept Z event passes the filter: an L1 e/gamma or muon above 23 GeV (46 steps of 0.5)
    assert np.all(np.maximum(a[:, 3:27:3].max(axis=1), 0) > 46)


def test_make_anomaly_is_the_same_whatever_the_workers_and_resumes(tmp_path):
    pytest.importorskip("pythia8mc")
    one = make_anomaly(tmp_path / "one.npz", n_background=6, n_signal=1, chunk_size=2, workers=1, progress=False)
    two = make_anomaly(tmp_path / "two.npz", n_background=6, n_signal=1, chunk_size=2, workers=2, progress=False)
    with np.load(tmp_path / "one.npz") as f1, np.load(tmp_path / "two.npz") as f2:
        np.testing.assert_array_equal(f1["l1"], f2["l1"])
        np.testing.assert_array_equal(f1["process"], f2["process"])
        assert f1["l1"].shape == (6 + len(SIGNALS), 57)
    assert one["n_events"] == two["n_events"]
    # resume: a second call reuses every checkpoint (no new chunk), same bytes
    (tmp_path / "one.npz").unlink()
    again = make_anomaly(tmp_path / "one.npz", n_background=6, n_signal=1, chunk_size=2, workers=1, progress=False)
    assert again["wall_seconds_this_run"] < 5
    with np.load(tmp_path / "one.npz") as f1, np.load(tmp_path / "two.npz") as f2:
        np.testing.assert_array_equal(f1["l1"], f2["l1"])
    with pytest.raises(Exception, match="other settings"):
        make_anomaly(tmp_path / "one.npz", n_background=6, n_signal=1, chunk_size=3, workers=1, progress=False)


def test_make_anomaly_rejects_bad_arguments(tmp_path):
    with pytest.raises(ConfigError, match="--out"):
        make_anomaly(tmp_path / "x.csv", 10, 1, progress=False)
    with pytest.raises(ConfigError, match="--n-signal"):
        make_anomaly(tmp_path / "x.npz", 10, 0, progress=False)
