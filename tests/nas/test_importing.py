"""``qnas import``: mapping Keras/QKeras layers to a spec, refusals, and the rebuilt-model proof."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qnas.errors import ConfigError, UnsupportedSpec
from qnas.spec import Quantizer, SpecError

from nas.importing.mapping import plan_import, quantizer_from_config


# -- number formats (no TensorFlow) ---------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("ap_fixed<16,6>", Quantizer.fixed(16, 5)),
    ("ap_ufixed<8,3>", Quantizer.fixed(8, 3, signed=False)),
    ("ap_fixed<8, 3>", Quantizer.fixed(8, 2)),
])
def test_hls_type_parses_and_round_trips(text, expected):
    q = Quantizer.from_hls_type(text)
    assert q == expected
    assert Quantizer.from_hls_type(q.hls_type) == q


@pytest.mark.parametrize("text", ["ap_fixed<8,3,AP_RND>", "fixed<8,3>", "ap_int<8>", ""])
def test_hls_type_refuses_what_it_cannot_mean_exactly(text):
    with pytest.raises(SpecError, match="ap_fixed<W,I>"):
        Quantizer.from_hls_type(text)


@pytest.mark.parametrize("config, expected", [
    ({"class_name": "quantized_bits", "config": {"bits": 6, "integer": 0, "alpha": 1}}, Quantizer.fixed(6, 0)),
    ({"class_name": "quantized_bits", "config": {"bits": 6, "integer": 2}}, Quantizer.fixed(6, 2)),
    ("quantized_relu(6,0)", Quantizer.fixed(6, 0, signed=False)),
    ("quantized_relu(bits=4, integer=2)", Quantizer.fixed(4, 2, signed=False)),
    ("ternary(alpha=1)", Quantizer.ternary()),
    ({"class_name": "binary", "config": {"alpha": 1, "use_01": False}}, Quantizer.binary()),
])
def test_quantizer_configs_map_exactly(config, expected):
    assert quantizer_from_config(config, "fc1.kernel_quantizer") == expected


@pytest.mark.parametrize("config, match", [
    ("quantized_bits(6, 0, alpha='auto_po2')", r"alpha='auto_po2'.*retrain with alpha=1"),
    ({"class_name": "ternary", "config": {"alpha": 0.7}}, r"alpha=0.7"),
    ("quantized_bits(6, 0, symmetric=1)", "symmetric=0"),
    ("quantized_relu(6, 0, negative_slope=0.25)", "plain ReLU"),
    ("binary(use_01=True)", "use_01"),
    ("stochastic_ternary()", "not supported"),
    ("quantized_bits(6, x)", "non-literal"),
])
def test_quantizers_qnas_cannot_realise_are_refused_with_the_reason(config, match):
    with pytest.raises(UnsupportedSpec, match=match) as info:
        quantizer_from_config(config, "fc1.kernel_quantizer")
    assert "fc1.kernel_quantizer" in str(info.value)


# -- the layer chain, with stand-in layer objects (class names are what the mapping reads) ---------

def _layer(cls_name, name, **config):
    cls = type(cls_name, (), {"get_config": lambda self: dict(config), "name": name})
    return cls()


def _qdense(name, units, bits=6, bias=True, activation="linear"):
    q = {"class_name": "quantized_bits", "config": {"bits": bits, "integer": 0, "alpha": 1}}
    return _layer("QDense", name, units=units, use_bias=bias, activation=activation, kernel_quantizer=q,
                  bias_quantizer=q if bias else None)


INPUT = _layer("InputLayer", "in", batch_input_shape=(None, 16))


def test_published_tagger_chain_maps_to_the_spec_with_the_users_names():
    layers = [INPUT, _qdense("fc1", 64), _layer("QActivation", "relu1", activation="quantized_relu(6,0)"),
              _layer("Dropout", "drop", rate=0.1), _qdense("fc2", 32),
              _layer("QActivation", "relu2", activation="quantized_relu(6,0)"), _qdense("output", 5),
              _layer("Activation", "softmax", activation="softmax")]
    plan = plan_import(layers, input_quantizer=Quantizer.fixed(16, 5))
    spec = plan.spec
    assert spec.widths == (16, 64, 32, 5)
    assert [l.name for l in spec.layers] == ["fc1", "fc2", "output"]
    assert spec.layers[0].activation == Quantizer.fixed(6, 0, signed=False)
    assert spec.layers[-1].activation is None
    assert spec.input_quantizer == Quantizer.fixed(16, 5)
    assert plan.output_layer == "output"  # the logits, before the dropped softmax
    assert any("softmax" in n for n in plan.notes) and any("Dropout" in n for n in plan.notes)


@pytest.mark.parametrize("bad, match", [
    (_layer("BatchNormalization", "bn1"), r"'bn1' \(BatchNormalization\).*fold"),
    (_layer("Conv2D", "conv"), r"'conv' \(Conv2D\) cannot be imported.*QDense"),
    (_layer("Dense", "float1", units=8, activation="relu"), r"float layer.*--quantize"),
    (_layer("Activation", "tanh1", activation="tanh"), r"activation 'tanh' is not supported"),
    (_layer("Activation", "relu_f", activation="relu"), r"float ReLU.*quantized_relu"),
])
def test_layers_qnas_cannot_build_are_refused_by_name(bad, match):
    layers = [INPUT, _qdense("fc1", 8), bad, _qdense("out", 5)]
    with pytest.raises(UnsupportedSpec, match=match):
        plan_import(layers, input_quantizer=Quantizer.fixed(8, 3))


def test_missing_input_format_asks_for_input_precision():
    with pytest.raises(UnsupportedSpec, match="--input-precision"):
        plan_import([INPUT, _qdense("out", 5)], input_quantizer=None)


def test_qdense_without_bias_quantizer_is_refused_unless_quantizing():
    layer = _layer("QDense", "fc1", units=5, use_bias=True, activation="linear",
                   kernel_quantizer={"class_name": "quantized_bits", "config": {"bits": 6, "integer": 0}},
                   bias_quantizer=None)
    with pytest.raises(UnsupportedSpec, match="no bias_quantizer"):
        plan_import([INPUT, layer], input_quantizer=Quantizer.fixed(8, 3))
    plan = plan_import([INPUT, layer], input_quantizer=Quantizer.fixed(8, 3), quantize=Quantizer.fixed(8, 2))
    assert plan.spec.layers[0].bias == Quantizer.fixed(8, 2)


def test_float_model_under_quantize_gets_the_stated_formats():
    layers = [INPUT, _layer("Dense", "d1", units=8, activation="relu", use_bias=True),
              _layer("Dense", "d2", units=5, activation="linear", use_bias=True)]
    plan = plan_import(layers, input_quantizer=None, quantize=Quantizer.from_hls_type("ap_fixed<8,3>"))
    first = plan.spec.layers[0]
    assert first.weight == first.bias == Quantizer.fixed(8, 2)
    assert first.activation == Quantizer.fixed(8, 3, signed=False)  # ap_ufixed<8,3>
    assert plan.spec.input_quantizer == Quantizer.fixed(8, 2)


# -- real models through tf-keras/QKeras ----------------------------------------------------------

def _published_tagger(tmp_path: Path, alpha=1, seed=1):
    """A 16-64-32-32-5 QKeras tagger saved as JSON + HDF5 weights, the way papers publish it."""
    from qnas import _imports

    keras = _imports.tf_keras()
    qk = _imports.qkeras()
    q = lambda: qk.quantized_bits(6, 0, alpha=alpha)  # noqa: E731
    inp = keras.Input((16,), name="input_1")
    x = inp
    for i, units in enumerate((64, 32, 32)):
        x = qk.QDense(units, kernel_quantizer=q(), bias_quantizer=q(), name=f"fc{i + 1}")(x)
        x = qk.QActivation(qk.quantized_relu(6, 0), name=f"relu{i + 1}")(x)
    x = qk.QDense(5, kernel_quantizer=q(), bias_quantizer=q(), name="output")(x)
    x = keras.layers.Activation("softmax", name="softmax")(x)
    model = keras.Model(inp, x)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in model.get_weights()])
    (tmp_path / "tagger.json").write_text(model.to_json())
    model.save_weights(str(tmp_path / "tagger_weights.h5"))
    return model


@pytest.fixture(scope="module")
def tagger_import(tmp_path_factory):
    pytest.importorskip("qkeras")
    from nas.importing import import_model

    tmp = tmp_path_factory.mktemp("tagger")
    _published_tagger(tmp)
    result = import_model(tmp / "tagger.json", tmp / "imported" / "tagger", weights_path=tmp / "tagger_weights.h5",
                          input_precision="ap_fixed<16,6>", n_vectors=300, echo=lambda s: None)
    return tmp, result


def test_import_rebuilds_the_published_tagger_bit_for_bit(tagger_import):
    tmp, result = tagger_import
    out = result.out
    for name in ("spec.json", "model.h5", "weights.npz", "test_vectors.npz", "metrics.json", "estimate.json",
                 "import.json"):
        assert (out / name).is_file(), name
    record = json.loads((out / "import.json").read_text())
    assert record["rebuilt_equals_user"] == {"bitexact_rate": 1.0, "row_exact_rate": 1.0}
    assert record["rebuilt_equals_reference"] is True
    assert record["layers"] == [{"spec": n, "keras": n} for n in ("fc1", "fc2", "fc3", "output")]
    assert result.spec.widths == (16, 64, 32, 32, 5)
    assert all(l.weight == Quantizer.fixed(6, 0) for l in result.spec.layers)
    with np.load(out / "test_vectors.npz") as vec:
        x = vec["x"]
    step = result.spec.input_quantizer.step
    assert np.array_equal(x / step, np.round(x / step))  # on the input grid
    assert not (tmp / "imported" / "tagger.partial").exists()


def test_estimate_reads_an_imported_folder_and_keras_h5_weights(tagger_import):
    tmp, result = tagger_import
    from qnas.cli import main

    folder = json.loads(subprocess.run(
        [sys.executable, "-m", "qnas.cli", "estimate", str(result.out), "--json"], capture_output=True, text=True,
        check=True).stdout)
    h5 = json.loads(subprocess.run(
        [sys.executable, "-m", "qnas.cli", "estimate", str(result.out / "spec.json"), "--weights",
         str(tmp / "tagger_weights.h5"), "--json"], capture_output=True, text=True, check=True).stdout)
    assert folder["producer"] == h5["producer"] == "qnas.da.trace"
    assert folder["lut"] == h5["lut"] and folder["latency_cycles"] == h5["latency_cycles"]
    (tmp / "garbage.h5").write_bytes(b"not a weights file at all")
    assert main(["estimate", str(result.out / "spec.json"), "--weights", str(tmp / "garbage.h5")]) == 2


def test_import_states_the_pipelining_on_the_spec(tagger_import, tmp_path):
    tmp, result = tagger_import
    from qnas.cli import main
    from qnas.spec import ModelSpec

    out = tmp_path / "cut8"
    assert main(["import", str(tmp / "tagger.json"), "--weights", str(tmp / "tagger_weights.h5"), "--input-precision",
                 "ap_fixed<16,6>", "--vectors", "50", "--adders-per-stage", "8", "--out", str(out)]) == 0
    spec = ModelSpec.from_json((out / "spec.json").read_text())
    assert spec.pipeline is not None and spec.pipeline.adders_per_stage == 8
    record = json.loads((out / "import.json").read_text())
    assert record["pipeline"]["latency_cutoff"] == 8.0 and record["pipeline"]["stated"] is True
    cut8 = json.loads((out / "estimate.json").read_text())
    default = json.loads((result.out / "estimate.json").read_text())
    assert cut8["latency_cycles"] < default["latency_cycles"]  # 8 adder levels a stage, not 5 at 5 ns
    assert main(["import", str(tmp / "tagger.json"), "--weights", str(tmp / "tagger_weights.h5"), "--input-precision",
                 "ap_fixed<16,6>", "--adders-per-stage", "0", "--out", str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad").exists()


def test_import_refuses_to_overwrite_and_alpha_other_than_one(tagger_import, tmp_path):
    from qnas.errors import FatalError

    from nas.importing import import_model

    tmp, result = tagger_import
    with pytest.raises(FatalError, match="--force"):
        import_model(tmp / "tagger.json", result.out, weights_path=tmp / "tagger_weights.h5",
                     input_precision="ap_fixed<16,6>", echo=lambda s: None)
    _published_tagger(tmp_path, alpha="auto_po2")
    with pytest.raises(UnsupportedSpec, match="alpha='auto_po2'"):
        import_model(tmp_path / "tagger.json", tmp_path / "x", weights_path=tmp_path / "tagger_weights.h5",
                     input_precision="ap_fixed<16,6>", echo=lambda s: None)
    assert not (tmp_path / "x").exists()


def test_wrong_model_files_get_the_formats_named(tmp_path):
    pytest.importorskip("qkeras")
    from nas.importing import load_user_model

    (tmp_path / "m.h5").write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ConfigError, match="not an HDF5 file.*MODEL.json with --weights"):
        load_user_model(tmp_path / "m.h5")
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(ConfigError, match="--weights"):
        load_user_model(tmp_path / "m.json")
    with pytest.raises(ConfigError, match="not a Keras model JSON"):
        load_user_model(tmp_path / "m.json", tmp_path / "m.h5")
    (tmp_path / "m.onnx").write_text("x")
    with pytest.raises(ConfigError, match="cannot tell the format"):
        load_user_model(tmp_path / "m.onnx")


@pytest.mark.parametrize("fmt", ["h5", pytest.param("keras", marks=pytest.mark.slow),
                                 pytest.param("savedmodel", marks=pytest.mark.slow)])
def test_float_model_is_post_training_quantized_with_accuracy_before_and_after(tmp_path, fmt):
    pytest.importorskip("qkeras")
    from qnas import _imports

    from nas.datasets import load_dataset
    from nas.importing import import_model

    keras = _imports.tf_keras()
    data = load_dataset("digits", {}, 0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(16, activation="relu", name="d1"),
                              keras.layers.Dropout(0.1), keras.layers.Dense(10, name="d2")])
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    keras.utils.set_random_seed(0)
    model.fit(data.x_train, data.y_train, epochs=15, batch_size=64, verbose=0)
    path = tmp_path / {"h5": "float.h5", "keras": "float.keras", "savedmodel": "float_saved"}[fmt]
    model.save(str(path)) if fmt != "savedmodel" else model.save(str(path), save_format="tf")
    result = import_model(path, tmp_path / "float8", quantize="ap_fixed<8,3>", calibration_data="digits",
                          echo=lambda s: None)
    rec = result.record
    assert rec["mode"] == "post_training_quantization" and rec["quantize"] == "ap_fixed<8,3>"
    assert rec["accuracy_before"] > 0.85
    assert abs(rec["accuracy_after"] - rec["accuracy_before"]) < 0.05
    assert rec["rebuilt_equals_reference"] is True
    assert result.spec.layers[0].weight == Quantizer.fixed(8, 2)


@pytest.mark.slow
def test_imported_tagger_goes_through_export_synth_and_verify_with_one_command_each(tmp_path):
    """The user's path: qnas import -> estimate -> export -> synth --flow open -> verify."""
    pytest.importorskip("qkeras")
    pytest.importorskip("hls4ml")
    from qnas import _imports
    from qnas.cli import main

    keras = _imports.tf_keras()
    qk = _imports.qkeras()
    q = lambda: qk.quantized_bits(6, 0, alpha=1)  # noqa: E731
    inp = keras.Input((16,), name="input_1")
    x = qk.QDense(8, kernel_quantizer=q(), bias_quantizer=q(), name="fc1")(inp)
    x = qk.QActivation("quantized_relu(6,0)", name="relu1")(x)
    x = qk.QDense(5, kernel_quantizer=q(), bias_quantizer=q(), name="output")(x)
    model = keras.Model(inp, x)
    rng = np.random.default_rng(7)
    model.set_weights([rng.normal(0, 0.4, w.shape).astype("float32") for w in model.get_weights()])
    (tmp_path / "small.json").write_text(model.to_json())
    model.save_weights(str(tmp_path / "small_weights.h5"))

    folder, fw = tmp_path / "imported" / "small", tmp_path / "firmware"
    assert main(["import", str(tmp_path / "small.json"), "--weights", str(tmp_path / "small_weights.h5"),
                 "--input-precision", "ap_fixed<10,4>", "--vectors", "200", "--out", str(folder),
                 "--adders-per-stage", "2"]) == 0
    assert main(["estimate", str(folder)]) == 0
    assert main(["export", str(folder), "--out", str(fw)]) == 0
    bundle = fw / "small"
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["results"]["csim"]["bitexact_rate"] == 1.0
    assert manifest["results"]["rtl_sim"]["row_exact_rate"] == 1.0
    # the pipelining stated at import is the estimate's, the RTL's and the manifest's
    assert manifest["pipeline"]["adders_per_stage"] == 2 and manifest["pipeline"]["stated"] is True
    assert (manifest["pipeline"]["latency_cycles"] == manifest["results"]["rtl_sim"]["design_latency_cycles"]
            == manifest["results"]["estimate_open"]["latency_cycles"])
    assert manifest["provenance"]["imported"] == str(folder.resolve())
    assert main(["synth", str(bundle), "--flow", "open", "--no-ecp5"]) == 0
    synth = json.loads((bundle / "manifest.json").read_text())["results"]["synthesis"]["open_xilinx"]
    assert synth["result"]["lut"] > 0
    assert main(["verify", str(bundle)]) == 0
