"""The da4ml surrogate: fitting recovers a known law; predictions are sane for real specs."""

import numpy as np
import pytest

from estimators._layer_stats import layer_stats
from estimators._surrogate import cost_features, fit_surrogate, load_surrogate, predict
from estimators.ground_truth import sample_spec, sample_weights


def _layers(n=60):
    rng = np.random.default_rng(0)
    exact, expected = [], []
    for i in range(n):
        spec = sample_spec(rng, max_products=600)
        exact += layer_stats(spec, sample_weights(spec, i))
        expected += layer_stats(spec)
    return exact, expected


def test_fit_recovers_a_log_linear_cost_law():
    exact, expected = _layers()
    truth = np.linspace(0.1, -0.05, len(cost_features(exact[0])))
    costs = [float(np.exp(cost_features(s) @ truth)) for s in exact]
    coef = fit_surrogate(exact, expected, costs, [3.0] * len(exact))
    assert np.allclose(coef["cost_exact"], truth, atol=1e-6)
    cost, latency = predict(exact[0], {"coef": coef})
    assert cost == pytest.approx(costs[0], rel=1e-6) and latency == pytest.approx(3.0, abs=1e-6)


def test_shipped_surrogate_predicts_more_cost_for_wider_layers():
    surrogate = load_surrogate()
    if surrogate is None:
        pytest.skip("no shipped surrogate")
    from est_helpers import mlp
    small = layer_stats(mlp((16, 16, 5)))[0]
    big = layer_stats(mlp((16, 64, 5)))[0]
    assert predict(big, surrogate)[0] > predict(small, surrogate)[0] > 0
