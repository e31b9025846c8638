"""Published vendor-tool sweeps of hls4ml layers, read as (spec, synthesis result) pairs.

The hls4ml Latency/Resource model is calibrated on real Vitis HLS C-synthesis reports,
and the only large public set of them is the wa-hls4ml dense sweep
(github.com/ben-hawks/wa-hls4ml-search, ``results/results_{latency,resource}.csv``):
single dense layers, 32-256 inputs and outputs, 2-14 bits, three reuse factors each, on
xcvu13p at 5 ns. Its rows record only one bit width per layer; the sweep's models use
``ap_fixed<prec, prec/2>`` for inputs, weights and biases, which is what the spec written
here says (``Quantizer.fixed(prec, prec // 2 - 1)``, the sign bit excluded). Failed rows
(no report) are skipped. The held-out split is the ground-truth one (a fixed hash of the
spec fingerprint), so no fit ever sees a held-out row.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from qnas.errors import ConfigError
from qnas.parts import get_part
from qnas.results import SynthesisResult
from qnas.spec import DenseLayerSpec, ModelSpec, Quantizer

from .ground_truth import split_of

#: columns a wa-hls4ml results CSV must have
WA_HLS4ML_COLUMNS = ("d_in", "d_out", "prec", "rf", "strategy", "hls_synth_success", "BestLatency_hls",
                     "WorstLatency_hls", "IntervalMax_hls", "FF_hls", "LUT_hls", "BRAM_18K_hls", "DSP_hls",
                     "TargetClockPeriod_hls", "AvailableLUT_hls")

#: device LUT count -> part name (the CSVs record the device only through its totals)
_PART_BY_LUTS = {1728000: "xcvu13p-flga2577-2-e"}


@dataclass(frozen=True)
class SweepRow:
    """One successful C-synthesis of a single dense layer."""

    spec: ModelSpec
    truth: SynthesisResult

    @property
    def split(self) -> str:
        return split_of(self.spec.fingerprint(), 0)


def sweep_spec(d_in: int, d_out: int, prec: int, rf: int, strategy: str) -> ModelSpec:
    """The spec of one wa-hls4ml sweep layer: ``ap_fixed<prec, prec/2>`` throughout, linear."""
    q = Quantizer.fixed(prec, prec // 2 - 1)
    layer = DenseLayerSpec("dense", d_out, q, q, None, rf)
    return ModelSpec(n_inputs=d_in, input_quantizer=q, layers=(layer,), strategy=strategy,  # type: ignore[arg-type]
                     metadata={"source": "wa-hls4ml dense sweep"})


def is_wa_hls4ml_csv(path: str | Path) -> bool:
    path = Path(path)
    if not (path.is_file() and path.suffix == ".csv"):
        return False
    with open(path, newline="") as fh:
        header = next(csv.reader(fh), [])
    return all(c in header for c in WA_HLS4ML_COLUMNS)


def read_wa_hls4ml(path: str | Path) -> list[SweepRow]:
    """The successful rows of a wa-hls4ml ``results_*.csv`` as specs and C-synthesis results."""
    path = Path(path)
    if not is_wa_hls4ml_csv(path):
        raise ConfigError(str(path), "not a wa-hls4ml results CSV (needs the columns "
                          f"{', '.join(WA_HLS4ML_COLUMNS)})")
    out = []
    with open(path, newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), 2):
            if row["hls_synth_success"].strip().lower() != "true":
                continue
            try:
                out.append(_row(row))
            except (KeyError, ValueError) as exc:
                raise ConfigError(f"{path}:{line}", f"unreadable sweep row ({exc})") from exc
    return out


def _row(row: dict[str, str]) -> SweepRow:
    n = {k: float(row[k]) for k in WA_HLS4ML_COLUMNS if k not in ("strategy", "hls_synth_success")}
    spec = sweep_spec(int(n["d_in"]), int(n["d_out"]), int(n["prec"]), int(n["rf"]), row["strategy"].strip().lower())
    part = _PART_BY_LUTS.get(int(n["AvailableLUT_hls"]))
    if part is None:
        raise ValueError(f"unknown device with {int(n['AvailableLUT_hls'])} LUTs")
    clock = n["TargetClockPeriod_hls"]
    cycles = int(n["WorstLatency_hls"])
    truth = SynthesisResult(
        lut=n["LUT_hls"], ff=n["FF_hls"], dsp=n["DSP_hls"], bram=n["BRAM_18K_hls"], latency_cycles=cycles,
        ii_cycles=int(n["IntervalMax_hls"]), clock_ns=clock, latency_ns=cycles * clock, part=get_part(part).name,
        producer="vitis_hls csynth", tool_version="unrecorded (wa-hls4ml sweep)",
        notes=("Vitis HLS C-synthesis report (not post-implementation)",),
        extra={"basis": "hls_csynth", "best_latency_cycles": int(n["BestLatency_hls"])})
    return SweepRow(spec, truth)


def split_rows(rows: Iterable[SweepRow]) -> tuple[list[SweepRow], list[SweepRow]]:
    """(train, heldout) by the fixed hash split."""
    train, held = [], []
    for row in rows:
        (held if row.split == "heldout" else train).append(row)
    return train, held
