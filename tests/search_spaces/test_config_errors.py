"""Invalid search spaces fail at load time, naming the offending key."""

import pytest

from qnas.errors import ConfigError
from search_spaces import build_search_space

BASE = {"family": "mlp", "depth": [1, 2], "width": [8, 16]}


def _error(data) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        build_search_space(data)
    return err.value


@pytest.mark.parametrize("data", [None, {}])
def test_empty_search_space_fails(data):
    err = _error(data)
    assert err.path == "search_space" and "is empty" in str(err)


def test_empty_choice_list_fails():
    err = _error({**BASE, "width": []})
    assert err.path == "search_space.width" and "at least one choice" in str(err)


def test_unknown_key_did_you_mean():
    err = _error({**BASE, "wieght_bits": [8]})
    assert err.path == "search_space.wieght_bits" and "did you mean 'weight_bits'?" in str(err)


def test_unknown_family_did_you_mean():
    err = _error({**BASE, "family": "mpl"})
    assert err.path == "search_space.family" and "did you mean 'mlp'?" in str(err)


def test_bad_bits_in_a_layer_override_names_the_layer():
    err = _error({**BASE, "layers": [{}, {"weight_bits": [8, 1]}]})
    assert err.path == "search_space.layers[1].weight_bits[1]"
    assert "must be an int in [2, 16], 'ternary' or 'binary'; got 1" in str(err)


def test_bad_activation_bits():
    err = _error({**BASE, "activation_bits": [17]})
    assert err.path == "search_space.activation_bits[0]" and "got 17" in str(err)


def test_integer_bits_that_do_not_fit_the_smallest_width():
    err = _error({**BASE, "weight_bits": [8, 2], "weight_integer": [0, 2]})
    assert err.path == "search_space.weight_integer" and "2-bit weights" in str(err)
    err = _error({**BASE, "activation_bits": [4], "activation_integer": [5]})
    assert err.path == "search_space.activation_integer"
    err = _error({**BASE, "input_bits": [4], "input_integer": [4]})
    assert err.path == "search_space.input_integer"


def test_integer_bits_ignored_when_only_ternary_or_binary():
    """5 integer bits fit no fixed-point weight here, but none is ever drawn: no error, no effect."""
    import optuna

    space = build_search_space({**BASE, "weight_bits": ["ternary", "binary"], "weight_integer": [5]})
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        trial = study.ask()
        spec = space.sample(trial, 16, 5)
        assert all(layer.weight.kind in ("ternary", "binary") for layer in spec.layers)
        assert not [p for p in trial.params if p.endswith("/weight_integer")]
        study.tell(trial, 0.0)
    # the same integer bits with a fixed-point choice are refused
    err = _error({**BASE, "weight_bits": ["ternary", 4], "weight_integer": [5]})
    assert err.path == "search_space.weight_integer"


def test_more_layer_overrides_than_layers():
    err = _error({**BASE, "layers": [{}, {}, {}]})
    assert err.path == "search_space.layers" and "deepest network has 2" in str(err)


def test_output_has_no_units_or_activation():
    err = _error({**BASE, "output": {"units": [4]}})
    assert err.path == "search_space.output.units"
    err = _error({**BASE, "output": {"activation_bits": [4]}})
    assert err.path == "search_space.output.activation_bits"


def test_depth_and_strategy_are_checked():
    assert _error({**BASE, "depth": [0]}).path == "search_space.depth[0]"
    assert _error({**BASE, "depth": [9]}).path == "search_space.depth[0]"
    err = _error({**BASE, "strategy": ["fast"]})
    assert err.path == "search_space.strategy[0]" and "'latency'" in str(err)


def test_missing_required_key():
    assert _error({"family": "mlp", "width": [8]}).path == "search_space.depth"
    assert _error({"family": "autoencoder", "depth": [1], "width": [8]}).path == "search_space.latent"


@pytest.mark.parametrize("data, path, words", [
    ({**BASE, "sparsity": [0, 0.99]}, "search_space.sparsity[1]", "[0, 0.95]"),
    ({**BASE, "layers": [{"sparsity": [-0.1]}]}, "search_space.layers[0].sparsity[0]", "[0, 0.95]"),
    ({**BASE, "output": {"sparsity": ["half"]}}, "search_space.output.sparsity[0]", "a number"),
    ({**BASE, "cost_penalty": [0, 2]}, "search_space.cost_penalty[1]", "[0, 1]"),
    ({**BASE, "cost_penality": [0]}, "search_space.cost_penality", "did you mean 'cost_penalty'?"),
])
def test_lever_choices_are_validated_with_the_key_path(data, path, words):
    err = _error(data)
    assert err.path == path and words in str(err)
