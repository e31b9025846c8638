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


# -- the stated choice ------------------------------------------------------------------------

import argparse  # noqa: E402
import json  # noqa: E402
from dataclasses import replace  # noqa: E402

from qnas.pipeline import (DEFAULT_PIPELINING, Pipelining, add_pipeline_arguments, cutoff_for,  # noqa: E402
                           parse_pipelining, pipeline_from_args, pipeline_record)
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer  # noqa: E402


def _spec(pipeline=None):
    q = Quantizer.fixed(6, 0)
    return ModelSpec(8, Quantizer.fixed(8, 3), (DenseLayerSpec("d1", 8, q, q, Quantizer.fixed(6, 2, signed=False)),
                                                DenseLayerSpec("out", 3, q, q, None)),
                     strategy="distributed_arithmetic", pipeline=pipeline)


def test_both_forms_give_the_cutoff_and_the_default_is_the_timing_model():
    assert Pipelining(adders_per_stage=8).cutoff(5.0) == 8.0
    assert Pipelining(adders_per_stage=8).cutoff(2.0) == 8.0  # clock-independent
    assert Pipelining(adders_per_ns=2.0).cutoff(5.0) == 10.0
    assert cutoff_for(None, 5.0) == cutoff_for(_spec(), 5.0) == DEFAULT_PIPELINING.cutoff(5.0) == latency_cutoff_for(5.0)
    assert cutoff_for(_spec(Pipelining(adders_per_stage=3)), 5.0) == 3.0


@pytest.mark.parametrize("data, key", [
    ({"adders_per_stage": 0}, "pipeline.adders_per_stage"),
    ({"adders_per_stage": 2.5}, "pipeline.adders_per_stage"),
    ({"adders_per_stage": True}, "pipeline.adders_per_stage"),
    ({"adders_per_ns": -1}, "pipeline.adders_per_ns"),
    ({"adders_per_ns": float("nan")}, "pipeline.adders_per_ns"),
    ({}, "pipeline"),
    ({"adders_per_stage": 4, "adders_per_ns": 1.0}, "pipeline"),
    ("8", "pipeline"),
])
def test_bad_choices_are_refused_naming_the_key(data, key):
    with pytest.raises(ConfigError) as info:
        parse_pipelining(data, "pipeline")
    assert info.value.path == key


def test_unknown_key_gets_a_did_you_mean():
    with pytest.raises(ConfigError, match="adders_per_stage"):
        parse_pipelining({"adder_per_stage": 8}, "pipeline")


def test_spec_round_trips_and_a_stated_choice_changes_the_fingerprint():
    plain, stated = _spec(), _spec(Pipelining(adders_per_stage=4))
    assert "pipeline" not in plain.to_dict()  # specs that state none keep their fingerprints
    assert ModelSpec.from_json(stated.to_json()) == stated
    assert json.loads(stated.to_json())["pipeline"] == {"adders_per_stage": 4}
    assert plain.fingerprint() != stated.fingerprint()
    assert stated.fingerprint() != _spec(Pipelining(adders_per_stage=5)).fingerprint()
    assert replace(stated, pipeline=None).fingerprint() == plain.fingerprint()
    with pytest.raises(ConfigError, match="spec.pipeline.adders_per_stage"):
        ModelSpec.from_dict({**stated.to_dict(), "pipeline": {"adders_per_stage": -2}})


def test_record_says_what_was_stated_and_what_it_resolves_to():
    rec = pipeline_record(_spec(), 5.0, latency_cycles=4)
    assert rec == {"adders_per_ns": 1.0, "rule": "adders_per_ns", "stated": False, "clock_ns": 5.0,
                   "latency_cutoff": 5.0, "latency_cycles": 4}
    rec = pipeline_record(_spec(Pipelining(adders_per_stage=8)), 5.0)
    assert rec["stated"] and rec["rule"] == "adders_per_stage" and rec["latency_cutoff"] == 8.0


def test_command_line_flags_are_one_choice_and_errors_name_the_flag():
    parser = argparse.ArgumentParser()
    add_pipeline_arguments(parser)
    assert pipeline_from_args(parser.parse_args([])) is None
    assert pipeline_from_args(parser.parse_args(["--adders-per-stage", "8"])) == Pipelining(adders_per_stage=8)
    assert pipeline_from_args(parser.parse_args(["--adders-per-ns", "0.5"])) == Pipelining(adders_per_ns=0.5)
    with pytest.raises(ConfigError) as info:
        pipeline_from_args(parser.parse_args(["--adders-per-stage", "0"]))
    assert info.value.path == "--adders-per-stage"
    with pytest.raises(SystemExit):
        parser.parse_args(["--adders-per-stage", "8", "--adders-per-ns", "1"])
