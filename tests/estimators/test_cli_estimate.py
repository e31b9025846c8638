"""``qnas estimate`` on bad files: one clear error and exit code 2, no traceback (issue 14)."""

import numpy as np
import pytest

from qnas.cli import main
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer


@pytest.fixture
def spec_file(tmp_path):
    q = Quantizer.fixed(6, 0)
    spec = ModelSpec(4, Quantizer.fixed(8, 3), (DenseLayerSpec("d1", 5, q, Quantizer.fixed(8, 3),
                                                               Quantizer.fixed(8, 3, signed=False)),
                                                DenseLayerSpec("out", 3, q, Quantizer.fixed(8, 3), None)))
    path = tmp_path / "spec.json"
    path.write_text(spec.to_json())
    return path


@pytest.mark.parametrize("content", [np.random.default_rng(0).bytes(5000), b"PK\x03\x04" + b"\0" * 100,
                                     b"\x93NUMPY\x01\x00garbage"], ids=["random", "zip-header", "npy-header"])
def test_garbage_weights_file_is_one_clear_error(tmp_path, spec_file, capsys, content):
    weights = tmp_path / "w.npz"
    weights.write_bytes(content)
    assert main(["estimate", str(spec_file), "--weights", str(weights)]) == 2
    err = capsys.readouterr().err
    assert "not a qnas weights file" in err and "Traceback" not in err


def test_weights_with_wrong_arrays_are_one_clear_error(tmp_path, spec_file, capsys):
    weights = tmp_path / "w.npz"
    np.savez(weights, kernel_0=np.array(["a", "b"]), bias_0=np.zeros(5))
    assert main(["estimate", str(spec_file), "--weights", str(weights)]) == 2
    assert "numeric" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["[1, 2]", '{"n_inputs": "x"}', "[" * 100000, "\xff\xfe"],
                         ids=["list", "bad-field", "deep", "odd-text"])
def test_garbage_spec_is_one_clear_error(tmp_path, capsys, text):
    path = tmp_path / "spec.json"
    path.write_text(text)
    assert main(["estimate", str(path)]) == 2
    assert "not a valid ModelSpec JSON" in capsys.readouterr().err


def test_estimate_takes_the_pipelining_flags(tmp_path, capsys):
    import json

    from qnas.spec import ModelSpec as _Spec

    q = Quantizer.fixed(6, 0)
    spec = _Spec(16, Quantizer.fixed(8, 3), tuple(DenseLayerSpec(f"d{i}", 16, q, Quantizer.fixed(8, 3),
                                                                 Quantizer.fixed(6, 2, signed=False)) for i in range(3))
                 + (DenseLayerSpec("out", 5, q, Quantizer.fixed(8, 3), None),), strategy="distributed_arithmetic")
    path = tmp_path / "da.json"
    path.write_text(spec.to_json())
    assert main(["estimate", str(path), "--json"]) == 0
    default = json.loads(capsys.readouterr().out)
    assert main(["estimate", str(path), "--json", "--adders-per-stage", "1"]) == 0
    cut1 = json.loads(capsys.readouterr().out)
    assert cut1["latency_cycles"] > default["latency_cycles"]
    assert cut1["extra"]["pipeline"]["adders_per_stage"] == 1 and default["extra"]["pipeline"]["stated"] is False
    assert main(["estimate", str(path), "--adders-per-ns", "-1"]) == 2
    assert "--adders-per-ns" in capsys.readouterr().err
