"""Firmware bundles end to end: export, verify, corruption, failed steps."""

import json

import numpy as np
import pytest

from hls_backend.bundle import export_trial, open_flow_spec, verify_bundle
from hls_backend.manifest import FAILED, MANIFEST, read_manifest
from qnas.artifacts import TrialArtifacts
from qnas.errors import CandidateFailed, FatalError
from qnas.fixed_point import quantize_array, reference_forward
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer
from qnas.weights import LayerWeights, ModelWeights


def _trial(root, reuse=2):
    """A saved trial without TensorFlow: spec, weights, vectors from the golden model."""
    q, a = Quantizer.fixed(4, 0), Quantizer.fixed(4, 2, signed=False)
    spec = ModelSpec(4, Quantizer.fixed(6, 2), (DenseLayerSpec("d1", 6, q, q, a, reuse_factor=reuse),
                                                DenseLayerSpec("out", 3, Quantizer.ternary(), q, None)))
    rng = np.random.default_rng(11)
    weights = ModelWeights([
        LayerWeights(rng.integers(-8, 8, (4, 6)) / 8.0, rng.integers(-8, 8, 6) / 8.0),
        LayerWeights(rng.integers(-1, 2, (6, 3)).astype(float), rng.integers(-8, 8, 3) / 8.0),
    ])
    weights.check(spec)
    art = TrialArtifacts.for_trial(root, 3)
    art.root.mkdir(parents=True)
    art.spec.write_text(spec.to_json())
    weights.save(art.weights)
    art.model.write_bytes(b"not used without --csim")
    x = quantize_array(rng.normal(0, 2, (30, 4)), spec.input_quantizer)
    np.savez(art.test_vectors, x=x, y_qkeras=reference_forward(spec, weights, x))
    return art, spec


def test_open_flow_spec_is_unrolled_distributed_arithmetic(tmp_path):
    _, spec = _trial(tmp_path)
    da = open_flow_spec(spec)
    assert da.strategy == "distributed_arithmetic" and all(l.reuse_factor == 1 for l in da.layers)
    assert open_flow_spec(da) is da


def test_export_verify_and_catch_corruption(tmp_path):
    art, spec = _trial(tmp_path / "run")
    res = export_trial(art, tmp_path / "fw", 3, part="xcvu13p", clock_ns=5.0, csim=False, echo=lambda s: None)
    assert res.ok, res.error
    bundle = res.bundle
    assert bundle.name == "trial_00003" and not (tmp_path / "fw" / "trial_00003.partial").exists()
    manifest = read_manifest(bundle)
    assert manifest["spec_fingerprint"] == spec.fingerprint()
    assert "rtl/design.json" in manifest["files"] and "tb/qnas_tb.v" in manifest["files"]
    assert manifest["results"]["rtl_sim"]["vectors_checked"] == 30
    assert manifest["results"]["rtl_sim"]["vectors_mismatched"] == 0
    # the open flow estimate is of the realisation it builds, the other of the searched spec
    assert manifest["results"]["estimate_open"]["producer"].startswith("qnas.da")
    assert not manifest["results"]["estimate"]["producer"].startswith("qnas.da")

    ok = verify_bundle(bundle)
    assert ok.ok and ok.testbench["checked"] == 30 and ok.testbench["errors"] == 0

    expected = bundle / "vectors" / "expected.hex"
    lines = expected.read_text().splitlines()
    lines[5] = format(int(lines[5], 16) ^ 1, f"0{len(lines[5])}x")
    expected.write_text("\n".join(lines) + "\n")
    bad = verify_bundle(bundle)
    assert not bad.ok
    assert any("vectors/expected.hex" in p for p in bad.problems)
    assert bad.testbench is None  # never replays a bundle whose files do not match


def test_stated_pipelining_is_recorded_and_checked_on_verify(tmp_path):
    """--adders-per-stage: the spec, both estimates, the RTL and the manifest carry it; verify reads it back."""
    from qnas.pipeline import Pipelining

    art, spec = _trial(tmp_path / "run")
    default = export_trial(art, tmp_path / "fw", 3, part="xcvu13p", clock_ns=5.0, csim=False, echo=lambda s: None)
    choice = Pipelining(adders_per_stage=1)
    res = export_trial(art, tmp_path / "fw", 3, part="xcvu13p", clock_ns=5.0, csim=False, echo=lambda s: None,
                       name="cut1", pipeline=choice)
    assert default.ok and res.ok, (default.error, res.error)
    manifest, before = read_manifest(res.bundle), read_manifest(default.bundle)
    assert before["pipeline"]["stated"] is False and before["pipeline"]["latency_cutoff"] == 5.0
    assert manifest["pipeline"] == {"adders_per_stage": 1, "rule": "adders_per_stage", "stated": True,
                                    "clock_ns": 5.0, "latency_cutoff": 1.0,
                                    "latency_cycles": res.rtl_sim["design_latency_cycles"],
                                    "n_stages": res.rtl_sim["design_latency_cycles"] - 1}
    assert ModelSpec.from_json((res.bundle / "model" / "spec.json").read_text()).pipeline == choice
    assert manifest["spec_fingerprint"] != before["spec_fingerprint"]  # a stated choice is another design
    assert manifest["results"]["estimate_open"]["latency_cycles"] == res.rtl_sim["design_latency_cycles"]
    assert res.rtl_sim["design_latency_cycles"] > default.rtl_sim["design_latency_cycles"]
    assert verify_bundle(res.bundle).ok
    # a manifest whose pipelining the RTL does not follow is refused (checksums rewritten to match)
    from hls_backend.manifest import write_manifest

    info = {k: v for k, v in manifest.items() if k != "files"}
    write_manifest(res.bundle, {**info, "pipeline": {**manifest["pipeline"], "adders_per_stage": 3,
                                                     "latency_cutoff": 3.0}})
    bad = verify_bundle(res.bundle)
    assert not bad.ok and bad.testbench is None
    assert any("cut every 1 adder levels" in p for p in bad.problems), bad.problems
    from hls_backend.bundle import synthesize_bundle

    with pytest.raises(FatalError, match="does not follow the pipelining"):
        synthesize_bundle(res.bundle, "open", echo=lambda s: None)


def test_failed_step_leaves_failure_record_and_no_manifest(tmp_path, monkeypatch):
    art, _ = _trial(tmp_path / "run")

    def broken(*args, **kwargs):
        raise CandidateFailed("yosys said: ERROR: out of LUTs")

    monkeypatch.setattr("hls_backend.rtl.design.generate_rtl", broken)
    res = export_trial(art, tmp_path / "fw", 3, part="xcvu13p", clock_ns=5.0, csim=False, echo=lambda s: None)
    assert not res.ok and "out of LUTs" in res.error and res.error.startswith("rtl:")
    assert not (res.bundle / MANIFEST).exists()
    failure = json.loads((res.bundle / FAILED).read_text())
    assert failure["step"] == "rtl" and "out of LUTs" in failure["error"]
    with pytest.raises(FatalError, match="failed export"):
        verify_bundle(res.bundle)


def test_untrained_trial_cannot_be_exported(tmp_path):
    with pytest.raises(FatalError, match="only completed trials"):
        export_trial(TrialArtifacts.for_trial(tmp_path, 9), tmp_path / "fw", 9, part="xcvu13p", clock_ns=5.0)


def test_open_synthesis_keeps_xilinx_result_when_ecp5_fails(tmp_path, monkeypatch):
    from hls_backend.bundle import synthesize_bundle

    art, _ = _trial(tmp_path / "run")
    res = export_trial(art, tmp_path / "fw", 3, part="xcvu13p", clock_ns=5.0, csim=False, echo=lambda s: None)

    def stalled(*args, **kwargs):
        raise CandidateFailed("nextpnr-ecp5 place and route timed out after 5 s")

    monkeypatch.setattr("hls_backend.nextpnr.pnr_ecp5", stalled)
    results = synthesize_bundle(res.bundle, "open", echo=lambda s: None)
    assert set(results) == {"open_xilinx"} and results["open_xilinx"].lut > 0
    synthesis = read_manifest(res.bundle)["results"]["synthesis"]
    assert "timed out" in synthesis["open_ecp5"]["error"]
    assert synthesis["open_xilinx"]["vs_estimate"]["lut"]["truth"] == results["open_xilinx"].lut
    assert verify_bundle(res.bundle, testbench=False).ok  # the manifest covers the new reports
