import json

import pytest

from hls_backend.manifest import FAILED, check_files, read_manifest, write_manifest
from qnas.errors import FatalError


def _bundle(tmp_path):
    (tmp_path / "rtl").mkdir()
    (tmp_path / "rtl" / "top.v").write_text("module top; endmodule\n")
    (tmp_path / "vectors.hex").write_text("00\n01\n")
    write_manifest(tmp_path, {"trial": 7, "results": {"synthesis": {}}})
    return tmp_path


def test_intact_bundle_has_no_problems(tmp_path):
    bundle = _bundle(tmp_path)
    manifest = read_manifest(bundle)
    assert manifest["trial"] == 7
    assert set(manifest["files"]) == {"rtl/top.v", "vectors.hex"}
    assert check_files(bundle, manifest) == []


def test_corrupted_missing_and_extra_files_are_reported(tmp_path):
    bundle = _bundle(tmp_path)
    manifest = read_manifest(bundle)
    (bundle / "rtl" / "top.v").write_text("module top; wire x; endmodule\n")
    (bundle / "vectors.hex").unlink()
    (bundle / "intruder.txt").write_text("?")
    problems = check_files(bundle, manifest)
    assert any("checksum mismatch: rtl/top.v" in p for p in problems)
    assert any("missing file vectors.hex" in p for p in problems)
    assert any("not in manifest: intruder.txt" in p for p in problems)


def test_failed_export_is_refused_with_its_reason(tmp_path):
    (tmp_path / FAILED).write_text(json.dumps({"error": "yosys exploded"}))
    with pytest.raises(FatalError, match="yosys exploded"):
        read_manifest(tmp_path)


def test_directory_without_manifest_is_refused(tmp_path):
    with pytest.raises(FatalError, match="no manifest.json"):
        read_manifest(tmp_path)


def test_manifest_write_clears_failure_marker(tmp_path):
    (tmp_path / FAILED).write_text("{}")
    (tmp_path / "a.txt").write_text("a")
    write_manifest(tmp_path, {"results": {}})
    assert not (tmp_path / FAILED).exists()
    assert list(read_manifest(tmp_path)["files"]) == ["a.txt"]
