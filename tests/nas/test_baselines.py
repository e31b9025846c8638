"""``baselines:`` (reference models scored on the study's data) and ``warm_start:`` in a study."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qnas.errors import ConfigError
from qnas.fixed_point import reference_forward
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer
from qnas.weights import LayerWeights, ModelWeights

from nas.config import StudyConfig
from nas.datasets import load_dataset
from nas.study import run_study

from _study_helpers import FakeTrainer, _grid_values, small_study

U = Quantizer.fixed(6, 2, signed=False)


def _model_folder(tmp_path, widths=(64, 8, 10), weight=Quantizer.fixed(8, 0), seed=3):
    layers = [DenseLayerSpec(f"fc{i}", units, weight, Quantizer.fixed(8, 3), None if i == len(widths) - 2 else U)
              for i, units in enumerate(widths[1:])]
    spec = ModelSpec(widths[0], Quantizer.fixed(8, 3), tuple(layers), strategy="distributed_arithmetic")
    rng = np.random.default_rng(seed)
    weights = ModelWeights([LayerWeights(_grid_values(l.weight, (n_in, l.units), rng),
                                         _grid_values(l.bias, (l.units,), rng))
                            for l, n_in, _ in spec.layer_inputs()])
    folder = tmp_path / "imported" / "ref"
    folder.mkdir(parents=True)
    (folder / "spec.json").write_text(spec.to_json())
    weights.save(folder / "weights.npz")
    return folder, spec, weights


def _space(**changes):
    space = {"family": "mlp", "depth": [1, 2], "width": [4, 8, 16], "weight_bits": [8, 4], "weight_integer": [0],
             "bias_bits": [8], "bias_integer": [3], "activation_bits": [6], "activation_integer": [2],
             "input_bits": [8], "input_integer": [3], "reuse_factor": [1, 2, 4]}
    space.update(changes)
    return space


def test_baseline_is_scored_on_the_study_split_and_warm_start_is_the_first_trial(tmp_path):
    folder, spec, weights = _model_folder(tmp_path)
    config = StudyConfig.from_dict(small_study(n_trials=3, search_space=_space(), baselines=[str(folder)],
                                               warm_start=[str(folder)]))
    trainer = FakeTrainer()
    result = run_study(config, out=tmp_path / "run", trainer=trainer, progress=False, echo=lambda s: None)

    first = trainer.trained[0]
    assert first.widths == spec.widths
    assert [(l.weight, l.bias, l.activation) for l in first.layers] == \
           [(l.weight, l.bias, l.activation) for l in spec.layers]

    import optuna
    study = optuna.load_study(study_name="t", storage=result.storage)
    refs = study.user_attrs["baselines"]
    assert [r["name"] for r in refs] == ["ref"]
    data = load_dataset("digits", {}, 0)
    expected = float(np.mean(reference_forward(spec, weights, data.x_val).argmax(1) == data.y_val))
    assert refs[0]["val"]["accuracy"] == pytest.approx(expected)
    assert refs[0]["objectives"]["accuracy"] == pytest.approx(expected)
    assert refs[0]["objectives"]["lut"] > 0
    assert json.loads((tmp_path / "run" / "baselines.json").read_text()) == refs


def test_warm_start_outside_the_space_names_the_parameter(tmp_path):
    folder, _, _ = _model_folder(tmp_path, widths=(64, 32, 10))
    with pytest.raises(ConfigError, match=r"warm_start\[0\].*dense_0/units=32.*\[4, 8, 16\]"):
        StudyConfig.from_dict(small_study(search_space=_space(), warm_start=[str(folder)]))


def test_baseline_that_is_not_a_model_folder_is_refused_at_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"baselines\[0\].*qnas import"):
        StudyConfig.from_dict(small_study(baselines=[str(tmp_path / "nothing")]))
    with pytest.raises(ConfigError, match=r"baselines: must be a list of model folders"):
        StudyConfig.from_dict(small_study(baselines=[1, 2]))


def test_baseline_with_the_wrong_shape_is_refused(tmp_path):
    folder, _, _ = _model_folder(tmp_path, widths=(64, 8, 5))
    config = StudyConfig.from_dict(small_study(n_trials=1, baselines=[str(folder)]))
    with pytest.raises(ConfigError, match=r"baselines\[0\].*5 outputs.*10 classes"):
        run_study(config, out=tmp_path / "run", trainer=FakeTrainer(), progress=False, echo=lambda s: None)
