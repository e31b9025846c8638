"""Package-level contracts: public names resolve, heavy dependencies stay lazy."""

import importlib
import subprocess
import sys

import pytest

PACKAGES = ["qnas", "nas", "search_spaces", "estimators", "hls_backend", "studies.dashboard"]
HEAVY = ("tensorflow", "tf_keras", "qkeras", "hls4ml", "da4ml")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_resolves(package):
    module = importlib.import_module(package)
    names = getattr(module, "__all__", None)
    assert names, f"{package} declares no __all__"
    for name in names:
        assert getattr(module, name) is not None, f"{package}.{name}"


def _imported_after(code: str) -> set[str]:
    probe = (f"{code}\nimport sys\n"
             f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return {m for m in out.stdout.strip().split(",") if m}


@pytest.mark.parametrize("package", PACKAGES)
def test_importing_package_loads_no_heavy_dependency(package):
    assert _imported_after(f"import {package}") == set()


def test_estimate_runs_without_heavy_dependencies():
    code = ("from qnas.spec import *\nimport estimators\n"
            "q = Quantizer.fixed(6, 0)\n"
            "s = ModelSpec(16, Quantizer.fixed(8, 3), (DenseLayerSpec('d1', 32, q, q, Quantizer.fixed(6, 2, signed=False)),"
            " DenseLayerSpec('out', 5, q, q, None)))\n"
            "estimators.estimate(s)")
    assert _imported_after(code) == set()


def test_cli_help_is_light():
    code = "from qnas.cli import build_parser\nbuild_parser().format_help()"
    assert _imported_after(code) == set()
