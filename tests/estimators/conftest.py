"""Fixtures of the estimator tests."""

import pytest

from est_helpers import mlp


@pytest.fixture
def jet_tagger():
    return mlp()
