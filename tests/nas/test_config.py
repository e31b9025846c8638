"""Study files: the default loads; every bad input stops at load time naming file and key."""

from pathlib import Path

import pytest
import yaml

from nas.config import StudyConfig, load_study_config
from qnas.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "studies" / "default.yaml"


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(text)
    return path


def _with(**changes) -> dict:
    data = yaml.safe_load(DEFAULT.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


def _error(data) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        StudyConfig.from_dict(data)
    return err.value


def test_default_study_loads():
    config = load_study_config(DEFAULT)
    assert config.name == "digits-default" and config.dataset.name == "digits"
    assert [o.metric for o in config.objectives] == ["accuracy", "lut", "latency_ns"]
    assert config.directions == ["maximize", "minimize", "minimize"]
    assert config.budget.part.name.startswith("xcvu13p") and config.budget.max_lut == 0.02
    assert config.search_space.family == "mlp"
    assert config.training["epochs"] > 0 and config.source == DEFAULT


def test_invalid_yaml_names_file_and_line(tmp_path):
    path = _write(tmp_path, "name: x\nsearch_space: {family: mlp, depth: [1\n")
    with pytest.raises(ConfigError) as err:
        load_study_config(path)
    assert str(path) in str(err.value) and "not valid YAML" in str(err.value) and "line" in str(err.value)


def test_duplicate_yaml_key_is_an_error(tmp_path):
    path = _write(tmp_path, "name: a\nname: b\n")
    with pytest.raises(ConfigError, match="duplicate key 'name'"):
        load_study_config(path)


def test_missing_file_and_non_mapping(tmp_path):
    with pytest.raises(ConfigError, match="study file not found"):
        load_study_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_study_config(_write(tmp_path, "- 1\n- 2\n"))


def test_errors_from_a_file_name_the_key_and_the_file(tmp_path):
    path = _write(tmp_path, yaml.safe_dump(_with(n_trails=5)))
    with pytest.raises(ConfigError) as err:
        load_study_config(path)
    assert err.value.path == "n_trails"
    assert "did you mean 'n_trials'?" in str(err.value) and str(path) in str(err.value)


def test_budget_typo_does_not_vanish_into_an_unlimited_budget():
    err = _error(_with(budget={"part": "vu13p", "max_lutt": 0.1}))
    assert err.path == "budget.max_lutt" and "did you mean 'max_lut'?" in str(err)


def test_budget_values_checked():
    assert _error(_with(budget={"max_lut": 2})).path == "budget.max_lut"
    assert _error(_with(budget={"clock_ns": 0})).path == "budget.clock_ns"
    assert _error(_with(budget={"max_ii": 0})).path == "budget.max_ii"
    err = _error(_with(budget={"part": "xcvu99"}))
    assert err.path == "budget.part" and "known parts" in str(err)


def test_empty_search_space_fails():
    err = _error(_with(search_space={}))
    assert err.path == "search_space" and "empty" in str(err)
    assert _error(_with(search_space=None)).path == "search_space"


def test_bad_bits_in_search_space():
    space = yaml.safe_load(DEFAULT.read_text())["search_space"]
    err = _error(_with(search_space={**space, "layers": [{}, {"weight_bits": [1]}]}))
    assert err.path == "search_space.layers[1].weight_bits[0]"
    assert "must be an int in [2, 16], 'ternary' or 'binary'; got 1" in str(err)


def test_objectives_checked():
    assert "did you mean" not in str(_error(_with(objectives=[])))
    err = _error(_with(objectives=["accuracy", "luts"]))
    assert err.path == "objectives[1]" and "'lut'" in str(err)
    err = _error(_with(objectives=["accuracy", {"metric": "lut", "direction": "down"}]))
    assert err.path == "objectives[1].direction"
    assert _error(_with(objectives=["lut", "lut"])).path == "objectives[1]"


def test_explicit_and_default_directions():
    config = StudyConfig.from_dict(_with(objectives=["loss", {"metric": "ff", "direction": "minimize"},
                                                     "roc_auc"]))
    assert config.directions == ["minimize", "minimize", "maximize"]


def test_quality_metric_must_fit_the_task():
    space = {"family": "autoencoder", "depth": [1], "width": [16], "latent": [4]}
    err = _error(_with(search_space=space, dataset="digits-anomaly"))
    assert err.path == "objectives[0]" and "'accuracy' does not apply to the autoencoder" in str(err)
    config = StudyConfig.from_dict(_with(search_space=space, dataset="digits-anomaly",
                                         objectives=["roc_auc", "lut"]))
    assert config.search_space.task == "autoencoder"


def test_dataset_name_checked_at_load():
    err = _error(_with(dataset="digts"))
    assert err.path == "dataset.name" and "did you mean 'digits'?" in str(err)
    err = _error(_with(dataset={"name": "digits", "option": {}}))
    assert err.path == "dataset.option"


def test_training_keys_and_values_checked():
    err = _error(_with(training={"epoch": 3}))
    assert err.path == "training.epoch" and "did you mean 'epochs'?" in str(err)
    assert _error(_with(training={"epochs": 0})).path == "training.epochs"
    assert _error(_with(training={"learning_rate": -1})).path == "training.learning_rate"


def test_sampler_and_name_checked():
    assert StudyConfig.from_dict(_with(sampler="nsga2")).sampler.name == "nsga2"
    err = _error(_with(sampler={"name": "cmaes"}))
    assert err.path == "sampler.name" and "'nsga2'" in str(err)
    assert _error(_with(name="my study/1")).path == "name"
    assert _error(_with(name=None)).path == "name"
    assert _error(_with(n_trials=0)).path == "n_trials"


def test_pipelining_is_a_validated_study_choice_stated_on_every_design():
    from nas._trial import network_key
    from qnas.pipeline import Pipelining

    assert StudyConfig.from_dict(_with()).pipeline is None  # the default rule (qnas.pipeline)
    config = StudyConfig.from_dict(_with(pipeline={"adders_per_stage": 8}))
    assert config.pipeline == Pipelining(adders_per_stage=8)
    assert StudyConfig.from_dict(_with(pipeline={"adders_per_ns": 0.8})).pipeline == Pipelining(adders_per_ns=0.8)
    assert _error(_with(pipeline={"adders_per_stage": 0})).path == "pipeline.adders_per_stage"
    assert _error(_with(pipeline={"adders_per_ns": "fast"})).path == "pipeline.adders_per_ns"
    assert _error(_with(pipeline={"adders_per_stage": 8, "adders_per_ns": 1})).path == "pipeline"
    assert "adders_per_stage" in str(_error(_with(pipeline={"adders_per_stages": 8})))
    # how the RTL is cut is not what training sees: the same network shares its trained weights
    from dataclasses import replace

    from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer
    q = Quantizer.fixed(6, 0)
    spec = ModelSpec(8, q, (DenseLayerSpec("out", 3, q, q, None),), strategy="distributed_arithmetic")
    stated = replace(spec, pipeline=config.pipeline)
    assert network_key(stated) == network_key(spec) and stated.fingerprint() != spec.fingerprint()
