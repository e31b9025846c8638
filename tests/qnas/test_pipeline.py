"""The open flow's pipelining rule, which the RTL generator and the DA estimator share."""

import pytest

from qnas.errors import ConfigError
from qnas.pipeline import cycles_for_depth, latency_cutoff_for, pipeline_cycles


def test_cutoff_is_whole_adder_levels_per_clock_and_at_least_one():
    assert latency_cutoff_for(5.0) == 5.0
    assert latency_cutoff_for(2.9) == 2.0
    assert latency_cutoff_for(0.4) == 1.0
    assert latency_cutoff_for(5.0, adders_per_ns=0.5) == 2.0


@pytest.mark.parametrize("bad", [0, -1.0, "5"])
def test_cutoff_refuses_a_clock_that_is_not_a_positive_number(bad):
    with pytest.raises(ConfigError, match="clock_ns"):
        latency_cutoff_for(bad)


def test_cycles_register_the_input_and_every_stage():
    assert pipeline_cycles(3) == 4
    assert cycles_for_depth(10, 5.0) == (2, 3)
    assert cycles_for_depth(11, 5.0) == (3, 4)
    assert cycles_for_depth(0, 5.0) == (1, 2)
