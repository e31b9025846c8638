"""hls4ml conversion + C simulation: bit-exact with QKeras for every quantizer family.

The lean default test converts and compiles one fixed-point model (g++ takes ~5 s here);
the full family x depth x reuse x strategy grid is marked slow.
"""

import sys
import time

import numpy as np
import pytest

pytest.importorskip("hls4ml")
pytest.importorskip("qkeras")

from _hls4ml_models import make_spec, model_with_weights, quantized_inputs  # noqa: E402

from hls_backend.csim import BitExactReport, compare_outputs, csim_check  # noqa: E402
from hls_backend.hls4ml_convert import convert_to_hls  # noqa: E402
from qnas.errors import UnsupportedSpec  # noqa: E402

N_SAMPLES = 400


def _convert_and_check(spec, tmp_path, backend="Vitis", io_type="io_parallel"):
    model = model_with_weights(spec)
    x = quantized_inputs(spec, N_SAMPLES)
    y = model.predict(x, verbose=0)
    keras_before = sys.modules.get("keras")
    start = time.monotonic()
    hls_model = convert_to_hls(model, spec, tmp_path / "prj", backend=backend, io_type=io_type)
    assert sys.modules.get("keras") is keras_before  # the tf_keras swap is undone
    assert (tmp_path / "prj" / "firmware" / "parameters.h").is_file()  # written before any compile
    report = csim_check(hls_model, x, y)
    return hls_model, report, time.monotonic() - start, y


def test_fixed_point_csim_is_bitexact(tmp_path):
    spec = make_spec("fixed", (16, 32, 5), reuse_factor=4)
    hls_model, report, _, y = _convert_and_check(spec, tmp_path)
    assert isinstance(report, BitExactReport)
    assert (report.n_samples, report.n_outputs) == (N_SAMPLES, 5)
    assert report.bitexact_rate == 1.0 and report.argmax_agreement == 1.0 and report.max_abs_diff == 0.0
    assert len(np.unique(y)) > 50  # the comparison covered many distinct logits, not a constant
    layers = {layer.name: layer for layer in hls_model.get_layers()}
    assert layers["dense_0"].get_attr("reuse_factor") == 4
    assert str(layers["dense_0"].get_output_variable().type.precision).startswith("fixed<18,9")
    assert (tmp_path / "prj" / "firmware" / "myproject.cpp").is_file()

    off_grid = quantized_inputs(spec, 4) + 2.0 ** -6  # finer than the 4 fractional input bits
    with pytest.raises(ValueError, match="input grid"):
        csim_check(hls_model, off_grid, np.zeros((4, 5)))


def test_unconvertible_layer_raises_unsupported_spec_with_hls4ml_message(tmp_path):
    from qnas import _imports

    keras = _imports.tf_keras()
    spec = make_spec("fixed")
    model = model_with_weights(spec)
    scaled = keras.layers.Lambda(lambda t: 2.0 * t, name="scale")(model.output)
    keras_before = sys.modules.get("keras")
    with pytest.raises(UnsupportedSpec, match="Unsupported layer type: Lambda"):
        convert_to_hls(keras.Model(model.input, scaled), spec, tmp_path / "prj")
    assert sys.modules.get("keras") is keras_before  # restored after hls4ml raised, too


def test_model_not_built_from_spec_is_refused(tmp_path):
    from qnas.errors import CandidateFailed

    model = model_with_weights(make_spec("fixed", (16, 8, 5)))
    renamed = make_spec("fixed", (16, 8, 4, 5))  # has a dense_2 the model lacks
    with pytest.raises(CandidateFailed, match="dense_2"):
        convert_to_hls(model, renamed, tmp_path / "prj")


def test_model_without_the_input_quantizer_is_refused(tmp_path):
    """Without ``input_q`` the input precision could not be pinned: refuse, do not guess."""
    from qnas import _imports
    from qnas.errors import CandidateFailed

    keras = _imports.tf_keras()
    spec = make_spec("fixed", (16, 8, 5))
    model = model_with_weights(spec)
    x = inputs = keras.Input((16,), name="inputs")
    for name in ("dense_0", "dense_0_act", "dense_1"):
        x = model.get_layer(name)(x)
    with pytest.raises(CandidateFailed, match="no layer 'input_q'"):
        convert_to_hls(keras.Model(inputs, x), spec, tmp_path / "prj")


def test_compare_outputs_counts_mismatches_exactly():
    ref = np.array([[1.0, 2.0], [3.0, -1.0]])
    got = np.array([[1.0, 2.0], [3.0, 4.0]])
    report = compare_outputs(got, ref)
    assert report.bitexact_rate == 0.75 and report.argmax_agreement == 0.5 and report.max_abs_diff == 5.0
    with pytest.raises(ValueError, match="shape"):
        compare_outputs(got, ref[:1])


CASES = [
    (family, widths, rf, strategy)
    for family in ("fixed", "ternary", "binary")
    for widths, rf, strategy in (((16, 32, 5), 1, "latency"), ((16, 32, 32, 5), 8, "latency"),
                                 ((16, 32, 32, 5), 4, "resource"))
] + [("fixed", (16, 32, 5), 1, "distributed_arithmetic"), ("ternary", (16, 32, 5), 1, "distributed_arithmetic")]


def test_binary_weights_with_hls4ml_distributed_arithmetic_are_refused(tmp_path):
    # hls4ml 1.3's DA strategy mis-encodes binary weights (C sim matched QKeras on 0.5 % of a
    # jet tagger's outputs); the conversion must refuse rather than emit wrong firmware.
    spec = make_spec("binary", strategy="distributed_arithmetic")
    with pytest.raises(UnsupportedSpec, match=r"layers\[0\]\.weight is binary"):
        convert_to_hls(model_with_weights(spec), spec, tmp_path / "prj")
    assert not (tmp_path / "prj").exists()


@pytest.mark.slow
@pytest.mark.parametrize("family,widths,rf,strategy", CASES,
                         ids=[f"{c[0]}-{'-'.join(map(str, c[1]))}-rf{c[2]}-{c[3]}" for c in CASES])
def test_every_family_is_bitexact(family, widths, rf, strategy, tmp_path):
    spec = make_spec(family, widths, reuse_factor=rf, strategy=strategy)
    hls_model, report, seconds, _ = _convert_and_check(spec, tmp_path)
    print(f"{family} {widths} rf={rf} {strategy}: {report} convert+compile+predict {seconds:.1f} s")
    assert report.bitexact_rate == 1.0
    assert report.argmax_agreement == 1.0
    applied = {layer.name: layer.get_attr("strategy") for layer in hls_model.get_layers()}
    assert all(applied[layer.name] == strategy for layer in spec.layers)


@pytest.mark.slow
def test_vivado_backend_is_bitexact_too(tmp_path):
    _, report, _, _ = _convert_and_check(make_spec("ternary", (16, 32, 5), reuse_factor=2), tmp_path,
                                         backend="Vivado")
    assert report.bitexact_rate == 1.0


@pytest.mark.slow
def test_io_stream_is_bitexact_too(tmp_path):
    _, report, _, _ = _convert_and_check(make_spec("binary", (16, 32, 32, 5), reuse_factor=2), tmp_path,
                                         io_type="io_stream")
    assert report.bitexact_rate == 1.0


def test_split_build_and_library_cache_give_the_same_bitexact_simulation(tmp_path, monkeypatch):
    """Generated layers compiled side by side, and a library reused by source hash: same values."""
    from hls_backend.csim import build_csim, library_key, run_csim, split_translation_units

    monkeypatch.setenv("QNAS_CSIM_CACHE", str(tmp_path / "cache"))
    spec = make_spec("fixed", (16, 24, 12, 5), strategy="distributed_arithmetic")
    model = model_with_weights(spec)
    x = quantized_inputs(spec, N_SAMPLES)
    y = model.predict(x, verbose=0)

    split = convert_to_hls(model, spec, tmp_path / "split")
    assert build_csim(split, jobs=2) == {"translation_units": 3, "cache": "miss"}
    assert "extern template" in (tmp_path / "split" / "qnas_csim" / "top.cpp").read_text()
    assert run_csim(split, x, y).is_bitexact  # the split library equals QKeras on every value
    again = convert_to_hls(model, spec, tmp_path / "again")  # a re-export: the same sources elsewhere
    assert build_csim(again, jobs=2) == {"translation_units": 3, "cache": "hit"}
    assert run_csim(again, x, y).is_bitexact
    np.testing.assert_array_equal(np.asarray(again.predict(x)), np.asarray(split.predict(x)))
    # other weights are other sources: another key, never served from the cache
    other = convert_to_hls(model_with_weights(spec, seed=5), spec, tmp_path / "other")
    other.write()
    assert split_translation_units(tmp_path / "other", 2) == 3
    assert library_key(tmp_path / "other") != library_key(tmp_path / "split")
    assert library_key(tmp_path / "again") == library_key(tmp_path / "split")
