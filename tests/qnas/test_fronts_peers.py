"""The HGQ2 worker's checkpoint thinning (pure; the worker itself runs in HGQ2's environment)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _worker():
    spec = importlib.util.spec_from_file_location("hgq2_worker", ROOT / "benchmarks" / "peers" / "hgq2_worker.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ckpt(epoch, ebops):
    return Path(f"epoch={epoch}_acc=0.7000_ebops={ebops}.keras")


def test_thin_keeps_the_ends_and_spreads_in_log_ebops():
    thin = _worker()._thin
    ckpts = [_ckpt(e, b) for e, b in enumerate([100, 120, 150, 1000, 1100, 20000, 30000, 100000])]
    picked = thin(ckpts, 3)
    ebops = sorted(int(p.stem.rsplit("=", 1)[1]) for p in picked)
    assert ebops == [100, 1100, 100000]  # ends kept, the middle one nearest 10^3.5 in log space
    assert thin(ckpts, 0) == ckpts and thin(ckpts[:2], 5) == ckpts[:2]
    assert len(thin(ckpts, 7)) == 7
