"""hls4ml Latency/Resource model: calibrated on real Vitis HLS C-synthesis reports."""

from pathlib import Path

import numpy as np
import pytest

import estimators
from estimators import HLSStrategyEstimator, load_estimator
from estimators.vendor_sweeps import read_wa_hls4ml, split_rows, sweep_spec
from qnas.spec import Quantizer

from est_helpers import mlp

PART = "xcvu13p-flga2577-2-e"


def test_estimate_says_it_predicts_c_synthesis():
    est = estimators.estimate(mlp(strategy="latency"))
    assert est.producer == "qnas.hls4ml.latency"
    assert est.extra["basis"] == "hls_csynth"
    assert any("C-synthesis" in n and "not post-implementation" in n for n in est.notes)
    assert est.ii_cycles >= 1 and est.latency_cycles >= 0


def test_reuse_trades_multipliers_for_cycles():
    model = HLSStrategyEstimator()
    r1 = model.estimate(sweep_spec(32, 64, 10, 1, "resource"))
    r512 = model.estimate(sweep_spec(32, 64, 10, 512, "resource"))
    assert r512.dsp == 2048 / 512 and r1.dsp > 100 * r512.dsp
    assert r512.ii_cycles == 512 and r1.ii_cycles <= 2
    assert r512.latency_cycles > 512 and r512.lut < r1.lut / 3
    assert r512.bram >= 1 and r1.bram == 0


def test_narrow_products_use_luts_wide_ones_dsps():
    model = HLSStrategyEstimator()
    assert model.estimate(sweep_spec(32, 32, 4, 1, "latency")).dsp == 0
    assert model.estimate(sweep_spec(32, 32, 12, 1, "latency")).dsp > 500
    # folded Resource layers: every multiplier a DSP from the fitted width on, none below it
    assert model.estimate(sweep_spec(64, 64, 8, 512, "resource")).dsp == 8
    assert model.estimate(sweep_spec(64, 64, 2, 512, "resource")).dsp == 0


def test_latency_strategy_with_reuse_keeps_parallel_luts_when_narrow():
    model = HLSStrategyEstimator()
    r1 = model.estimate(sweep_spec(32, 64, 4, 1, "latency"))
    r512 = model.estimate(sweep_spec(32, 64, 4, 512, "latency"))
    assert r512.lut == pytest.approx(r1.lut, rel=0.01) and r512.ii_cycles <= 3


def test_ternary_weights_never_use_dsps():
    est = HLSStrategyEstimator().estimate(mlp((32, 32, 32), strategy="latency", weight=Quantizer.ternary()))
    assert est.dsp == 0 and est.lut > 0


def test_extrapolation_is_flagged():
    model = HLSStrategyEstimator()
    inside = model.estimate(sweep_spec(32, 32, 8, 1, "latency"), part=PART, clock_ns=5.0)
    assert inside.in_calibrated_range is True and not any("extrapolates" in n for n in inside.notes)
    cases = {"between 1 and": sweep_spec(64, 64, 8, 64, "resource"),
             "layers": mlp((32, 32, 32), bits=8, strategy="latency"),
             "n_in=16": sweep_spec(16, 32, 8, 1, "latency"),
             "clock": sweep_spec(32, 32, 8, 1, "latency")}
    for needle, spec in cases.items():
        est = model.estimate(spec, part=PART, clock_ns=3.0 if needle == "clock" else 5.0)
        assert est.in_calibrated_range is False, needle
        assert any(n.startswith("extrapolates") and needle in n for n in est.notes), needle


def test_shipped_coefficients_load_and_round_trip():
    model = load_estimator("resource", PART)
    assert hasattr(model, "coef_") and model.calibrated_for_["n_designs"] > 100
    again = HLSStrategyEstimator.from_coefficients(model.coefficients())
    spec = sweep_spec(96, 64, 8, 384, "resource")
    assert again.estimate(spec) == model.estimate(spec)


def test_old_coefficient_files_are_refused_with_the_fix():
    with pytest.raises(ValueError, match="qnas calibrate"):
        HLSStrategyEstimator.from_coefficients({"estimator": "hls4ml", "scale": {"lut_scale": 1.0}})


def _wa_rows(shared_dir):
    directory = Path(shared_dir) / "fixtures" / "wa_hls4ml"
    files = [directory / "results_latency.csv", directory / "results_resource.csv"]
    if not all(f.is_file() for f in files):
        pytest.skip(f"wa-hls4ml sweep CSVs not in {directory}")
    return [r for f in files for r in read_wa_hls4ml(f)]


def test_fitted_model_beats_the_textbook_one_on_held_out_reports(shared_dir):
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from hls4ml_textbook_baseline import TextbookHLSEstimator

    train, held = split_rows(_wa_rows(shared_dir))
    assert len(train) > 500 and len(held) > 150
    model = HLSStrategyEstimator().fit([r.spec for r in train], [r.truth for r in train])
    old = TextbookHLSEstimator().fit([r.spec for r in train], [r.truth for r in train])
    truth = held

    def figures(m):
        est = [m.estimate(r.spec, part=r.truth.part, clock_ns=r.truth.clock_ns) for r in truth]
        lut = np.mean([abs(e.lut - r.truth.lut) / r.truth.lut for e, r in zip(est, truth)])
        ff = np.mean([abs(e.ff - r.truth.ff) / r.truth.ff for e, r in zip(est, truth)])
        dsp = np.mean([abs(e.dsp - r.truth.dsp) <= max(1, 0.05 * r.truth.dsp) for e, r in zip(est, truth)])
        cyc = np.mean([abs(e.latency_cycles - r.truth.latency_cycles) <= 1 for e, r in zip(est, truth)])
        return lut, ff, dsp, cyc

    lut, ff, dsp, cyc = figures(model)
    old_lut, old_ff, old_dsp, old_cyc = figures(old)
    assert lut <= 0.15 and ff <= 0.20 and dsp >= 0.9 and cyc >= 0.9
    assert lut < old_lut / 3 and ff < old_ff / 3 and dsp > old_dsp and cyc >= old_cyc


def test_sweep_reader_skips_failed_rows_and_reads_the_report(shared_dir):
    rows = _wa_rows(shared_dir)
    assert len(rows) == 987
    row = next(r for r in rows if r.spec.n_inputs == 32 and r.spec.layers[0].units == 32
               and r.spec.layers[0].weight.bits == 8 and r.spec.layers[0].reuse_factor == 1
               and r.spec.strategy == "latency")
    assert (row.truth.lut, row.truth.ff, row.truth.dsp, row.truth.latency_cycles) == (34010, 2692, 263, 1)
    assert row.truth.extra["basis"] == "hls_csynth"


def test_small_reuse_on_wide_latency_layers_never_gives_negative_cycles():
    model = HLSStrategyEstimator()
    for rf in (2, 4, 8, 16):
        est = model.estimate(sweep_spec(32, 32, 10, rf, "latency"))
        assert est.latency_cycles >= 1 and est.ii_cycles == est.latency_cycles + 1
        assert est.in_calibrated_range is False
