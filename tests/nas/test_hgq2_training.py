"""HGQ2 training in its own environment, end to end (slow: creates the env on first use).

The subprocess protocol on a tiny model, the conversion of its checkpoints to specs with
per-element formats, and one exported design bit-exact in RTL simulation against the
HGQ2 model's own outputs.
"""

import numpy as np
import optuna
import pytest

from qnas.artifacts import TrialArtifacts
from qnas.data import Dataset
from qnas.fixed_point import reference_forward

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_jets():
    from nas.datasets import load_dataset
    d = load_dataset("jets", {"test_fraction": 0.2, "val_fraction": 0.2}, seed=0)
    return Dataset(name="jets-tiny", task="classification", x_train=d.x_train[:4000], y_train=d.y_train[:4000],
                   x_val=d.x_val[:1000], y_val=d.y_val[:1000], x_test=d.x_test[:1000], y_test=d.y_test[:1000],
                   feature_names=d.feature_names, class_names=d.class_names)


@pytest.fixture(scope="module")
def trained(tiny_jets):
    from nas.hgq2 import HGQ2Trainer
    from search_spaces import build_search_space
    space = build_search_space({"family": "hgq2_mlp", "depth": [1], "width": [6], "beta_end": [1.0e-2],
                                "recipe": {"epochs": 12, "beta_hold_epochs": 2, "batch_size": 1024,
                                           "max_checkpoints": 3}})
    params = {"input/bits": 7, "input/integer": 3, "depth": 1, "beta_start": 2e-6, "beta_end": 1e-2,
              "dense_0/units": 6}
    spec = space.sample(optuna.trial.FixedTrial(params), 16, 5)
    return spec, HGQ2Trainer(seed=0, threads=1).train(spec, tiny_jets)


def test_checkpoints_are_specs_the_reference_reproduces(trained, tiny_jets):
    sampled, best = trained
    designs = [best] + best.checkpoints
    assert 1 <= len(designs) <= 3
    assert best.val_metrics["accuracy"] == max(d.val_metrics["accuracy"] for d in designs)
    for d in designs:
        assert d.spec.heterogeneous and d.spec.widths == sampled.widths
        assert d.spec.family == "hgq2_mlp" and "checkpoint" in d.spec.metadata
        x_q = d.arrays["x_test_q"]
        assert np.array_equal(reference_forward(d.spec, d.weights, x_q), d.arrays["y_test"])
        acc = np.mean(d.arrays["y_test"].argmax(1) == tiny_jets.y_test.argmax(1)
                      if tiny_jets.y_test.ndim == 2 else d.arrays["y_test"].argmax(1) == tiny_jets.y_test)
        assert d.metrics["accuracy"] == pytest.approx(acc)


def test_exported_design_is_bit_exact_in_rtl_simulation(trained, tiny_jets, tmp_path):
    from hls_backend.bundle import export_trial
    from nas.hgq2 import HGQ2Trainer
    _, best = trained
    art = TrialArtifacts.for_trial(tmp_path / "run", 0)
    HGQ2Trainer(seed=0).save(best, art, tiny_jets, n_vectors=300)
    assert art.exists() and art.trainer == "hgq2" and art.keras3_model.exists()
    res = export_trial(art, tmp_path / "fw", 0, part="xcvu9p", clock_ns=5.0, echo=lambda s: None)
    assert res.ok, res.error
    assert res.rtl_sim["vectors_checked"] == 300 and res.rtl_sim["vectors_mismatched"] == 0
    assert res.csim["bitexact_rate"] == 1.0 and res.csim["n_samples"] == 300  # hls4ml C sim, in the env
