"""The hls4ml-strategy estimator qnas shipped before it was calibrated on real reports (a baseline).

Kept verbatim in behaviour (textbook constants, FF x latency, DSPs only at >= 17 product
bits, Latency-strategy R > 1 treated as folded) so ``benchmarks/estimator_accuracy.py``
and the tests can show, on the same held-out Vitis HLS reports, how far the calibrated
:class:`estimators.HLSStrategyEstimator` moved from it. Not part of the product.
"""


from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from qnas.errors import ConfigError
from qnas.results import LayerResources, ResourceEstimate, ResourceReport
from qnas.spec import ModelSpec
from qnas.weights import ModelWeights

from estimators._checks import check_spec
from estimators._csd import WeightPrior
from estimators._fitting import calibration_record
from estimators._layer_stats import layer_stats, log2ceil
from qnas.parts import DEFAULT_PART, get_part

DEFAULT_PARAMS: dict[str, float] = {
    "lut_per_const_digit_bit": 1.0,   # shift-add constant multiplier: LUTs per (input bit x extra digit)
    "lut_per_mult_bit": 0.55,         # generic LUT multiplier: LUTs per (a bits x w bits)
    "lut_per_mux_bit": 0.25,          # weight multiplexer per weight bit per extra weight (R > 1)
    "lut_per_add_bit": 1.0,
    "lut_per_act_bit": 1.5,           # ReLU + round + saturate
    "ff_per_product_bit": 0.5,
    "ff_per_acc_bit": 1.0,
    "dsp_min_operand_bits": 5,
    "dsp_min_product_bits": 17,
    "dsp_cycles": 3,
    "lut_mult_ns": 1.6,
    "add_ns": 0.6,
    "bram_min_depth": 64,
}

SCALE_KEYS = ("lut_scale", "ff_scale", "dsp_scale", "latency_offset")


@dataclass
class TextbookHLSEstimator:
    """Analytic cost of hls4ml Latency/Resource dense layers; ``fit`` rescales to real reports."""

    prior: WeightPrior = WeightPrior()
    tool: str = "vivado"

    name = "textbook.hls4ml"

    def estimate(self, spec: ModelSpec, weights: ModelWeights | None = None, part: str | None = None,
                 clock_ns: float | None = None) -> ResourceEstimate:
        if spec.strategy not in ("latency", "resource"):
            raise ConfigError("spec.strategy", "HLSStrategyEstimator models strategies 'latency' and 'resource'; "
                              f"got {spec.strategy!r}")
        check_spec(spec)
        fpga = get_part(part or DEFAULT_PART)
        clock = float(clock_ns) if clock_ns is not None else fpga.default_clock_ns
        if not clock > 0:
            raise ConfigError("clock_ns", f"must be a positive number of ns; got {clock_ns!r}")
        p = DEFAULT_PARAMS
        scale = getattr(self, "scale_", {"lut_scale": 1.0, "ff_scale": 1.0, "dsp_scale": 1.0, "latency_offset": 0.0})
        stats = layer_stats(spec, weights, self.prior)
        per_layer = []
        for (layer, n_in, _), s in zip(spec.layer_inputs(), stats):
            R = layer.reuse_factor
            units = math.ceil(n_in * s.n_out / R)
            products = s.nonzero if (R == 1 and weights is not None) else float(n_in * s.n_out)
            sign_only = s.w_kind in ("ternary", "binary")
            prod_bits = s.in_bits + s.w_bits
            to_dsp = (not sign_only and min(s.in_bits, s.w_bits) >= p["dsp_min_operand_bits"]
                      and prod_bits >= p["dsp_min_product_bits"])
            dsp = lut_mult = 0.0
            if to_dsp:
                dsp = float(math.ceil(products / R)) if R > 1 else products
            elif sign_only:
                lut_mult = products / R * s.in_bits * 0.5
            elif R == 1:
                extra_digits = max(s.digits - s.nonzero, 0.0)
                lut_mult = p["lut_per_const_digit_bit"] * extra_digits * s.in_bits
            else:
                lut_mult = units * (p["lut_per_mult_bit"] * s.in_bits * s.w_bits)
            mux = units * s.w_bits * (R - 1) * p["lut_per_mux_bit"] if R > 1 else 0.0
            adders = (max(products - s.n_out, 0.0) if R == 1 else float(units))
            # early tree levels add narrow products, the last ones the full accumulator
            lut_add = adders * 0.5 * (prod_bits + s.acc_bits) * p["lut_per_add_bit"]
            lut_act = s.n_out * s.out_bits * p["lut_per_act_bit"] if s.has_activation else 0.0
            levels = log2ceil(max(products / s.n_out / R, 1.0))
            mult_cycles = p["dsp_cycles"] if to_dsp else math.ceil(p["lut_mult_ns"] / clock) if not sign_only else 0
            lat = int(mult_cycles + math.ceil(levels * p["add_ns"] / clock) + (R - 1) + 1)
            ff = (units * prod_bits * p["ff_per_product_bit"] + s.n_out * s.acc_bits * p["ff_per_acc_bit"] * max(lat - 1, 1))
            bram = 0.0
            if spec.strategy == "resource" and R >= p["bram_min_depth"]:
                width = n_in * s.n_out / R * s.w_bits
                bram = math.ceil(width / 36) * math.ceil(R / 512)
            per_layer.append(LayerResources(
                layer.name, lut=(lut_mult + mux + lut_add + lut_act) * scale["lut_scale"],
                ff=ff * scale["ff_scale"], dsp=dsp * scale["dsp_scale"], bram=float(bram),
                latency_cycles=lat, ii_cycles=R))
        cycles = int(sum(l.latency_cycles for l in per_layer) + round(scale["latency_offset"]))
        ii = max(l.ii_cycles for l in per_layer)
        cal = getattr(self, "calibrated_for_", None)
        notes = [f"hls4ml {spec.strategy} strategy, io_parallel; analytic model"
                 + (f" rescaled to {cal['n_designs']} {cal['tool']} report(s) on {cal['part']}" if cal else
                    " with uncalibrated textbook constants (calibrate with `qnas calibrate` on Vivado reports)")]
        if weights is None:
            notes.append("pre-training: products assume dense kernels; zero weights are only removed with R=1 "
                         "and real weights")
        in_range = None if not cal else bool(cal.get("part") == fpga.name)
        return ResourceEstimate(
            lut=sum(l.lut for l in per_layer), ff=sum(l.ff for l in per_layer), dsp=sum(l.dsp for l in per_layer),
            bram=sum(l.bram for l in per_layer), latency_cycles=max(cycles, 1), ii_cycles=ii, clock_ns=clock,
            latency_ns=max(cycles, 1) * clock, part=fpga.name, producer=f"{self.name}.{spec.strategy}",
            tool_version="calibrated" if cal else "uncalibrated", per_layer=tuple(per_layer),
            in_calibrated_range=in_range, notes=tuple(notes),
            extra={"calibrated_for": cal},
        )

    def fit(self, specs: Sequence[ModelSpec], truths: Sequence[ResourceReport],
            weights: Sequence[ModelWeights | None] | None = None, part: str | None = None) -> "TextbookHLSEstimator":
        """Rescale LUT/FF/DSP and shift latency so the model matches the given reports on average.

        Only four numbers are fitted because vendor reports come a handful at a time; each
        scale is the ratio minimising squared relative error (geometric mean of ratios).
        """
        if not specs or len(specs) != len(truths):
            raise ValueError("fit needs equally many specs and truths (at least one)")
        weights = list(weights) if weights is not None else [None] * len(specs)
        self.scale_ = {"lut_scale": 1.0, "ff_scale": 1.0, "dsp_scale": 1.0, "latency_offset": 0.0}
        raw = [self.estimate(s, w, part=t.part, clock_ns=t.clock_ns) for s, w, t in zip(specs, weights, truths)]
        scale = {}
        for key, field_name in (("lut_scale", "lut"), ("ff_scale", "ff"), ("dsp_scale", "dsp")):
            ratios = [getattr(t, field_name) / getattr(r, field_name) for r, t in zip(raw, truths)
                      if getattr(r, field_name) > 0 and getattr(t, field_name) > 0]
            scale[key] = float(np.exp(np.mean(np.log(ratios)))) if ratios else 1.0
        scale["latency_offset"] = float(np.median([t.latency_cycles - r.latency_cycles for r, t in zip(raw, truths)]))
        self.scale_ = scale
        self.calibrated_for_ = calibration_record(self.tool, truths, part)
        return self

    def coefficients(self) -> dict[str, Any]:
        if not hasattr(self, "scale_"):
            raise ValueError("estimator is not fitted; call fit() first")
        return {"estimator": "hls4ml", "scale": self.scale_, "calibrated_for": self.calibrated_for_,
                "params": dict(DEFAULT_PARAMS)}

    @classmethod
    def from_coefficients(cls, data: Mapping[str, Any], **params: Any) -> "TextbookHLSEstimator":
        est = cls(**params)
        scale = dict(data["scale"])
        missing = set(SCALE_KEYS) - set(scale)
        if missing:
            raise ValueError(f"coefficient file lacks {sorted(missing)}")
        est.scale_ = scale
        est.calibrated_for_ = dict(data.get("calibrated_for", {}))
        return est
