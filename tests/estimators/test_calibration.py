"""Calibration: fit -> save -> load gives the same estimates; estimate() picks it up."""

import json
from pathlib import Path

import numpy as np
import pytest

import estimators
from estimators import DistributedArithmeticEstimator, calibrate, load_estimator, save_estimator
from estimators.calibration import PACKAGE_DIR, load_estimator_file
from estimators.ground_truth import GroundTruthRecord, append_record, sample_spec, sample_weights
from qnas.results import SynthesisResult

from est_helpers import mlp


def _truth(spec, weights, scale):
    """A synthesis-like result: the analytic estimate scaled, so the fit has a known answer."""
    est = DistributedArithmeticEstimator(trace="never").estimate(spec, weights)
    return SynthesisResult(lut=est.lut * scale, ff=est.ff * scale, dsp=0, bram=0,
                           latency_cycles=est.latency_cycles, ii_cycles=1, clock_ns=5.0,
                           latency_ns=est.latency_cycles * 5.0, part="xcvu13p-flga2577-2-e",
                           producer="yosys 0.23 synth_xilinx", tool_version="0.23")


@pytest.fixture
def designs():
    rng = np.random.default_rng(3)
    out = []
    for i in range(12):
        spec = sample_spec(rng, max_products=300)
        out.append((spec, i, sample_weights(spec, i)))
    return out


def test_fit_save_load_round_trip(tmp_path, designs):
    specs = [s for s, _, _ in designs]
    weights = [w for _, _, w in designs]
    truths = [_truth(s, w, 1.3) for s, w in zip(specs, weights)]
    model = DistributedArithmeticEstimator(trace="never").fit(specs, truths, weights)
    path = save_estimator(model, tmp_path)
    assert path.name == "distributed_arithmetic__yosys__xcvu13p-flga2577-2-e.json"
    loaded = load_estimator_file(path)
    loaded.trace = "never"
    for spec, w in zip(specs, weights):
        a, b = model.estimate(spec, w), loaded.estimate(spec, w)
        assert (a.lut, a.ff, a.latency_cycles) == (b.lut, b.ff, b.latency_cycles)
    assert loaded.estimate(specs[0], weights[0]).in_calibrated_range is True
    # a far bigger network is flagged as extrapolation
    far = loaded.estimate(mlp((64, 128, 64, 5)))
    assert far.in_calibrated_range is False and any("outside the calibration data" in n for n in far.notes)


def test_calibrate_command_writes_a_file_estimate_then_uses(tmp_path, designs, monkeypatch):
    data = tmp_path / "gt.jsonl"
    for spec, seed, w in designs:
        append_record(data, GroundTruthRecord(spec, seed, _truth(spec, w, 2.0), 1.0, {"yosys": "0.23"}))
    out = tmp_path / "cal"
    written = calibrate([data], out_dir=out)
    assert len(written) == 1 and written[0].parent == out
    stored = json.loads(written[0].read_text())
    assert stored["calibrated_for"]["tool"] == "yosys" and stored["n_fit"] < len(designs)  # held-out excluded
    monkeypatch.setenv("QNAS_CALIBRATION_DIR", str(out))
    estimators.clear_cache()
    try:
        est = estimators.estimate(designs[0][0], designs[0][2])
        assert "calibrated:yosys" in est.tool_version
    finally:
        estimators.clear_cache()


def test_missing_calibration_falls_back_to_defaults(tmp_path):
    model = load_estimator("distributed_arithmetic", "xc7z020", directories=[tmp_path])
    assert not hasattr(model, "coef_")
    assert model.estimate(mlp()).in_calibrated_range is None


def test_bad_calibration_sources_are_refused(tmp_path):
    from qnas.errors import ConfigError
    with pytest.raises(ConfigError, match="REPORTS"):
        calibrate([])
    with pytest.raises(ConfigError, match="not a ground-truth"):
        calibrate([tmp_path / "nothing.txt"])


def test_vendor_project_without_spec_is_refused(shared_dir):
    from qnas.errors import ConfigError
    project = Path(shared_dir) / "fixtures" / "vendor_reports" / "hls4ml_test_vivado"
    with pytest.raises(ConfigError, match="spec.json"):
        calibrate([project])


def test_shipped_calibration_when_present_is_loadable():
    files = sorted(PACKAGE_DIR.glob("*.json"))
    if not files:
        pytest.skip("no shipped calibration yet")
    for path in files:
        assert load_estimator_file(path).coefficients()["calibrated_for"]["n_designs"] > 0
