import numpy as np
import pytest

from hls_backend.testbench import (EXPECTED_HEX, parse_testbench_output, run_testbench, render_testbench,
                                   write_testbench, write_vectors)
from qnas.errors import CandidateFailed
from qnas.fixed_point import quantize_array, reference_forward
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer
from qnas.weights import LayerWeights, ModelWeights


def test_parse_summary_line():
    assert parse_testbench_output("junk\nQNAS_TB checked=12 errors=3\n- done") == (12, 3)
    with pytest.raises(CandidateFailed, match="summary"):
        parse_testbench_output("%Error: something")


@pytest.fixture(scope="module")
def tiny_design(tmp_path_factory):
    from hls_backend.rtl.design import generate_rtl

    q, a = Quantizer.fixed(4, 0), Quantizer.fixed(4, 2, signed=False)
    spec = ModelSpec(4, Quantizer.fixed(6, 2), (DenseLayerSpec("d1", 6, q, q, a), DenseLayerSpec("out", 3, q, q, None)))
    rng = np.random.default_rng(3)
    weights = ModelWeights([LayerWeights(rng.integers(-8, 8, (n_in, layer.units)) / 8.0,
                                         rng.integers(-8, 8, layer.units) / 8.0)
                            for layer, n_in, _ in spec.layer_inputs()])
    design = generate_rtl(spec, weights, tmp_path_factory.mktemp("rtl"), clock_ns=5.0)
    x = quantize_array(rng.normal(0, 2, (40, 4)), spec.input_quantizer)
    return design, spec, weights, x


def test_rendered_source_names_design_and_latency(tiny_design):
    design, *_ = tiny_design
    src = render_testbench(design, 40)
    assert f"{design.top} dut" in src and f"LAT = {design.latency_cycles}" in src and "N = 40" in src


def test_testbench_passes_on_reference_and_catches_a_wrong_vector(tiny_design, tmp_path):
    design, spec, weights, x = tiny_design
    y = reference_forward(spec, weights, x)
    write_vectors(design, x, y, tmp_path / "vectors")
    tb = write_testbench(design, len(x), tmp_path / "tb")
    good = run_testbench(tb, tmp_path / "vectors", design.files)
    assert good.checked == len(x) and good.errors == 0 and good.passed

    y_bad = y.copy()
    y_bad[17, 1] += 2.0 ** -design.output_format.fractional  # one LSB off in one value
    write_vectors(design, x, y_bad, tmp_path / "vectors")
    bad = run_testbench(tb, tmp_path / "vectors", design.files)
    assert bad.checked == len(x) and bad.errors == 1 and not bad.passed
    assert (tmp_path / "vectors" / EXPECTED_HEX).exists()
