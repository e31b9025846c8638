"""hls4ml C simulation of an HGQ2 checkpoint, run INSIDE the HGQ2 environment.

hls4ml 1.3 reads Keras 3 / HGQ2 models directly (its keras_v3 frontend, with the
precisions HGQ2's quantizers fix, propagated bit-exactly), but loading one needs Keras 3,
so ``qnas export`` runs this file in the isolated environment (:mod:`qnas.isolated_env`):

    request.json  {"protocol": 1, "model": "<model.keras>", "part": ..., "clock_ns": ...,
                   "backend": "Vitis", "project": "<dir for the hls4ml project>"}
    data.npz      x (inputs already quantized by the model's input quantizer), y (the
                  model's outputs on x: the reference)
    -> y_hls.npy    the C simulation's outputs on x
    -> result.json  {"vectors": n, "exact_rows": n, "max_abs_diff": d, "seconds": s}

Only the standard library, NumPy, Keras 3, hgq and hls4ml are imported.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

PROTOCOL = 1


def main(argv):
    job = Path(argv[1])
    req = json.loads((job / "request.json").read_text())
    if req.get("protocol") != PROTOCOL:
        print(f"request protocol {req.get('protocol')!r}; this worker speaks {PROTOCOL}", file=sys.stderr)
        return 2
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import hls4ml
    import keras
    import numpy as np

    import hgq  # noqa: F401  (registers HGQ2's layers for deserialisation)

    with np.load(job / "data.npz") as data:
        x, y = data["x"].astype(np.float64), data["y"].astype(np.float64)
    model = keras.models.load_model(req["model"], compile=False)
    start = time.perf_counter()
    cfg = hls4ml.utils.config_from_keras_model(model, granularity="name", backend=req["backend"])
    hls_model = hls4ml.converters.convert_from_keras_model(
        model, hls_config=cfg, output_dir=req["project"], backend=req["backend"], io_type="io_parallel",
        part=req["part"], clock_period=req["clock_ns"])
    hls_model.compile()
    y_hls = np.asarray(hls_model.predict(np.ascontiguousarray(x.astype(np.float32))), dtype=np.float64)
    y_hls = y_hls.reshape(y.shape)
    np.save(job / "y_hls.npy", y_hls)
    exact = np.all(y_hls == y, axis=1)
    result = {"vectors": int(len(x)), "exact_rows": int(exact.sum()),
              "max_abs_diff": float(np.max(np.abs(y_hls - y))) if len(x) else 0.0,
              "seconds": time.perf_counter() - start, "hls4ml": hls4ml.__version__}
    tmp = job / "result.json.tmp"
    tmp.write_text(json.dumps(result))
    tmp.rename(job / "result.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
