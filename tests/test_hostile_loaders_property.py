"""Property-based: random and adversarial bytes, YAML and data files to every loader (issue 14).

Each loader must answer with one qnas error (a QnasError subclass; through the CLI exit
code 2 and a one-line message) or with a valid object; never another exception, never a
traceback. Examples are bounded so the suite stays fast.
"""

import json
import string

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qnas.errors import QnasError

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])

#: YAML/JSON-like values: scalars of every kind, nested a few levels
values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20)

#: YAML that goes after the parser's corners: anchors, tags, merge keys, odd scalars
yaml_snippets = st.lists(st.sampled_from([
    "&a [1, 2]", "*a", "*undefined", "!!python/object:os.system {}", "!!binary AAAA", "<<: *a",
    "2001-13-45", "0x1F", "1e999", ".nan", "-.inf", "~", "? [1]\n: 2", "{[1]: 2}", "|\n  text",
    "'unterminated", "[[[[", "]]]", "\t", "\x00", "\ufeff", "%YAML 1.1\n---", "---\n...", "@", "`",
]), min_size=1, max_size=6).map(lambda parts: "\n".join(f"k{i}: {p}" for i, p in enumerate(parts)))


def _study(**changes) -> dict:
    data = {"name": "t", "dataset": "digits", "n_trials": 3, "seed": 0,
            "search_space": {"family": "mlp", "depth": [1], "width": [4, 8]},
            "objectives": ["accuracy", "lut"], "budget": {"part": "xcvu13p", "clock_ns": 5.0},
            "training": {"epochs": 1}, "sampler": {"name": "random"}}
    data.update(changes)
    return data


def _only_qnas_errors(call):
    try:
        return call()
    except QnasError as exc:
        text = str(exc)
        assert text and "Traceback" not in text and len(text) < 5000
        return exc


# -- study YAML -----------------------------------------------------------------------------

@FAST
@given(content=st.binary(max_size=3000))
def test_study_loader_on_random_bytes(tmp_path_factory, content):
    from nas.config import load_study_config

    path = tmp_path_factory.mktemp("y") / "s.yaml"
    path.write_bytes(content)
    _only_qnas_errors(lambda: load_study_config(path))


@FAST
@given(text=yaml_snippets)
def test_study_loader_on_adversarial_yaml(tmp_path_factory, text):
    from nas.config import load_study_config

    path = tmp_path_factory.mktemp("y") / "s.yaml"
    path.write_text(text)
    _only_qnas_errors(lambda: load_study_config(path))


_KEYS = ["name", "dataset", "n_trials", "seed", "search_space", "objectives", "budget", "training",
         "sampler", "storage", "out", "max_consecutive_rejections"]
_SPACE_KEYS = ["family", "depth", "width", "weight_bits", "weight_integer", "activation_bits", "reuse_factor",
               "strategy", "layers", "output", "input_bits"]


@FAST
@given(key=st.sampled_from(_KEYS), space_key=st.sampled_from(_SPACE_KEYS), value=values,
       where=st.sampled_from(["top", "space", "budget"]))
def test_study_loader_on_a_valid_study_with_one_value_replaced(tmp_path_factory, key, space_key, value, where):
    from nas.config import load_study_config

    data = _study()
    if where == "top":
        data[key] = value
    elif where == "space":
        data["search_space"][space_key] = value
    else:
        data["budget"]["max_lut" if isinstance(value, (int, float)) else "part"] = value
    path = tmp_path_factory.mktemp("y") / "s.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    _only_qnas_errors(lambda: load_study_config(path))


# -- dataset files ----------------------------------------------------------------------------

@FAST
@given(content=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".npz", ".h5", ".parquet"]))
def test_dataset_loader_on_random_bytes(tmp_path_factory, content, suffix):
    from nas.datasets import load_dataset

    path = tmp_path_factory.mktemp("d") / f"data{suffix}"
    path.write_bytes(content)
    _only_qnas_errors(lambda: load_dataset("file", {"path": str(path), "label": "y"}, 0))


cells = st.one_of(st.integers(-10, 10), st.floats(allow_nan=True, allow_infinity=True),
                  st.text(alphabet=string.printable, max_size=5), st.none())


@FAST
@given(rows=st.lists(st.tuples(cells, cells, cells), max_size=40), fmt=st.sampled_from([".csv", ".npz", ".parquet"]))
def test_dataset_loader_on_random_tables(tmp_path_factory, rows, fmt):
    import pandas as pd

    from nas.datasets import load_dataset

    path = tmp_path_factory.mktemp("d") / f"data{fmt}"
    frame = pd.DataFrame(rows, columns=["a", "b", "y"])
    if fmt == ".csv":
        frame.to_csv(path, index=False)
    elif fmt == ".parquet":
        try:
            frame.to_parquet(path)
        except Exception:  # pyarrow refuses some mixed columns: nothing to load then
            return
    else:
        np.savez(path, **{c: frame[c].to_numpy().astype(str) if frame[c].dtype == object else frame[c].to_numpy()
                          for c in frame.columns})
    _only_qnas_errors(lambda: load_dataset("file", {"path": str(path), "label": "y"}, 0))


@FAST
@given(arrays=st.dictionaries(st.sampled_from(["y", "a", "b", "x"]),
                              st.lists(st.floats(allow_nan=True) | st.integers(-5, 5), max_size=12), max_size=4))
def test_dataset_loader_on_random_hdf5(tmp_path_factory, arrays):
    h5py = pytest.importorskip("h5py")
    from nas.datasets import load_dataset

    path = tmp_path_factory.mktemp("d") / "data.h5"
    with h5py.File(path, "w") as f:
        for key, value in arrays.items():
            f[key] = np.asarray(value, dtype=float)
    _only_qnas_errors(lambda: load_dataset("file", {"path": str(path), "label": "y"}, 0))


# -- spec JSON and weights, through `qnas estimate` --------------------------------------------

def _spec_dict():
    from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer

    q = Quantizer.fixed(6, 0)
    return json.loads(ModelSpec(4, Quantizer.fixed(8, 3), (DenseLayerSpec("out", 3, q, Quantizer.fixed(8, 3), None),)
                                ).to_json())


@FAST
@given(key=st.sampled_from(["n_inputs", "input_quantizer", "layers", "strategy", "format_version", "task"]),
       value=values, raw=st.one_of(st.none(), st.binary(max_size=200)))
def test_estimate_cli_on_random_specs(tmp_path_factory, capsys, key, value, raw):
    from qnas.cli import main

    path = tmp_path_factory.mktemp("s") / "spec.json"
    if raw is not None:
        path.write_bytes(raw)
    else:
        spec = _spec_dict()
        spec[key] = value
        path.write_text(json.dumps(spec))
    assert main(["estimate", str(path)]) in (0, 2)
    assert "Traceback" not in capsys.readouterr().err


@FAST
@given(content=st.binary(max_size=2000), prefix=st.sampled_from([b"", b"PK\x03\x04", b"\x93NUMPY\x01\x00"]))
def test_weights_loader_on_random_bytes(tmp_path_factory, content, prefix):
    from qnas.weights import ModelWeights

    path = tmp_path_factory.mktemp("w") / "w.npz"
    path.write_bytes(prefix + content)
    _only_qnas_errors(lambda: ModelWeights.load(path))


@FAST
@given(arrays=st.dictionaries(st.sampled_from(["kernel_0", "bias_0", "kernel_1", "other"]),
                              st.lists(st.floats(allow_nan=True), max_size=6), max_size=4))
def test_weights_loader_on_random_arrays(tmp_path_factory, arrays):
    from qnas.weights import ModelWeights

    path = tmp_path_factory.mktemp("w") / "w.npz"
    np.savez(path, **{k: np.asarray(v) for k, v in arrays.items()})
    _only_qnas_errors(lambda: ModelWeights.load(path))


# -- bundle manifest ------------------------------------------------------------------------------

@FAST
@given(content=st.one_of(st.binary(max_size=500), values.map(lambda v: json.dumps(v).encode()),
                         st.dictionaries(st.sampled_from(["files", "results", "part"]), values, max_size=3)
                         .map(lambda v: json.dumps(v).encode())))
def test_manifest_reader_and_verify_on_random_content(tmp_path_factory, content):
    from hls_backend.bundle import verify_bundle

    bundle = tmp_path_factory.mktemp("b")
    (bundle / "manifest.json").write_bytes(content)
    result = _only_qnas_errors(lambda: verify_bundle(bundle, testbench=False))
    if not isinstance(result, QnasError):
        assert isinstance(result.problems, list)
