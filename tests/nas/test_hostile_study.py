"""A careless or hostile user's study files and data (issue 14): one clear message, never a traceback."""

import errno
import resource
import time

import numpy as np
import pytest
import yaml

from _study_helpers import FakeTrainer, small_study
from nas.config import load_study_config
from nas.study import run_study
from qnas.errors import ConfigError, DataError, FatalError


def _write(tmp_path, data) -> str:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.mark.parametrize("size", [3 << 20, 100_000], ids=["3MB", "100KB"])
def test_binary_garbage_study_file_is_a_config_error(tmp_path, size):
    path = tmp_path / "garbage.yaml"
    path.write_bytes(np.random.default_rng(0).bytes(size))
    with pytest.raises(ConfigError, match="too large" if size > 1 << 20 else "not a text"):
        load_study_config(path)


def test_huge_study_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("name: x\n# " + "a" * (2 << 20) + "\n")
    with pytest.raises(ConfigError, match="too large"):
        load_study_config(path)


BILLION_LAUGHS = """
name: t
dataset: digits
objectives: [accuracy, lut]
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
search_space: {family: mlp, depth: [1], width: *i}
"""


def _address_space_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


@pytest.mark.parametrize("text", [BILLION_LAUGHS, BILLION_LAUGHS.replace("search_space: {family: mlp, depth: [1], width: *i}",
                                                                          "search_space: {family: mlp, depth: [1], width: [8]}\nseed: *i")],
                         ids=["in-search-space", "in-seed"])
def test_billion_laughs_is_refused_quickly_in_bounded_memory(tmp_path, text):
    path = tmp_path / "laughs.yaml"
    path.write_text(text)
    assert path.stat().st_size < 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_address_space_bytes() + (1 << 30), hard))
    start = time.perf_counter()
    try:
        with pytest.raises(ConfigError) as err:
            load_study_config(path)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert time.perf_counter() - start < 5.0
    assert "alias" in str(err.value) or "nodes" in str(err.value)
    assert len(str(err.value)) < 1000


def test_100000_deep_nesting_is_a_config_error(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("name: t\nseed: " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ConfigError, match="nested deeper"):
        load_study_config(path)


def test_error_message_of_a_huge_value_is_short():
    data = small_study(seed=[list(range(1000))] * 1000)
    from nas.config import StudyConfig
    with pytest.raises(ConfigError) as err:
        StudyConfig.from_dict(data)
    assert err.value.path == "seed" and len(str(err.value)) < 400


def test_impossible_reuse_factor_is_caught_before_any_trial_naming_the_key(tmp_path):
    # digits: 64 inputs; one hidden layer of 8 units; 7 divides neither 64*8 nor 8*10
    config = load_study_config(_write(tmp_path, small_study(
        search_space={"family": "mlp", "depth": [1], "width": [8], "reuse_factor": [7]})))
    trainer = FakeTrainer()
    with pytest.raises(ConfigError) as err:
        run_study(config, n_trials=3, out=tmp_path / "run", trainer=trainer, progress=False, echo=lambda s: None)
    assert "reuse_factor" in err.value.path and "7" in str(err.value)
    assert trainer.calls == 0


def test_a_reuse_factor_valid_for_some_layers_only_is_still_searched(tmp_path):
    # 2 is valid for 64x8 and 8x10: nothing to refuse
    config = load_study_config(_write(tmp_path, small_study(
        search_space={"family": "mlp", "depth": [1], "width": [8], "reuse_factor": [2, 7]})))
    res = run_study(config, n_trials=2, out=tmp_path / "run", trainer=FakeTrainer(), progress=False,
                    echo=lambda s: None)
    assert res.n_run == 2


def test_data_error_does_not_freeze_an_empty_study(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,0\nnan,3,1\n")
    good = tmp_path / "good.csv"
    rng = np.random.default_rng(0)
    rows = "\n".join(f"{a:.3f},{b:.3f},{int(a > b)}" for a, b in rng.normal(size=(200, 2)))
    good.write_text("a,b,label\n" + rows + "\n")
    space = {"family": "mlp", "depth": [1], "width": [4], "reuse_factor": [1]}
    first = load_study_config(_write(tmp_path, small_study(
        dataset={"name": "file", "options": {"path": str(bad), "label": "label"}}, search_space=space)))
    with pytest.raises(DataError):
        run_study(first, n_trials=2, out=tmp_path / "run", trainer=FakeTrainer(), progress=False, echo=lambda s: None)
    # the user fixes the data (another file, another seed): the empty study must not block the rerun
    fixed = load_study_config(_write(tmp_path, small_study(
        dataset={"name": "file", "options": {"path": str(good), "label": "label"}}, search_space=space, seed=3)))
    res = run_study(fixed, n_trials=2, out=tmp_path / "run", trainer=FakeTrainer(), progress=False,
                    echo=lambda s: None)
    assert res.n_run == 2


def test_disk_full_under_the_study_database_is_one_message(tmp_path, monkeypatch):
    """ENOSPC deep in the exception chain (as SQLAlchemy/Optuna wrap it) is found."""
    import optuna

    from nas._storage import disk_error

    try:
        try:
            try:
                raise OSError(errno.ENOSPC, "No space left on device")
            except OSError as os_err:
                raise RuntimeError("sqlite3.OperationalError: database or disk I/O error") from os_err
        except RuntimeError:
            raise optuna.exceptions.StorageInternalError("An exception is raised during the commit.")
    except optuna.exceptions.StorageInternalError as exc:
        chained = exc
    found = disk_error(chained, "the study storage x.db")
    assert found is not None and "disk is full" in str(found)

    config = load_study_config(_write(tmp_path, small_study()))

    def full(*args, **kwargs):
        raise chained

    monkeypatch.setattr(optuna.study.Study, "tell", full)
    with pytest.raises(FatalError, match="disk is full") as err:
        run_study(config, n_trials=2, out=tmp_path / "run", trainer=FakeTrainer(), progress=False,
                  echo=lambda s: None)
    assert "Traceback" not in str(err.value) and len(str(err.value).splitlines()) == 1


def test_random_bytes_h5_dataset_is_a_data_error(tmp_path):
    pytest.importorskip("h5py")
    from nas.datasets import load_dataset

    path = tmp_path / "data.h5"
    path.write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(DataError, match="data.h5"):
        load_dataset("file", {"path": str(path), "label": "y"}, 0)


def test_a_study_stopped_by_unrealisable_candidates_names_the_search_space_not_the_budget():
    from collections import Counter

    from nas.config import StudyConfig
    from nas.study import _impossible_budget_message

    config = StudyConfig.from_dict(small_study())
    reason = "dense_0 (64x16): none of the allowed reuse factors [7] is valid for this shape"
    text = _impossible_budget_message(config, 40, Counter(), "estimator", Counter({reason: 40}))
    assert "reuse factors [7]" in text and "budget looks impossible" not in text
