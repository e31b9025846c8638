"""Does a jet sample behave like physics? Mass peaks and prong-counting observables per class.

Used by ``benchmarks/jet_physics.py`` (report and plots) and by the tests on the committed
sample. Expectations: the mMDT-groomed mass of W, Z and top jets peaks near 80.4, 91.2 and
172.7 GeV (mMDT removes soft wide radiation, leaving the decay products); two-prong W/Z jets
have lower N2 and D2 than one-prong quark/gluon jets; gluon jets have more constituents than
quark jets (colour factor C_A/C_F = 9/4).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .features import CLASS_NAMES

POLE_MASS = {"w": 80.4, "z": 91.2, "t": 172.7}
#: accepted range of the mass-histogram peak (GeV): detector-free, so peaks are sharp
PEAK_WINDOW = {"w": (75.0, 86.0), "z": (85.0, 97.0), "t": (160.0, 185.0)}


def mass_peak(mass: np.ndarray, low: float = 40.0, high: float = 260.0, width: float = 2.0) -> float:
    """Centre of the most populated ``width``-GeV bin of the mass histogram in [low, high]."""
    edges = np.arange(low, high + width, width)
    counts, _ = np.histogram(mass, bins=edges)
    i = int(np.argmax(counts))
    return float(0.5 * (edges[i] + edges[i + 1]))


def physics_summary(columns: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Per-class counts, mass peaks and medians of the discriminating features."""
    labels = np.asarray(columns["class"]).astype(str)
    out: dict[str, Any] = {"n_jets": int(len(labels)), "classes": {}}
    for c in CLASS_NAMES:
        sel = labels == c
        if not sel.any():
            continue
        mass = np.asarray(columns["mass_mmdt"])[sel].astype(np.float64)
        info: dict[str, Any] = {"n": int(sel.sum()), "mass_mmdt_peak": mass_peak(mass),
                                "mass_mmdt_median": float(np.median(mass))}
        if c in POLE_MASS:
            info["fraction_within_10GeV_of_pole"] = float(np.mean(np.abs(mass - POLE_MASS[c]) < 10.0))
        for name in ("n2_b1_mmdt", "d2_b1_mmdt", "c2_b1_mmdt", "multiplicity", "zlogz"):
            info[f"{name}_median"] = float(np.median(np.asarray(columns[name])[sel]))
        if "jet_pt" in columns:
            info["jet_pt_quartiles"] = [float(v) for v in np.percentile(np.asarray(columns["jet_pt"])[sel], [25, 50, 75])]
        out["classes"][c] = info
    return out


def physics_checks(summary: Mapping[str, Any]) -> list[tuple[str, bool, str]]:
    """(check, passed, detail) for each expectation of the module docstring."""
    cls = summary["classes"]
    checks = []
    for c, (low, high) in PEAK_WINDOW.items():
        if c in cls:
            peak = cls[c]["mass_mmdt_peak"]
            checks.append((f"{c} mMDT mass peak in [{low:g}, {high:g}] GeV", low <= peak <= high, f"{peak:.1f} GeV"))
    for feature in ("n2_b1_mmdt", "d2_b1_mmdt"):
        two = [cls[c][f"{feature}_median"] for c in ("w", "z") if c in cls]
        one = [cls[c][f"{feature}_median"] for c in ("g", "q") if c in cls]
        if two and one:
            checks.append((f"median {feature}: two-prong (w, z) below one-prong (g, q)", max(two) < min(one),
                           f"w/z {', '.join(f'{v:.3f}' for v in two)} vs g/q {', '.join(f'{v:.3f}' for v in one)}"))
    if "g" in cls and "q" in cls:
        g, q = cls["g"]["multiplicity_median"], cls["q"]["multiplicity_median"]
        checks.append(("median multiplicity: gluon above quark", g > q, f"g {g:.0f} vs q {q:.0f}"))
    return checks
