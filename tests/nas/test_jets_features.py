"""The 16 features on toy jets whose values can be computed by hand (3-4-5 triangle)."""

import math

import numpy as np
import pytest

pytest.importorskip("fastjet")

from nas.datasets.jets import FEATURE_NAMES, jet_features_from_constituents  # noqa: E402


def _p4(pt, y, phi):
    """Massless four-vector (px, py, pz, E) at rapidity y (= eta for massless)."""
    return [pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(y), pt * math.cosh(y)]


def _mass(p4s):
    s = np.sum(np.asarray(p4s), axis=0)
    return math.sqrt(max(s[3] ** 2 - s[0] ** 2 - s[1] ** 2 - s[2] ** 2, 0.0))


# z = 0.5, 0.3, 0.2; pairwise dR: 12 = 0.3, 13 = 0.4, 23 = 0.5
TOY = [_p4(500.0, 0.0, 0.0), _p4(300.0, 0.3, 0.0), _p4(200.0, 0.0, 0.4)]
Z = (0.5, 0.3, 0.2)


def _e2(beta):
    return 0.15 * 0.3 ** beta + 0.10 * 0.4 ** beta + 0.06 * 0.5 ** beta


def _e3(beta):
    return 0.03 * (0.3 * 0.4 * 0.5) ** beta


def test_toy_jet_matches_hand_computed_definitions():
    f = jet_features_from_constituents(np.array(TOY))
    expected = {
        "zlogz": sum(z * math.log(z) for z in Z),
        "c1_b0_mmdt": 0.31, "c1_b1_mmdt": 0.115, "c1_b2_mmdt": 0.0445,
        "c2_b1_mmdt": _e3(1) / _e2(1) ** 2, "c2_b2_mmdt": _e3(2) / _e2(2) ** 2,
        "d2_b1_mmdt": _e3(1) / _e2(1) ** 3, "d2_b2_mmdt": _e3(2) / _e2(2) ** 3,
        "d2_a1_b1_mmdt": _e3(1) / _e2(1) ** 3, "d2_a1_b2_mmdt": _e3(1) / _e2(2) ** 1.5,
        # generalized: 1e3 keeps the smallest angle (0.3), 2e3 the two smallest (0.3 * 0.4)
        "m2_b1_mmdt": 0.03 * 0.3 / _e2(1), "m2_b2_mmdt": 0.03 * 0.09 / _e2(2),
        "n2_b1_mmdt": 0.03 * 0.12 / _e2(1) ** 2, "n2_b2_mmdt": 0.03 * 0.0144 / _e2(2) ** 2,
        "mass_mmdt": _mass(TOY),  # softer prong has z = 0.2 > 0.1: nothing groomed
        "multiplicity": 3,
    }
    assert set(expected) == set(FEATURE_NAMES)
    for name, value in expected.items():
        assert f[name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    total = np.sum(np.asarray(TOY), axis=0)
    assert f["jet_pt"] == pytest.approx(math.hypot(total[0], total[1]), rel=1e-12)
    assert f["jet_mass"] == pytest.approx(_mass(TOY), rel=1e-9)


def test_mmdt_grooms_a_soft_wide_particle_but_ungroomed_features_keep_it():
    soft = _p4(5.0, -0.5, -0.5)  # z = 5/1005 < 0.1, dR ~ 0.7 from the core: groomed away
    f = jet_features_from_constituents(np.array(TOY + [soft]))
    core = jet_features_from_constituents(np.array(TOY))
    for name in FEATURE_NAMES:
        if name.endswith("_mmdt"):
            assert f[name] == pytest.approx(core[name], rel=1e-9), name
    assert f["multiplicity"] == 4
    zs = np.array([500.0, 300.0, 200.0, 5.0]) / 1005.0
    assert f["zlogz"] == pytest.approx(float(np.sum(zs * np.log(zs))), rel=1e-9)
    assert f["jet_mass"] > core["jet_mass"] + 1.0  # the ungroomed mass does see it


def test_asymmetric_split_is_groomed_to_the_hard_prong():
    # two hard collinear particles plus a 5 % prong far away: mMDT drops the far prong
    hard = [_p4(600.0, 0.0, 0.0), _p4(350.0, 0.05, 0.0)]
    far = _p4(50.0, 0.0, 0.6)
    f = jet_features_from_constituents(np.array(hard + [far]))
    assert f["mass_mmdt"] == pytest.approx(_mass(hard), rel=1e-9)
    assert f["c1_b1_mmdt"] == pytest.approx((600 * 350) / 950 ** 2 * 0.05, rel=1e-9)
