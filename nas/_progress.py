"""The progress bar: trial k/N, best feasible so far, rejections, ETA (tqdm)."""

from __future__ import annotations

import sys
from typing import Sequence


class Progress:
    """A tqdm bar over the study's trials; ``disable=True`` keeps logs and tests quiet."""

    def __init__(self, total: int, done: int, desc: str, disable: bool = False):
        from tqdm.auto import tqdm
        self._bar = tqdm(total=total, initial=done, desc=desc, unit="trial", file=sys.stderr,
                         dynamic_ncols=True, disable=disable, smoothing=0.1)

    def update(self, best: str, counts: dict[str, int]) -> None:
        self._bar.set_postfix_str(f"best {best} | " + " ".join(f"{k}={v}" for k, v in counts.items()),
                                  refresh=False)
        self._bar.update(1)

    def write(self, text: str) -> None:
        self._bar.write(text, file=sys.stderr)

    def close(self) -> None:
        self._bar.close()


def best_feasible_label(trials: Sequence, objectives: Sequence) -> str:
    """The best feasible completed trial on the first objective, e.g. ``accuracy=0.953 (#12)``."""
    first = objectives[0]
    feasible = [t for t in trials if t.state.name == "COMPLETE" and t.values
                and all(v <= 0 for v in t.constraints.values())]
    if not feasible:
        return "-"
    pick = max if first.direction == "maximize" else min
    best = pick(feasible, key=lambda t: t.values[0])
    return f"{first.metric}={best.values[0]:.4g} (#{best.number})"
