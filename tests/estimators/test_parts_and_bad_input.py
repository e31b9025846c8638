"""Catalogue and refusal of specs/parts/budgets the estimator cannot honestly cost."""

import pytest

import estimators
from estimators import LATENCY_UNROLL_LIMIT, Budget, get_part
from qnas.errors import ConfigError, UnsupportedSpec
from qnas.spec import SpecError, valid_reuse_factors

from est_helpers import mlp


@pytest.mark.parametrize("name, lut, family", [
    ("xcvu13p-flga2577-2-e", 1_728_000, "xilinx-ultrascale+"), ("vu9p", 1_182_240, "xilinx-ultrascale+"),
    ("xcu250", 1_728_000, "xilinx-ultrascale+"), ("xc7z020", 53_200, "xilinx-7series"),
    ("ecp5-85f", 83_640, "lattice-ecp5")])
def test_catalogue_has_required_parts(name, lut, family):
    part = get_part(name)
    assert part.lut == lut and part.family == family
    assert part.ff > 0 and part.default_clock_ns > 0


def test_unknown_part_names_field_and_suggests():
    with pytest.raises(ConfigError, match=r"^part: unknown FPGA part 'xcvu13q'.*Did you mean"):
        estimators.estimate(mlp(), part="xcvu13q")


def test_reuse_factor_that_hls4ml_would_snap_is_refused():
    assert 3 not in valid_reuse_factors(16, 64)
    spec = mlp(strategy="latency", reuse=[3, 1, 1, 1])
    with pytest.raises(UnsupportedSpec, match=r"layers\[0\] \(d0\)\.reuse_factor=3 is not valid"):
        estimators.estimate(spec)


def test_distributed_arithmetic_with_reuse_is_refused():
    with pytest.raises(SpecError, match=r"reuse_factor must be 1"):
        mlp(strategy="distributed_arithmetic", reuse=[2, 1, 1, 1])


def test_latency_strategy_beyond_unroll_limit_is_refused():
    spec = mlp(widths=(128, 64, 5), strategy="latency")
    assert 128 * 64 > LATENCY_UNROLL_LIMIT
    with pytest.raises(UnsupportedSpec, match="unroll limit"):
        estimators.estimate(spec)
    # the same layer is fine with the resource strategy
    assert estimators.estimate(mlp(widths=(128, 64, 5), strategy="resource", reuse=[128, 1])).ii_cycles == 128


@pytest.mark.parametrize("clock", [0.0, -5.0])
def test_non_positive_clock_is_refused(clock):
    with pytest.raises(ConfigError, match="clock_ns"):
        estimators.estimate(mlp(), clock_ns=clock)


def test_negative_budget_is_refused():
    with pytest.raises(ConfigError, match=r"budget\.max_lut"):
        Budget.create("vu13p", max_lut=-0.1)
