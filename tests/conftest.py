"""Test options: slow (training / synthesis) tests run only on request.

``pytest`` runs the lean default suite; ``pytest --run-slow`` (or QNAS_FULL_TESTS=1) the
full one.
"""

import os

import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "shared"))


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run tests marked slow (training, synthesis)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow") or os.environ.get("QNAS_FULL_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow or QNAS_FULL_TESTS=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_dir():
    """The read-only ../shared folder (fixtures); skip when the checkout has none beside it."""
    path = os.environ.get("QNAS_SHARED", SHARED)
    if not os.path.isdir(path):
        pytest.skip(f"shared fixtures not found at {path}")
    return path
