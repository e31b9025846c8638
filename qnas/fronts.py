"""Comparing (accuracy, LUT) Pareto fronts: the numbers a front-vs-front benchmark reports.

A front is a list of designs, each with an accuracy (higher is better) and a LUT count
(lower is better). Resources span orders of magnitude, so between two neighbouring designs
of a front the LUT count is interpolated linearly in log(LUT) against accuracy; beyond the
front's most accurate design there is no design, and the answer is ``None``.

Pure functions of plain numbers (no TensorFlow, no tools), so they are unit-tested and
shared by ``benchmarks/pareto_vs_peers.py`` and anything that plots fronts.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence

__all__ = ["FrontPoint", "pareto_front", "lut_at_accuracy", "best_accuracy_within", "lut_ratio_at_accuracy",
           "accuracy_gain_at_lut", "hypervolume", "HV_REFERENCE"]

#: (accuracy, LUT) the hypervolume is measured from: designs below 60 % accuracy or above
#: 100k LUT add nothing. One fixed point, so hypervolumes of different fronts compare.
HV_REFERENCE: tuple[float, float] = (0.60, 1e5)

FrontPoint = Mapping[str, float]


def pareto_front(points: Iterable[FrontPoint], accuracy: str = "test_accuracy", lut: str = "lut") -> list[dict]:
    """The non-dominated points (max accuracy, min LUT), sorted by LUT (accuracy rising).

    A point is dominated when another has at most its LUT and at least its accuracy, one
    of them strictly; of exact duplicates the first is kept. Points whose accuracy or LUT
    is missing or not finite are ignored.
    """
    usable = [dict(p) for p in points
              if _finite(p.get(accuracy)) and _finite(p.get(lut)) and float(p[lut]) >= 0]
    usable.sort(key=lambda p: (float(p[lut]), -float(p[accuracy])))
    front: list[dict] = []
    for p in usable:
        if not front or float(p[accuracy]) > float(front[-1][accuracy]):
            front.append(p)
    return front


def lut_at_accuracy(front: Sequence[FrontPoint], target: float, accuracy: str = "test_accuracy",
                    lut: str = "lut") -> float | None:
    """LUTs the front needs to reach ``target`` accuracy, log-interpolated; None if it never does.

    Below the front's least accurate design the answer is that design's LUT count (the
    cheapest design already reaching the target).
    """
    pts = pareto_front(front, accuracy, lut)
    if not pts or float(pts[-1][accuracy]) < target:
        return None
    if float(pts[0][accuracy]) >= target:
        return float(pts[0][lut])
    for lo, hi in zip(pts, pts[1:]):
        a0, a1 = float(lo[accuracy]), float(hi[accuracy])
        if a0 < target <= a1:
            l0, l1 = max(float(lo[lut]), 1.0), max(float(hi[lut]), 1.0)
            t = (target - a0) / (a1 - a0)
            return math.exp(math.log(l0) + t * (math.log(l1) - math.log(l0)))
    return None  # unreachable: the last point reaches the target


def best_accuracy_within(front: Sequence[FrontPoint], budget: float, accuracy: str = "test_accuracy",
                         lut: str = "lut") -> float | None:
    """Highest accuracy of a design using at most ``budget`` LUTs; None if none fits."""
    fits = [float(p[accuracy]) for p in front
            if _finite(p.get(accuracy)) and _finite(p.get(lut)) and float(p[lut]) <= budget]
    return max(fits) if fits else None


def lut_ratio_at_accuracy(ours: Sequence[FrontPoint], theirs: Sequence[FrontPoint], targets: Sequence[float],
                          accuracy: str = "test_accuracy", lut: str = "lut") -> dict[str, float | None]:
    """``ours`` LUT / ``theirs`` LUT at each target accuracy (keys "0.70" etc.); None where either has no design."""
    return _side_by_side(ours, theirs, targets, lambda f, t: lut_at_accuracy(f, t, accuracy, lut),
                         lambda a, b: a / b if b > 0 else None, "{:.2f}")


def accuracy_gain_at_lut(ours: Sequence[FrontPoint], theirs: Sequence[FrontPoint], budgets: Sequence[float],
                         accuracy: str = "test_accuracy", lut: str = "lut") -> dict[str, float | None]:
    """``ours`` minus ``theirs`` best accuracy within each LUT budget (keys "500" etc.); None where either has none."""
    return _side_by_side(ours, theirs, budgets, lambda f, b: best_accuracy_within(f, b, accuracy, lut),
                         lambda a, b: a - b, "{:g}")


def _side_by_side(ours, theirs, where, measure, combine, key: str) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for x in where:
        a, b = measure(ours, x), measure(theirs, x)
        out[key.format(x)] = None if a is None or b is None else combine(a, b)
    return out


def hypervolume(front: Sequence[FrontPoint], reference: tuple[float, float] = HV_REFERENCE,
                accuracy: str = "test_accuracy", lut: str = "lut") -> float:
    """Area dominated by the front in (accuracy, log10 LUT) up to ``reference`` (accuracy, LUT).

    Units: accuracy (fraction) x decades of LUT. Designs at or below the reference accuracy,
    or at or above its LUT count, contribute nothing.
    """
    acc_ref, lut_ref = float(reference[0]), math.log10(float(reference[1]))
    pts = [(math.log10(max(float(p[lut]), 1.0)), float(p[accuracy])) for p in pareto_front(front, accuracy, lut)]
    pts = [(x, a) for x, a in pts if x < lut_ref and a > acc_ref]
    area = 0.0
    for i, (x, a) in enumerate(pts):
        x_next = pts[i + 1][0] if i + 1 < len(pts) else lut_ref
        area += (x_next - x) * (a - acc_ref)
    return area


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
