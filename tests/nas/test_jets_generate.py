"""Jet generator: seeds, chunk plan, truth matching, and bit-for-bit reproducibility."""

import numpy as np
import pytest

from nas.datasets.jets.features import CLASS_NAMES, FEATURE_NAMES
from nas.datasets.jets.generate import (ChunkSpec, _execution_order, chunk_seed, jets_per_class,
                                        plan_chunks)
from nas.datasets.jets.pythia_gen import JetCuts, _Truth, match_label, pythia_settings
from qnas.errors import ConfigError, DataError


def test_chunk_seeds_are_deterministic_distinct_and_in_pythia_range():
    seeds = {(s, c, i): chunk_seed(s, c, i) for s in (0, 1) for c in CLASS_NAMES for i in range(50)}
    assert len(set(seeds.values())) == len(seeds)
    assert all(1 <= v <= 900_000_000 for v in seeds.values())
    assert chunk_seed(0, "w", 3) == seeds[(0, "w", 3)]


def test_plan_is_balanced_and_independent_of_run_size():
    assert jets_per_class(23) == {"g": 5, "q": 5, "t": 5, "w": 4, "z": 4}
    plan = plan_chunks(23, seed=7, chunk_size=2)
    assert [c.n_jets for c in plan if c.label == "g"] == [2, 2, 1]
    assert [c.n_jets for c in plan if c.label == "w"] == [2, 2]
    assert all(c.seed == chunk_seed(7, c.label, c.index) for c in plan)
    big = {(c.label, c.index): c.seed for c in plan_chunks(1000, seed=7, chunk_size=2)}
    assert all(big[(c.label, c.index)] == c.seed for c in plan)
    order = _execution_order(plan)
    assert [c.label for c in order[:5]] == list(CLASS_NAMES)  # round-robin over classes
    assert ChunkSpec("q", 3, 10, 1).filename == "q_0003_10.npz"


def test_settings_select_processes_and_seed():
    lines = pythia_settings("w", 1234, JetCuts())
    assert "Random:seed = 1234" in lines and "32:onIfMatch = 24 -24" in lines
    assert "24:onIfAny = 1 2 3 4 5" in lines
    assert any(s.startswith("PhaseSpace:pTHatMin") for s in pythia_settings("g", 1, JetCuts()))
    assert "HardQCD:nQuarkNew = 3" in pythia_settings("q", 1, JetCuts())


def test_truth_matching_requires_contained_decay_products():
    w = _Truth("w", 0.0, 0.0, [(0.2, 0.1), (-0.2, -0.1)])
    assert match_label(0.05, 0.0, [w], 0.8) == "w"
    spilled = _Truth("w", 0.0, 0.0, [(0.9, 0.0), (-0.1, 0.0)])
    assert match_label(0.0, 0.0, [spilled], 0.8) is None
    assert match_label(1.0, 0.0, [w], 0.8) is None  # too far from the boson
    # nearest parton decides; heavy-flavour partons ('other') are not a class
    partons = [_Truth("g", 0.0, 0.0), _Truth("q", 0.3, 0.0)]
    assert match_label(0.25, 0.0, partons, 0.8) == "q"
    assert match_label(0.0, 0.0, [_Truth("other", 0.0, 0.0)], 0.8) is None
    # phi wraps around
    assert match_label(0.0, np.pi - 0.05, [_Truth("g", 0.0, -np.pi + 0.05)], 0.8) == "g"


def test_make_jets_rejects_bad_arguments(tmp_path):
    from nas.datasets.jets.generate import make_jets
    with pytest.raises(ConfigError, match="--n-jets"):
        make_jets(tmp_path / "x.npz", 3)
    with pytest.raises(ConfigError, match="--out"):
        make_jets(tmp_path / "x.txt", 10)


def _columns(path):
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def test_a_chunk_is_a_pure_function_of_its_seed():
    pytest.importorskip("pythia8mc")
    pytest.importorskip("fastjet")
    from nas.datasets.jets.pythia_gen import generate_chunk
    a, stats = generate_chunk("w", 4242, 2, JetCuts())
    b, _ = generate_chunk("w", 4242, 2, JetCuts())
    assert a.shape == (2, 20) and np.array_equal(a, b)
    assert stats.events >= 1 and stats.jets_in_window >= 2
    c, _ = generate_chunk("w", 4243, 2, JetCuts())
    assert not np.array_equal(a, c)


@pytest.mark.slow
def test_generation_is_reproducible_and_resumes(tmp_path):
    pytest.importorskip("pythia8mc")
    pytest.importorskip("fastjet")
    from nas.datasets.jets.generate import make_jets
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    side = make_jets(a, 5, seed=11, chunk_size=1, progress=False)
    assert side["n_jets"] == 5 and side["jets_per_class"] == {c: 1 for c in CLASS_NAMES}
    make_jets(b, 5, seed=11, chunk_size=1, progress=False)
    assert a.read_bytes() == b.read_bytes()
    cols = _columns(a)
    assert list(cols["class"]) == list(CLASS_NAMES)
    assert all(np.isfinite(cols[n]).all() for n in FEATURE_NAMES)
    assert np.all((cols["jet_pt"] >= 800) & (cols["jet_pt"] <= 1200))
    # interrupted run: a missing chunk is regenerated, the rest reused, same bytes
    (tmp_path / "b.npz.chunks" / "t_0000_1.npz").unlink()
    make_jets(b, 5, seed=11, chunk_size=1, progress=False)
    assert a.read_bytes() == b.read_bytes()
    # checkpoints of other settings are refused, not mixed in
    with pytest.raises(DataError, match="chunk_size"):
        make_jets(b, 5, seed=11, chunk_size=2, progress=False)


@pytest.mark.slow
def test_parallel_workers_give_identical_bytes(tmp_path):
    pytest.importorskip("pythia8mc")
    from nas.datasets.jets.generate import make_jets
    make_jets(tmp_path / "one.npz", 20, seed=5, chunk_size=2, workers=1, progress=False)
    make_jets(tmp_path / "two.npz", 20, seed=5, chunk_size=2, workers=2, progress=False)
    assert (tmp_path / "one.npz").read_bytes() == (tmp_path / "two.npz").read_bytes()
    # a chunk of n jets is the prefix of the same chunk with more jets
    make_jets(tmp_path / "big.npz", 25, seed=5, chunk_size=3, progress=False)
    one, big = _columns(tmp_path / "one.npz"), _columns(tmp_path / "big.npz")
    for c in CLASS_NAMES:
        assert np.array_equal(one["n2_b1_mmdt"][one["class"] == c][:2], big["n2_b1_mmdt"][big["class"] == c][:2])
