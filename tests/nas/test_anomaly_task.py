"""The anomaly-detection trigger task: efficiency at a fixed rate, the committed sample, the study."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from nas.config import StudyConfig, load_study_config
from nas.datasets import load_dataset
from nas.datasets.anomaly import SIGNALS, embedded_path, read_l1
from nas.datasets.anomaly.generate import chunk_seed
from nas.metrics import autoencoder_metrics, efficiency_at_acceptance
from qnas.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
STUDY = ROOT / "studies" / "anomaly_offline.yaml"


def test_efficiency_at_acceptance_never_overstates_the_rate():
    bg = np.arange(1000, dtype=float)              # scores 0..999
    sig = np.array([998.5, 990.0, 5.0, 999.5])
    eff, achieved, thr = efficiency_at_acceptance(bg, sig, 0.002)   # k = 2: 998 and 999 pass
    assert thr == 997.0 and achieved == 0.002 and eff == 0.5   # 998.5 and 999.5 pass, 990 does not
    ties = np.concatenate([np.zeros(990), np.ones(10)])           # ten tied top scores
    eff, achieved, thr = efficiency_at_acceptance(ties, np.array([1.0, 2.0]), 0.005)
    assert thr == 1.0 and achieved == 0.0 and eff == 0.5          # ties at the threshold do not pass
    with pytest.raises(ValueError, match="cannot resolve"):
        efficiency_at_acceptance(np.arange(100.0), sig, 0.001)


def test_autoencoder_metrics_report_each_signal_at_the_acceptance():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2300, 4))
    recon = x.copy()
    labels = np.repeat([0, 1, 2, 3], [2000, 100, 100, 100])
    recon[labels == 1] += 10.0          # signal 1: always far off
    recon[labels == 3] += rng.normal(scale=0.01, size=(100, 4))
    recon[labels == 0] += rng.normal(scale=0.1, size=(2000, 4))
    m = autoencoder_metrics(x, recon, labels, ("background", "s1", "s2", "s3"), 0.01)
    assert m["eff_s1"] == 1.0 and m["eff_s2"] == 0.0 and m["eff_s3"] == 0.0
    assert m["signal_eff"] == pytest.approx(1 / 3) and m["bg_acceptance"] <= 0.01
    assert 0 < m["roc_auc"] < 1
    assert "signal_eff" not in autoencoder_metrics(x, recon, labels)   # no acceptance: no efficiency


def test_the_study_file_loads_and_signal_eff_needs_an_autoencoder():
    config = load_study_config(STUDY)
    assert config.dataset.name == "anomaly-l1" and config.search_space.family == "autoencoder"
    assert [(o.metric, o.direction) for o in config.objectives] == [
        ("signal_eff", "maximize"), ("lut", "minimize"), ("latency_ns", "minimize")]
    data = yaml.safe_load((ROOT / "studies" / "default.yaml").read_text())
    data["objectives"] = ["signal_eff", "lut"]
    with pytest.raises(ConfigError) as err:
        StudyConfig.from_dict(data)
    assert err.value.path == "objectives[0]" and "does not apply to the classification task" in str(err.value)


@pytest.fixture(scope="module")
def sample():
    l1, process, sidecar = read_l1(embedded_path())
    return l1, process, sidecar


def test_committed_sample_is_small_complete_and_documented(sample):
    l1, process, sidecar = sample
    assert embedded_path().stat().st_size < 8_000_000
    assert l1.dtype == np.int16 and l1.shape[1] == 57
    counts = {p: int((process == p).sum()) for p in np.unique(process)}
    assert counts == sidecar["events_per_process"]
    assert sidecar["n_background"] >= 100_000 and all(counts[s] >= 5000 for s in SIGNALS)
    assert sidecar["command"].startswith("qnas data make-anomaly")
    assert np.all(l1[:, 0::3] >= 0) and np.all(l1[:, 2::3] < 144)


def test_loader_trains_on_background_only_and_refuses_an_unresolvable_rate(sample):
    ds = load_dataset("anomaly-l1", {}, 0)
    assert ds.task == "autoencoder" and ds.class_names == ("background",) + SIGNALS
    assert np.all(ds.y_train == 0) and set(np.unique(ds.y_test)) == set(range(len(SIGNALS) + 1))
    assert ds.provenance["background_acceptance"] == pytest.approx(1e-3)
    assert abs(ds.x_train.mean()) < 1e-3                 # scaled with training statistics
    assert len(set(ds.y_test[:1000].tolist())) == len(SIGNALS) + 1   # test vectors hold every process
    with pytest.raises(ConfigError) as err:
        load_dataset("anomaly-l1", {"rate_khz": 1.0}, 0)
    assert err.value.path == "dataset.options.rate_khz" and "lowest rate" in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_dataset("anomaly-l1", {"signals": ["Zprime"]}, 0)
    assert err.value.path == "dataset.options.signals[0]"


@pytest.mark.parametrize("process", ["w", "qcd", "A4l"])
def test_regenerating_a_chunk_prefix_gives_the_committed_events(sample, process):
    pytest.importorskip("pythia8mc")
    from nas.datasets.anomaly.pythia_gen import generate_chunk
    l1, _, sidecar = sample
    chunk = next(c for c in sidecar["chunks"] if c["process"] == process and c["index"] == 0)
    assert chunk["seed"] == chunk_seed(sidecar["seed"], process, 0)
    rows, _ = generate_chunk(process, chunk["seed"], 3)
    np.testing.assert_array_equal(rows, l1[chunk["offset"]:chunk["offset"] + 3])


@pytest.mark.slow
def test_anomaly_study_runs_end_to_end_with_two_trials(tmp_path, capsys):
    import optuna
    from optuna.trial import TrialState

    from qnas.cli import main
    data = yaml.safe_load(STUDY.read_text())
    data["dataset"]["options"]["max_train"] = 3000
    data["training"]["epochs"] = 2
    study_file = tmp_path / "anomaly.yaml"
    study_file.write_text(yaml.safe_dump(data))
    out = tmp_path / "run"
    assert main(["run", str(study_file), "--trials", "2", "--out", str(out), "--no-progress"]) == 0
    study = optuna.load_study(study_name="anomaly-offline", storage=f"sqlite:///{out / 'study.db'}")
    done = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert done
    for t in done:
        val = t.user_attrs["metrics_val"]
        assert t.values[0] == val["signal_eff"]
        assert all(0.0 <= val[f"eff_{s}"] <= 1.0 for s in SIGNALS)
        assert val["bg_acceptance"] <= 1e-3
        assert json.loads(t.user_attrs["spec"])["n_inputs"] == 57


def test_report_hover_lists_each_signal_efficiency():
    from types import SimpleNamespace

    from studies.dashboard.figures import axis_label, hover_text
    row = {"number": 3, "category": "pareto", "val_signal_eff": 0.0323, "test_signal_eff": 0.05,
           "test_eff_A4l": 0.1596, "test_eff_LQbtau": 0.0376}
    text = hover_text(SimpleNamespace(synthesis={}), row)
    assert "val signal_eff 0.0323" in text and "A4l 0.1596, LQbtau 0.0376" in text
    assert "signal efficiency" in axis_label("signal_eff")
