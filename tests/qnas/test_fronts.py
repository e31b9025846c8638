"""Front comparison arithmetic (qnas.fronts): extraction, log interpolation, ratios, hypervolume."""

import math

import pytest

from qnas.fronts import (accuracy_gain_at_lut, best_accuracy_within, hypervolume, lut_at_accuracy,
                         lut_ratio_at_accuracy, pareto_front)


def P(acc, lut, **extra):
    return {"test_accuracy": acc, "lut": lut, **extra}


def test_pareto_front_drops_dominated_and_sorts_by_lut():
    pts = [P(0.70, 1000, name="a"), P(0.69, 2000, name="dominated"), P(0.72, 5000, name="b"),
           P(0.65, 400, name="c"), P(0.70, 1000, name="duplicate"), P(float("nan"), 10, name="nan"),
           P(0.72, 6000, name="tie-more-lut")]
    front = pareto_front(pts)
    assert [p["name"] for p in front] == ["c", "a", "b"]


def test_lut_at_accuracy_interpolates_in_log_lut():
    front = [P(0.68, 100), P(0.70, 10000)]
    assert lut_at_accuracy(front, 0.69) == pytest.approx(1000.0)  # geometric midpoint
    assert lut_at_accuracy(front, 0.70) == pytest.approx(10000.0)
    assert lut_at_accuracy(front, 0.60) == 100.0  # the cheapest design already reaches it
    assert lut_at_accuracy(front, 0.705) is None  # no design reaches it
    assert lut_at_accuracy([], 0.5) is None


def test_lut_at_accuracy_ignores_dominated_points():
    front = [P(0.68, 100), P(0.67, 50000), P(0.70, 10000)]
    assert lut_at_accuracy(front, 0.69) == pytest.approx(1000.0)


def test_ratio_and_gain_keys_and_nulls():
    ours = [P(0.66, 900), P(0.70, 9000)]
    theirs = [P(0.69, 400), P(0.71, 4000)]
    ratio = lut_ratio_at_accuracy(ours, theirs, [0.66, 0.69, 0.71])
    assert set(ratio) == {"0.66", "0.69", "0.71"}
    assert ratio["0.66"] == pytest.approx(900 / 400)
    assert ratio["0.69"] == pytest.approx(900 * 10 ** 0.75 / 400)
    assert ratio["0.71"] is None  # ours never reaches 71 %
    gain = accuracy_gain_at_lut(ours, theirs, [500, 1000, 10000])
    assert gain["500"] is None  # ours has nothing under 500 LUT
    assert gain["1000"] == pytest.approx(0.66 - 0.69)
    assert gain["10000"] == pytest.approx(0.70 - 0.71)
    assert best_accuracy_within(theirs, 399) is None


def test_hypervolume_of_staircase():
    ref = (0.60, 1e5)
    # one point at 1000 LUT, 70 %: (5 - 3) decades x 0.10
    assert hypervolume([P(0.70, 1000)], ref) == pytest.approx(0.2)
    # adding a cheaper, less accurate design adds its strip
    assert hypervolume([P(0.65, 100), P(0.70, 1000)], ref) == pytest.approx(0.2 + 1 * 0.05)
    # designs outside the reference box add nothing; dominated points change nothing
    assert hypervolume([P(0.70, 1000), P(0.55, 10), P(0.80, 2e5), P(0.69, 5000)], ref) == pytest.approx(0.2)
    assert hypervolume([], ref) == 0.0
    better = hypervolume([P(0.71, 1000)], ref)
    assert better > hypervolume([P(0.70, 1000)], ref)
    assert math.isclose(hypervolume([P(0.70, 100)], ref), 0.3)
