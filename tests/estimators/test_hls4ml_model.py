"""hls4ml Latency/Resource model: reuse factor, DSP mapping, II."""

import pytest

import estimators
from estimators import HLSStrategyEstimator
from qnas.spec import Quantizer

from est_helpers import mlp


def test_estimate_names_the_hls4ml_estimator():
    est = estimators.estimate(mlp(strategy="latency"))
    assert est.producer == "qnas.hls4ml.latency"
    assert est.ii_cycles == 1 and est.latency_cycles >= len(est.per_layer)


def test_reuse_trades_multipliers_for_cycles():
    model = HLSStrategyEstimator()
    widths = (16, 64, 32, 5)
    r1 = model.estimate(mlp(widths, bits=12, strategy="resource", reuse=[1, 1, 1]))
    r4 = model.estimate(mlp(widths, bits=12, strategy="resource", reuse=[4, 4, 4]))
    assert r4.dsp == pytest.approx(r1.dsp / 4, rel=0.05)
    assert r4.ii_cycles == 4 and r1.ii_cycles == 1
    assert r4.latency_cycles > r1.latency_cycles


def test_narrow_products_use_luts_wide_ones_dsps():
    model = HLSStrategyEstimator()
    narrow = model.estimate(mlp((16, 32, 5), bits=4, strategy="latency"))
    wide = model.estimate(mlp((16, 32, 5), bits=16, strategy="latency"))
    assert narrow.dsp == 0 and wide.dsp > 0


def test_ternary_weights_never_use_dsps():
    est = HLSStrategyEstimator().estimate(mlp((16, 32, 5), strategy="latency", weight=Quantizer.ternary()))
    assert est.dsp == 0 and est.lut > 0


def test_resource_strategy_with_deep_reuse_uses_bram():
    est = HLSStrategyEstimator().estimate(mlp((64, 64, 5), bits=8, strategy="resource", reuse=[64, 64]))
    assert est.bram > 0 and est.ii_cycles == 64


def test_fit_rescales_to_reports():
    model = HLSStrategyEstimator()
    specs = [mlp((16, 32, 5), bits=b, strategy="latency") for b in (4, 6, 8)]
    raw = [model.estimate(s) for s in specs]
    from dataclasses import replace
    truths = [replace(r, lut=r.lut * 0.5, latency_cycles=r.latency_cycles + 2) for r in raw]
    model.fit(specs, truths)
    again = model.estimate(specs[1])
    assert again.lut == pytest.approx(raw[1].lut * 0.5, rel=1e-6)
    assert again.latency_cycles == raw[1].latency_cycles + 2
