"""A pruned, low-bit model trained with the cost penalty stays bit-exact through the flow.

QKeras (the stripped model) == qnas.fixed_point reference == hls4ml C simulation == RTL
simulation, on every output of every test row. Slow: it trains, compiles with g++ and
builds with Verilator.
"""

from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("qkeras")
pytest.importorskip("hls4ml")
pytest.importorskip("da4ml")
pytest.importorskip("tensorflow_model_optimization")

from hls_backend.csim import csim_check  # noqa: E402
from hls_backend.hls4ml_convert import convert_to_hls  # noqa: E402
from hls_backend.rtl import generate_rtl  # noqa: E402
from nas.metrics import quantized_inputs  # noqa: E402
from nas.training import TrainingConfig, train_candidate  # noqa: E402
from qnas.fixed_point import reference_forward  # noqa: E402
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer  # noqa: E402


def _pruned_low_bit_spec() -> ModelSpec:
    act = Quantizer.fixed(3, 1, signed=False)
    bias = Quantizer.fixed(8, 3)
    layers = (DenseLayerSpec("dense_0", 16, Quantizer.fixed(3, 0), bias, act, sparsity=0.75),
              DenseLayerSpec("dense_1", 8, Quantizer.ternary(), bias, act, sparsity=0.5),
              DenseLayerSpec("output", 5, Quantizer.fixed(4, 0), bias, None, sparsity=0.5))
    return ModelSpec(16, Quantizer.fixed(5, 2), layers, strategy="distributed_arithmetic",
                     metadata={"training": {"cost_penalty": 1e-4}})


@pytest.mark.slow
def test_pruned_low_bit_model_is_bitexact_in_csim_and_rtl(tmp_path):
    from hls_backend.verilator_sim import simulate_rtl
    from nas.datasets import load_dataset

    data = load_dataset("jets", {"test_fraction": 0.2, "val_fraction": 0.2}, seed=0)
    spec = _pruned_low_bit_spec()
    trained = train_candidate(spec, data, TrainingConfig(epochs=6, batch_size=512, seed=2))
    zeros = [float(np.mean(lw.kernel == 0)) for lw in trained.weights]
    assert zeros[0] >= 0.75 and zeros[1] >= 0.5 and zeros[2] >= 0.5
    assert trained.metrics["accuracy"] > 0.5  # a real jet tagger (chance is 0.2)
    x = quantized_inputs(spec, data.x_test[:3000]).astype(np.float32)
    y_keras = trained.model.predict(x, verbose=0)
    np.testing.assert_array_equal(reference_forward(spec, trained.weights, x), y_keras)

    hls_model = convert_to_hls(trained.model, spec, tmp_path / "prj")
    csim = csim_check(hls_model, x, y_keras)
    assert csim.bitexact_rate == 1.0, csim

    design = generate_rtl(spec, trained.weights, tmp_path / "rtl", clock_ns=5.0)
    sim = simulate_rtl(design, x, reference=y_keras)
    assert sim.bitexact_rate == 1.0 and sim.row_exact_rate == 1.0
    assert sim.measured_latency_cycles == design.latency_cycles
