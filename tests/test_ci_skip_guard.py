"""Under CI=true a skip outside the allowlist fails the run (tests/conftest.py)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")


def _run(tmp_path, body: str, ci: bool, args: tuple = ()) -> subprocess.CompletedProcess:
    shutil.copy(CONFTEST, tmp_path / "conftest.py")
    (tmp_path / "test_x.py").write_text("import pytest\n\n" + body)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "QNAS_FULL_TESTS")}
    if ci:
        env["CI"] = "true"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(tmp_path)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


SKIPS = '''
def test_tool():
    pytest.skip("tool not installed: Yosys is needed")


def test_vendor():
    pytest.skip("Vivado/Vitis vendor tools are not installed")


@pytest.mark.slow
def test_slow():
    assert True


def test_ok():
    assert True
'''


def test_unexpected_skip_fails_in_ci_allowed_ones_do_not(tmp_path):
    res = _run(tmp_path, SKIPS, ci=True)
    assert res.returncode == 1, res.stdout
    report = res.stdout.split("unexpected skips")[1]
    assert "test_tool" in report and "test_vendor" not in report and "test_slow" not in report


def test_skips_pass_outside_ci(tmp_path):
    assert _run(tmp_path, SKIPS, ci=False).returncode == 0


def test_module_level_skip_fails_in_ci(tmp_path):
    res = _run(tmp_path, 'pytest.importorskip("no_such_module_qnas")\n\n\ndef test_a():\n    pass\n', ci=True)
    assert res.returncode == 1 and "no_such_module_qnas" in res.stdout
