"""Fixtures for the dashboard tests: small real studies built with the driver's test trainer."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "nas"))
sys.path.insert(0, os.path.dirname(__file__))

from _dash_helpers import make_run  # noqa: E402


@pytest.fixture(scope="session")
def mixed_run(tmp_path_factory):
    """14 trials on digits under a tight LUT budget: Pareto, dominated and rejected trials."""
    return make_run(tmp_path_factory.mktemp("mixed"), n_trials=14, max_lut=0.006)


@pytest.fixture(scope="session")
def artifacts_dir():
    """Screenshots of the browser tests (git-ignored): tests/_artifacts/."""
    path = os.path.join(os.path.dirname(__file__), "..", "_artifacts")
    os.makedirs(path, exist_ok=True)
    return path
