import pytest

from estimators import Budget
from qnas.errors import ConfigError
from qnas.results import ResourceEstimate


def _report(lut, latency_ns=50.0, ii=1):
    return ResourceEstimate(lut=lut, ff=1000, dsp=0, bram=0, latency_cycles=10, ii_cycles=ii, clock_ns=5.0,
                            latency_ns=latency_ns, part="xcvu13p-flga2577-2-e", producer="test")


def test_constraints_are_signed_fractions_and_ns():
    budget = Budget.create("vu13p", max_lut=0.02, max_latency_ns=100, max_ii=2)
    values = budget.constraints(_report(lut=0.01 * 1_728_000, latency_ns=120, ii=4))
    assert values["lut"] == pytest.approx(-0.01)
    assert values["latency_ns"] == pytest.approx(20.0)
    assert values["ii"] == 2.0
    assert values["dsp"] == -1.0


def test_violation_message_distinguishes_designs_just_over_the_limit():
    budget = Budget.create("vu13p", max_lut=0.02)
    limit = 0.02 * 1_728_000
    reasons = budget.violations(_report(lut=limit + 40))
    assert len(reasons) == 1
    assert f"{limit + 40:,.0f} > budget {limit:,.0f}" in reasons[0]
    assert budget.violations(_report(lut=limit)) == []


@pytest.mark.parametrize("kwargs, key", [(dict(max_lut=1.5), "budget.max_lut"), (dict(clock_ns=-1), "budget.clock_ns"),
                                         (dict(max_latency_ns=0), "budget.max_latency_ns"), (dict(max_ii=0), "budget.max_ii")])
def test_bad_budget_names_the_key(kwargs, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        Budget.create("vu13p", **kwargs)


def test_calibration_transfers_within_a_device_family_only():
    import estimators
    from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer

    q, a = Quantizer.fixed(6, 0), Quantizer.fixed(6, 2, signed=False)
    spec = ModelSpec(16, Quantizer.fixed(8, 3), (DenseLayerSpec("d1", 32, q, q, a), DenseLayerSpec("out", 5, q, q, None)),
                     strategy="distributed_arithmetic")
    home = estimators.estimate(spec, part="xcvu13p")
    if home.in_calibrated_range is None:
        pytest.skip("no shipped DA calibration")
    assert estimators.estimate(spec, part="xcvu9p").in_calibrated_range is True
    other = estimators.estimate(spec, part="xc7z020")
    assert other.in_calibrated_range is False and any("another device family" in n for n in other.notes)
