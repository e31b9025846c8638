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
