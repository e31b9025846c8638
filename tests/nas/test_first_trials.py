"""``first_trials:`` in a study: search points, named by their Optuna parameters, trained first."""

from __future__ import annotations

import pytest

from qnas.errors import ConfigError

from nas.config import StudyConfig
from nas.study import run_study

from _study_helpers import FakeTrainer, small_study

SPACE = {"family": "mlp", "depth": [1, 2], "width": [4, 8, 16], "weight_bits": [8, 4], "weight_integer": [0],
         "bias_bits": [8], "bias_integer": [3], "activation_bits": [6], "activation_integer": [2],
         "input_bits": [8], "input_integer": [3], "reuse_factor": [1, 2, 4]}


def _point(**changes):
    point = {"input/bits": 8, "input/integer": 3, "depth": 2, "strategy": "latency",
             "dense_0/units": 16, "dense_0/weight_bits": 4, "dense_0/weight_integer": 0,
             "dense_0/bias_bits": 8, "dense_0/bias_integer": 3,
             "dense_0/activation_bits": 6, "dense_0/activation_integer": 2, "dense_0/reuse_index": 0,
             "dense_1/units": 4, "dense_1/weight_bits": 8, "dense_1/weight_integer": 0,
             "dense_1/bias_bits": 8, "dense_1/bias_integer": 3,
             "dense_1/activation_bits": 6, "dense_1/activation_integer": 2, "dense_1/reuse_index": 0,
             "output/weight_bits": 8, "output/weight_integer": 0, "output/bias_bits": 8, "output/bias_integer": 3,
             "output/reuse_index": 0}
    point.update(changes)
    return {k: v for k, v in point.items() if v is not None}


def test_first_trials_are_trained_first_in_order_then_the_sampler_takes_over(tmp_path):
    points = [_point(), _point(**{"depth": 1, "dense_0/units": 8, "dense_1/units": None,
                                  **{f"dense_1/{k}": None for k in ("weight_bits", "weight_integer", "bias_bits",
                                                                    "bias_integer", "activation_bits",
                                                                    "activation_integer", "reuse_index")}})]
    config = StudyConfig.from_dict(small_study(n_trials=4, search_space=SPACE, first_trials=points))
    trainer = FakeTrainer()
    run_study(config, out=tmp_path / "run", trainer=trainer, progress=False, echo=lambda s: None)
    assert [s.widths for s in trainer.trained[:2]] == [(64, 16, 4, 10), (64, 8, 10)]
    assert trainer.trained[0].layers[0].weight.bits == 4
    import optuna
    study = optuna.load_study(study_name="t", storage=f"sqlite:///{tmp_path / 'run' / 'study.db'}")
    assert [t.user_attrs.get("first_trial") for t in study.trials] == [0, 1, None, None]  # the budget holds them


def test_a_resumed_study_does_not_enqueue_them_again(tmp_path):
    config = StudyConfig.from_dict(small_study(n_trials=2, search_space=SPACE, first_trials=[_point()]))
    run_study(config, out=tmp_path / "run", trainer=FakeTrainer(), progress=False, echo=lambda s: None)
    more = StudyConfig.from_dict(small_study(n_trials=3, search_space=SPACE, first_trials=[_point()]))
    trainer = FakeTrainer()
    run_study(more, out=tmp_path / "run", trainer=trainer, progress=False, echo=lambda s: None, resume=True)
    assert len(trainer.trained) <= 1  # the third trial is sampled (or found already trained), never the point
    import optuna
    study = optuna.load_study(study_name="t", storage=f"sqlite:///{tmp_path / 'run' / 'study.db'}")
    assert [t.user_attrs.get("first_trial") for t in study.trials] == [0, None, None]


@pytest.mark.parametrize("point, message", [
    (_point(**{"dense_0/unitz": 16}), r"first_trials\[0\]\.dense_0/unitz: the search space does not draw"),
    (_point(**{"dense_0/units": 32}), r"first_trials\[0\]\.dense_0/units: 32 is not one of .*\[4, 8, 16\]"),
    (_point(**{"dense_0/units": None}), r"first_trials\[0\]: missing 'dense_0/units'.*\[4, 8, 16\]"),
    (_point(**{"dense_0/weight_bits": True}), r"dense_0/weight_bits: True is not one of"),
    (_point(**{"dense_0/reuse_index": -1}), r"dense_0/reuse_index: must be an integer"),
    ("depth: 2", r"first_trials\[0\]: must be a mapping of search parameters"),
])
def test_a_point_the_space_cannot_draw_is_refused_at_the_key(point, message):
    with pytest.raises(ConfigError, match=message):
        StudyConfig.from_dict(small_study(search_space=SPACE, first_trials=[point]))


def test_a_reuse_index_out_of_range_for_the_data_is_refused_before_training(tmp_path):
    # the valid reuse factors depend on the layers' fan-in, so this is checked once the data is known
    config = StudyConfig.from_dict(small_study(search_space=SPACE, first_trials=[_point(**{"dense_0/reuse_index": 9})]))
    trainer = FakeTrainer()
    with pytest.raises(ConfigError, match=r"first_trials\[0\]\.dense_0/reuse_index: must be an integer in \[0, 2\]"):
        run_study(config, out=tmp_path / "run", trainer=trainer, progress=False, echo=lambda s: None)
    assert trainer.trained == []


def test_beta_written_as_yaml_text_gets_the_hint():
    space = {"family": "hgq2_mlp", "depth": [3], "width": [32, 64], "beta_end": [1.0e-3, 2.0e-3]}
    point = {"input/bits": 7, "input/integer": 3, "depth": 3, "beta_start": 2.0e-6, "beta_end": "1e-3",
             "dense_0/units": 64, "dense_1/units": 32, "dense_2/units": 32}
    with pytest.raises(ConfigError, match=r"beta_end: '1e-3' is not one of .*write 1.0e-3"):
        StudyConfig.from_dict(small_study(search_space=space, first_trials=[point]))
    point["beta_end"] = 1.0e-3
    config = StudyConfig.from_dict(small_study(search_space=space, first_trials=[point]))
    assert config.first_trials[0]["dense_0/units"] == 64
