"""``estimators`` stands on ``qnas`` alone: an estimate loads nothing from ``hls_backend`` or ``nas``.

Checked in a fresh interpreter, because in this test process other tests have long since
imported everything. Both tiers are covered: the spec-only estimate, and the trace tier
with weights, which traces the network with da4ml (``qnas.tracer``, the code the RTL is
generated from) and must still not reach up into ``hls_backend``.
"""

import json
import subprocess
import sys

import pytest

FORBIDDEN_PACKAGES = ("hls_backend", "nas", "search_spaces")
HEAVY = ("tensorflow", "tf_keras", "qkeras", "hls4ml", "keras")

PROBE = """
import json, sys
import numpy as np
import estimators
from estimators.ground_truth import sample_weights
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer
q = Quantizer.fixed(6, 0)
spec = ModelSpec(16, Quantizer.fixed(8, 3), (
    DenseLayerSpec("d1", 16, q, Quantizer.fixed(8, 2), Quantizer.fixed(6, 2, signed=False)),
    DenseLayerSpec("out", 5, q, Quantizer.fixed(8, 2), None)), strategy="distributed_arithmetic")
{call}
print(json.dumps({{"producer": est.producer, "modules": sorted(sys.modules)}}))
"""


def _run(call: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE.format(call=call)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _offenders(modules: list[str]) -> list[str]:
    roots = FORBIDDEN_PACKAGES + HEAVY
    return [m for m in modules if m.split(".")[0] in roots]


def test_spec_only_estimate_loads_neither_hls_backend_nor_nas():
    got = _run("est = estimators.estimate(spec)")
    assert got["producer"].endswith("analytic")
    assert _offenders(got["modules"]) == []


def test_trace_tier_estimate_loads_neither_hls_backend_nor_nas():
    pytest.importorskip("da4ml")
    got = _run("weights = sample_weights(spec, 0)\n"
               "est = estimators.DistributedArithmeticEstimator(trace='always').estimate(spec, weights)")
    assert got["producer"].endswith("trace")
    assert "da4ml" in {m.split(".")[0] for m in got["modules"]}  # the trace really ran
    assert _offenders(got["modules"]) == []
