"""Per-layer sparsity stated in the spec, and the logic da4ml removes (dead / constant-zero units)."""

from dataclasses import replace

import numpy as np
import pytest

from estimators import DistributedArithmeticEstimator, WeightPrior
from estimators._sparsity import layer_priors, spec_sparsity
from estimators.distributed import live_stats
from estimators.ground_truth import sample_weights
from qnas.errors import ConfigError
from qnas.weights import LayerWeights, ModelWeights

from est_helpers import mlp


def with_sparsity(spec, value):
    return replace(spec, metadata={"sparsity": value})


def test_stated_sparsity_lowers_the_pre_training_estimate():
    model = DistributedArithmeticEstimator(trace="never")
    spec = mlp((16, 32, 16, 5))
    dense, sparse = (model.estimate(with_sparsity(spec, z)) for z in (0.1, 0.8))
    assert sparse.lut < 0.6 * dense.lut and sparse.ff < dense.ff
    assert any("spec's sparsity" in n for n in sparse.notes)
    per_layer = model.estimate(with_sparsity(spec, {"d0": 0.8}))
    assert per_layer.lut < model.estimate(spec).lut


@pytest.mark.parametrize("bad, where", [(1.5, "sparsity"), ("half", "sparsity"), ({"nope": 0.5}, "names no layer"),
                                        ({"d0": -0.1}, "sparsity.d0")])
def test_bad_sparsity_names_the_key(bad, where):
    with pytest.raises(ConfigError, match=where):
        spec_sparsity(with_sparsity(mlp(), bad))


def test_zero_fraction_prior_and_sampled_weights_agree():
    spec = with_sparsity(mlp((32, 64, 5), bits=6), 0.7)
    priors = layer_priors(spec, WeightPrior())
    values, p = priors[0].probabilities(6)
    assert float(p[values == 0].sum()) == pytest.approx(0.7, abs=1e-6)
    w = sample_weights(spec, 3)
    assert float(np.mean(w[0].kernel == 0)) == pytest.approx(0.7, abs=0.05)


def test_dead_and_constant_zero_units_are_not_costed():
    spec = mlp((4, 8, 8, 2), bits=4)
    rng = np.random.default_rng(0)
    k0 = rng.integers(1, 4, size=(4, 8)) * spec.layers[0].weight.step
    k1 = rng.integers(1, 4, size=(8, 8)) * spec.layers[1].weight.step
    k1[:, 5] = -np.abs(k1[:, 5])          # unit 5 of d1: all weights negative, inputs >= 0 -> always 0
    k2 = rng.integers(1, 4, size=(8, 2)) * spec.layers[2].weight.step
    k2[2, :] = 0.0                        # unit 2 of d1: read by no output -> dead
    zeros = [np.zeros(8), -np.ones(8) * spec.layers[1].bias.step, np.zeros(2)]
    weights = ModelWeights([LayerWeights(k, b) for k, b in zip((k0, k1, k2), zeros)])
    stats = live_stats(spec, weights, [WeightPrior()] * 3)
    assert stats[1].n_out == 6            # 8 units minus the dead and the constant-zero one
    assert stats[2].digits < float(np.sum([bin(int(abs(v))).count("1") for v in k2.ravel() / spec.layers[2].weight.step]))


def test_a_layers_pruning_target_counts_as_stated_sparsity():
    spec = mlp((16, 32, 16, 5))
    pruned = replace(spec, layers=tuple(replace(l, sparsity=0.8) if l.name == "d0" else l for l in spec.layers))
    assert spec_sparsity(pruned) == [0.8] + [None] * (len(spec.layers) - 1)
    # the metadata, where it names a layer, wins over the target
    both = replace(pruned, metadata={"sparsity": {"d0": 0.5}})
    assert spec_sparsity(both)[0] == 0.5
    model = DistributedArithmeticEstimator(trace="never")
    assert model.estimate(pruned).lut < model.estimate(spec).lut
