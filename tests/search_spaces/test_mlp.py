"""The fully connected family: conditional parameters, stable names, valid reuse factors."""

import optuna
import pytest
from optuna.trial import FixedTrial

from qnas.errors import InfeasibleCandidate
from qnas.spec import valid_reuse_factors
from search_spaces import MLPSpace, allowed_reuse_factors, build_search_space

optuna.logging.set_verbosity(optuna.logging.WARNING)

SPACE = {
    "family": "mlp", "depth": [1, 2, 3], "width": [8, 12, 32],
    "weight_bits": [16, 8, 4, "ternary", "binary"], "activation_bits": [4, 8],
    "reuse_factor": [1, 2, 3, 4, 8, 16, 64], "strategy": ["latency", "resource"],
}


def _sample_many(space, n=60, n_in=16, n_out=5, seed=0):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    out = []
    for _ in range(n):
        trial = study.ask()
        spec = space.sample(trial, n_in, n_out)
        study.tell(trial, 0.0)
        out.append((study.trials[-1], spec))
    return out


def test_layer_parameters_exist_only_when_the_network_is_that_deep():
    seen_depths = set()
    for frozen, spec in _sample_many(MLPSpace(SPACE)):
        depth = frozen.params["depth"]
        seen_depths.add(depth)
        assert len(spec.layers) == depth + 1
        for k in range(3):
            present = {p for p in frozen.params if p.startswith(f"dense_{k}/")}
            if k < depth:
                assert {f"dense_{k}/units", f"dense_{k}/weight_bits", f"dense_{k}/activation_bits",
                        f"dense_{k}/reuse_index"} <= present
            else:
                assert present == set()
    assert seen_depths == {1, 2, 3}


def test_weight_integer_is_drawn_only_for_fixed_point_weights():
    kinds = set()
    for frozen, spec in _sample_many(MLPSpace(SPACE)):
        for layer in spec.layers:
            kinds.add(layer.weight.kind)
            assert (f"{layer.name}/weight_integer" in frozen.params) == (layer.weight.kind == "fixed")
    assert kinds == {"fixed", "ternary", "binary"}


def test_categorical_choices_never_change_between_trials():
    sampled = _sample_many(MLPSpace(SPACE))
    by_name = {}
    for frozen, _ in sampled:
        for name, dist in frozen.distributions.items():
            if isinstance(dist, optuna.distributions.CategoricalDistribution):
                assert by_name.setdefault(name, dist) == dist, name


def test_reuse_factor_is_valid_for_the_shape_allowed_and_recorded():
    allowed = set(SPACE["reuse_factor"])
    seen = set()
    for frozen, spec in _sample_many(MLPSpace(SPACE), n=80):
        for layer, n_in, _ in spec.layer_inputs():
            assert layer.reuse_factor in valid_reuse_factors(n_in, layer.units)
            assert layer.reuse_factor in allowed
            assert frozen.user_attrs[f"{layer.name}/reuse_factor"] == layer.reuse_factor
            valid = allowed_reuse_factors(n_in, layer.units, SPACE["reuse_factor"])
            assert valid[frozen.params[f"{layer.name}/reuse_index"]] == layer.reuse_factor
            seen.add(layer.reuse_factor)
    assert len(seen) > 3  # the index really moves over the list


def test_allowed_reuse_factors_filters_hls4ml_valid_list():
    # 16x5 (80 multiplications): hls4ml accepts 1, 2, 4, 8, 16 and 80
    assert valid_reuse_factors(16, 5) == (1, 2, 4, 8, 16, 80)
    assert allowed_reuse_factors(16, 5, (1, 3, 16, 48, 80, 100)) == (1, 16, 80)


def test_no_allowed_reuse_factor_for_a_shape_prunes_the_candidate():
    space = MLPSpace({**SPACE, "depth": [1], "width": [8], "reuse_factor": [3]})
    with pytest.raises(InfeasibleCandidate, match=r"dense_0 \(16x8\).*reuse factors \[3\]"):
        space.sample(FixedTrial({"strategy": "latency", "input/bits": 8, "input/integer": 3, "depth": 1,
                                 "dense_0/units": 8, "dense_0/weight_bits": 8, "dense_0/weight_integer": 0,
                                 "dense_0/bias_bits": 8, "dense_0/bias_integer": 3,
                                 "dense_0/activation_bits": 8, "dense_0/activation_integer": 3}), 16, 5)


def test_fixed_trial_builds_exactly_the_spec_asked_for():
    params = {"strategy": "resource", "input/bits": 8, "input/integer": 3, "depth": 1,
              "dense_0/units": 32, "dense_0/weight_bits": "ternary", "dense_0/bias_bits": 8,
              "dense_0/bias_integer": 3, "dense_0/activation_bits": 4, "dense_0/activation_integer": 3,
              "dense_0/reuse_index": 1, "output/weight_bits": "binary", "output/bias_bits": 8,
              "output/bias_integer": 3, "output/reuse_index": 0}
    spec = MLPSpace(SPACE).sample(FixedTrial(params), 16, 5)
    assert spec.widths == (16, 32, 5)
    assert spec.strategy == "resource" and spec.task == "classification"
    assert spec.layers[0].weight.kind == "ternary" and spec.layers[1].weight.kind == "binary"
    assert spec.layers[0].activation.bits == 4 and not spec.layers[0].activation.signed
    assert spec.layers[1].activation is None  # logits
    assert spec.layers[0].reuse_factor == allowed_reuse_factors(16, 32, SPACE["reuse_factor"])[1]


def test_distributed_arithmetic_draws_no_reuse_factor():
    space = MLPSpace({**SPACE, "strategy": ["distributed_arithmetic"]})
    for frozen, spec in _sample_many(space, n=10):
        assert all(layer.reuse_factor == 1 for layer in spec.layers)
        assert not [p for p in frozen.params if p.endswith("/reuse_index")]


def test_per_layer_and_output_overrides_apply():
    space = build_search_space({**SPACE, "layers": [{"weight_bits": [16], "units": [64]}],
                                "output": {"weight_bits": ["binary"]}})
    for _, spec in _sample_many(space, n=15):
        assert spec.layers[0].weight.bits == 16 and spec.layers[0].units == 64
        assert spec.layers[-1].weight.kind == "binary"
        if len(spec.layers) > 2:
            assert spec.layers[1].units in SPACE["width"]


def test_same_seed_same_candidates():
    a = [s.fingerprint() for _, s in _sample_many(MLPSpace(SPACE), n=10, seed=3)]
    b = [s.fingerprint() for _, s in _sample_many(MLPSpace(SPACE), n=10, seed=3)]
    c = [s.fingerprint() for _, s in _sample_many(MLPSpace(SPACE), n=10, seed=4)]
    assert a == b
    assert len(set(a)) > 5  # a constant sampler would give one candidate ten times
    assert a != c  # and the seed is what decides them


def test_sparsity_and_cost_penalty_are_searched_with_stable_names():
    space = MLPSpace({**SPACE, "strategy": ["distributed_arithmetic"], "sparsity": [0, 0.5, 0.8],
                      "cost_penalty": [0, 1e-5, 1e-4], "output": {"sparsity": [0, 0.25]}})
    seen_sparsity, seen_penalty = set(), set()
    for frozen, spec in _sample_many(space):
        assert frozen.distributions["cost_penalty"].choices == (0, 1e-5, 1e-4)
        penalty = frozen.params["cost_penalty"]
        seen_penalty.add(penalty)
        assert spec.metadata.get("training", {}).get("cost_penalty", 0) == penalty
        for layer in spec.layers:
            name = f"{layer.name}/sparsity"
            if layer.weight.kind == "binary":  # binary weights cannot be zero: never pruned
                assert name not in frozen.params and layer.sparsity == 0
            else:
                assert layer.sparsity == frozen.params[name]
                seen_sparsity.add((layer.name == "output", layer.sparsity))
    assert seen_penalty == {0, 1e-5, 1e-4}
    assert {s for out, s in seen_sparsity if out} == {0, 0.25}
    assert {s for out, s in seen_sparsity if not out} == {0, 0.5, 0.8}


def test_spaces_without_the_levers_draw_no_new_parameters():
    for frozen, spec in _sample_many(MLPSpace(SPACE), n=20):
        assert not any(p.endswith("/sparsity") or p == "cost_penalty" for p in frozen.params)
        assert all(layer.sparsity == 0 for layer in spec.layers) and "training" not in spec.metadata
