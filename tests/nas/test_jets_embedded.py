"""The committed Pythia 8 sample: size, balance, physics, loader, and bit-for-bit regeneration."""

import json
from importlib.metadata import version

import numpy as np
import pytest

from nas.datasets.jets import CLASS_NAMES, FEATURE_NAMES, embedded_path, load_embedded_jets
from nas.datasets.jets.sanity import physics_checks, physics_summary


@pytest.fixture(scope="module")
def sample():
    path = embedded_path()
    with np.load(path) as f:
        cols = {k: f[k] for k in f.files}
    sidecar = json.loads(path.with_suffix(".json").read_text())
    return path, cols, sidecar


def test_file_is_small_balanced_and_documented(sample):
    path, cols, sidecar = sample
    assert path.stat().st_size <= 10.5e6
    counts = {c: int(np.sum(cols["class"] == c)) for c in CLASS_NAMES}
    assert len(set(counts.values())) == 1 and sum(counts.values()) == sidecar["n_jets"]
    assert sidecar["command"].startswith("qnas data make-jets")
    assert f"--seed {sidecar['seed']}" in sidecar["command"]
    for key in ("pythia8mc", "fastjet", "numpy", "cxx"):
        assert sidecar["versions"][key]
    assert sum(c["n_jets"] for c in sidecar["chunks"]) == sidecar["n_jets"]
    assert all(np.isfinite(cols[n]).all() for n in FEATURE_NAMES)
    assert np.all((cols["jet_pt"] >= sidecar["cuts"]["pt_min"]) & (cols["jet_pt"] <= sidecar["cuts"]["pt_max"]))


def test_sample_behaves_like_physics(sample):
    """Expectations written here, independent of sanity.py's windows (which the report uses)."""
    _, cols, _ = sample
    classes = physics_summary(cols)["classes"]
    assert set(classes) == set(CLASS_NAMES)
    for c, pole, window, near in (("w", 80.4, 5.0, 0.5), ("z", 91.2, 5.0, 0.5), ("t", 172.7, 10.0, 0.25)):
        assert abs(classes[c]["mass_mmdt_peak"] - pole) <= window, c  # groomed mass peaks at the pole
        assert classes[c]["fraction_within_10GeV_of_pole"] > near, c
    for feature in ("n2_b1_mmdt_median", "d2_b1_mmdt_median"):  # two-prong below one-prong
        assert max(classes["w"][feature], classes["z"][feature]) < min(classes["g"][feature], classes["q"][feature])
    assert classes["g"]["multiplicity_median"] > 1.3 * classes["q"]["multiplicity_median"]  # C_A/C_F = 9/4
    checks = physics_checks(physics_summary(cols))
    assert len(checks) == 6 and all(ok for _, ok, _ in checks), checks


def test_physics_checks_fail_on_a_sample_without_physics(sample):
    _, cols, _ = sample
    shuffled = dict(cols)
    shuffled["class"] = np.random.default_rng(0).permutation(cols["class"])  # labels no longer mean anything
    checks = physics_checks(physics_summary(shuffled))
    assert len(checks) == 6 and not all(ok for _, ok, _ in checks)


def test_loader_gives_the_hls4ml_preprocessing(sample):
    _, cols, sidecar = sample
    ds = load_embedded_jets({}, seed=0)
    assert ds.feature_names == FEATURE_NAMES and ds.class_names == CLASS_NAMES
    n = sidecar["n_jets"]
    assert len(ds.x_test) == pytest.approx(0.2 * n, abs=5) and len(ds.x_val) == pytest.approx(0.2 * n, abs=5)
    assert np.allclose(ds.x_train.mean(axis=0), 0, atol=1e-3)
    assert ds.provenance["command"] == sidecar["command"]
    small = load_embedded_jets({"max_rows": 1000}, seed=0)
    assert len(small.x_train) + len(small.x_val) + len(small.x_test) == 1000


def _regenerate_and_compare(cols, sidecar, label, chunk_index, n):
    from nas.datasets.jets.generate import rows_to_columns
    from nas.datasets.jets.pythia_gen import JetCuts, generate_chunk
    for pkg in ("pythia8mc", "fastjet"):
        if version(pkg) != sidecar["versions"][pkg]:
            pytest.skip(f"{pkg} {version(pkg)} differs from the sample's {sidecar['versions'][pkg]}")
    chunk = next(c for c in sidecar["chunks"] if c["label"] == label and c["index"] == chunk_index)
    rows, _ = generate_chunk(label, chunk["seed"], n, JetCuts(**sidecar["cuts"]))
    fresh = rows_to_columns(rows, [label] * n)
    sl = slice(chunk["offset"], chunk["offset"] + n)
    for name, values in fresh.items():
        assert np.array_equal(values, cols[name][sl]), f"{label} chunk {chunk_index}: column {name} differs"


@pytest.mark.parametrize("label", ["w", "z"])
def test_regenerating_a_chunk_prefix_gives_the_committed_jets(sample, label):
    pytest.importorskip("pythia8mc")
    pytest.importorskip("fastjet")
    _, cols, sidecar = sample
    _regenerate_and_compare(cols, sidecar, label, 0, 2)


@pytest.mark.slow
@pytest.mark.parametrize("label", CLASS_NAMES)
def test_regenerating_later_chunks_gives_the_committed_jets(sample, label):
    pytest.importorskip("pythia8mc")
    _, cols, sidecar = sample
    _regenerate_and_compare(cols, sidecar, label, 1, 25)
