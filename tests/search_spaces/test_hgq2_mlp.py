"""The hgq2_mlp family: its configuration is validated like the others'; sampling is stable."""

import optuna
import pytest

from nas.config import StudyConfig
from qnas.errors import ConfigError
from search_spaces import HGQ2MLPSpace, build_search_space


def _space(**changes):
    data = {"family": "hgq2_mlp", "depth": [2, 3], "width": [16, 32, 64]}
    data.update(changes)
    return build_search_space(data)


def test_defaults_are_hgq2s_jet_recipe():
    space = _space()
    assert isinstance(space, HGQ2MLPSpace) and space.trainer == "hgq2"
    r = space.recipe
    assert (r.epochs, r.beta_hold_epochs, r.batch_size, r.learning_rate) == (1200, 100, 8192, 5e-3)
    assert space.beta_start == (2e-6,) and space.beta_end == (1e-3,)


@pytest.mark.parametrize("changes, key, text", [
    ({"widht": [8]}, "search_space.widht", "did you mean 'width'"),
    ({"beta_end": [1e-7]}, "search_space.beta_end", "must be >= every beta_start"),
    ({"beta_start": [0]}, "search_space.beta_start", "must be > 0"),
    ({"recipe": {"epoch": 10}}, "search_space.recipe.epoch", "did you mean 'epochs'"),
    ({"recipe": {"epochs": 10, "beta_hold_epochs": 10}}, "search_space.recipe.beta_hold_epochs", "below epochs"),
    ({"recipe": {"batch_size": 0}}, "search_space.recipe.batch_size", "must be"),
    ({"input_bits": [4], "input_integer": [4]}, "search_space.input_integer", "do not fit"),
    ({"depth": [9]}, "search_space.depth[0]", "must be"),
])
def test_bad_values_name_the_key(changes, key, text):
    with pytest.raises(ConfigError) as err:
        _space(**changes)
    assert err.value.path == key and text in str(err.value)


def test_required_keys():
    with pytest.raises(ConfigError, match="width"):
        build_search_space({"family": "hgq2_mlp", "depth": [1]})


def test_sample_gives_a_distributed_arithmetic_spec_with_the_recipe():
    space = _space(beta_end=[1e-3, 3e-3], input_bits=[7, 10])
    params = {"input/bits": 10, "input/integer": 3, "depth": 2, "beta_start": 2e-6, "beta_end": 3e-3,
              "dense_0/units": 64, "dense_1/units": 16}
    spec = space.sample(optuna.trial.FixedTrial(params), 16, 5)
    assert spec.widths == (16, 64, 16, 5) and spec.family == "hgq2_mlp"
    assert spec.strategy == "distributed_arithmetic" and spec.input_quantizer.bits == 10
    assert spec.metadata["hgq2"] == {"input_bits": 10, "input_integer": 3, "beta_start": 2e-6, "beta_end": 3e-3,
                                     "epochs": 1200, "beta_hold_epochs": 100, "batch_size": 8192,
                                     "learning_rate": 5e-3, "max_checkpoints": 12}


def test_study_config_accepts_the_family():
    cfg = StudyConfig.from_dict({"name": "h", "dataset": "jets", "n_trials": 2,
                                 "search_space": {"family": "hgq2_mlp", "depth": [1], "width": [8],
                                                  "recipe": {"epochs": 20, "beta_hold_epochs": 5}},
                                 "objectives": ["accuracy", "lut"], "budget": {"part": "xcvu9p"}})
    assert cfg.search_space.describe().startswith("hgq2_mlp: depth [1], widths [8]")
