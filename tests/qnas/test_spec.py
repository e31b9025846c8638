import json

import pytest

from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer, SpecError, valid_reuse_factors


def _spec(**kw):
    q = Quantizer.fixed(6, 0)
    a = Quantizer.fixed(6, 2, signed=False)
    layers = (DenseLayerSpec("dense_1", 8, q, q, a, reuse_factor=2),
              DenseLayerSpec("output", 3, Quantizer.ternary(), q, None))
    return ModelSpec(n_inputs=4, input_quantizer=Quantizer.fixed(8, 3), layers=layers, **kw)


def test_round_trip_json_is_identity():
    spec = _spec(metadata={"trial": 3})
    back = ModelSpec.from_json(spec.to_json())
    assert back == spec
    assert back.metadata == {"trial": 3}
    assert json.loads(spec.to_json())["layers"][1]["weight"]["kind"] == "ternary"


def test_fingerprint_ignores_metadata_but_not_bits():
    a, b = _spec(metadata={"x": 1}), _spec(metadata={"x": 2})
    assert a.fingerprint() == b.fingerprint()
    c = ModelSpec(4, Quantizer.fixed(7, 3), a.layers)
    assert c.fingerprint() != a.fingerprint()


def test_quantizer_grid_matches_qkeras_convention():
    q = Quantizer.fixed(6, 0)
    assert q.step == 2 ** -5 and q.min_value == -1 and q.max_value == 1 - 2 ** -5
    u = Quantizer.fixed(6, 2, signed=False)
    assert u.step == 2 ** -4 and u.min_value == 0 and u.max_value == 4 - 2 ** -4
    assert q.hls_type == "ap_fixed<6,1>" and u.hls_type == "ap_ufixed<6,2>"


@pytest.mark.parametrize("kwargs, field", [
    (dict(kind="ternary", bits=3, integer=1), "ternary"),
    (dict(kind="fixed", bits=1), "bits"),
    (dict(kind="int4"), "kind"),
])
def test_bad_quantizer_names_field(kwargs, field):
    with pytest.raises(SpecError, match=field):
        Quantizer(**kwargs)


def test_distributed_arithmetic_requires_reuse_one():
    with pytest.raises(SpecError, match="reuse_factor must be 1"):
        _spec(strategy="distributed_arithmetic")


def test_autoencoder_output_must_match_input():
    with pytest.raises(SpecError, match="autoencoder"):
        _spec(task="autoencoder")


def test_signed_relu_output_rejected():
    with pytest.raises(SpecError, match="unsigned"):
        DenseLayerSpec("d", 4, Quantizer.fixed(6), Quantizer.fixed(6), Quantizer.fixed(6, 2))


def test_valid_reuse_factors_rule():
    # 16x64: every power of two up to 1024, never a non-divisor
    rfs = valid_reuse_factors(16, 64)
    assert rfs[:5] == (1, 2, 4, 8, 16) and 3 not in rfs and 1024 in rfs
    # between n_in and n_in*n_out only multiples of n_in are valid
    assert all(r % 16 == 0 for r in rfs if r >= 16)
    # 7x7 (prime fan-in): only 1, 7, 49
    assert valid_reuse_factors(7, 7) == (1, 7, 49)



def test_with_strategy_keeps_the_network_and_changes_its_realisation():
    spec = _spec()
    da = spec.with_strategy("distributed_arithmetic", reuse_factor=1)
    assert da.strategy == "distributed_arithmetic"
    assert all(layer.reuse_factor == 1 for layer in da.layers)
    assert da.widths == spec.widths and da.input_quantizer == spec.input_quantizer
    assert [l.weight for l in da.layers] == [l.weight for l in spec.layers]
    assert spec.with_strategy("resource").layers == spec.layers
    assert any(layer.reuse_factor != 1 for layer in spec.layers)
    # distributed arithmetic has one reuse factor (qnas.spec.fixed_reuse_factor): given by default
    assert spec.with_strategy("distributed_arithmetic") == da
    with pytest.raises(SpecError, match="reuse_factor must be 1"):
        spec.with_strategy("distributed_arithmetic", reuse_factor=2)
