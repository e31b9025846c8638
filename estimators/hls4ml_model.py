"""hls4ml ``Latency`` / ``Resource`` dense layers (io_parallel): what Vitis HLS C synthesis reports.

The model predicts the numbers of the HLS **C-synthesis** report (``csynth.rpt``), not a
post-implementation utilisation: C synthesis is known to overstate LUTs against Vivado
place-and-route. It is calibrated on the real Vitis HLS reports of the wa-hls4ml dense
sweep (single layers, 32-256 inputs/outputs, 2-14 bits, reuse factor 1 and ~384-1280,
xcvu13p, 5 ns; read by :mod:`estimators.vendor_sweeps`), and it says when a spec lies
outside them.

What the reports show, and the structure each regime's model takes from it:

* **parallel** -- reuse factor 1, and the Latency strategy with R > 1 while the products
  are narrow enough to become LUT logic (HLS's ``multiplier_limit`` only binds real
  multipliers): every product is built. A share ``f`` of them goes to DSPs, rising with
  the bit width from 8 bits (weights are constants, so HLS turns the cheap ones into
  shift-and-add logic; a logistic in the width, fitted), the rest are LUT multipliers
  costing ~ in_bits x w_bits. LUT = LUT multipliers + DSP glue + adder trees; the design
  is 0-1 cycles deep (one register stage once the multiply-add chain exceeds the clock).
* **shared** -- Latency strategy, R > 1, DSP-width products: HLS keeps the LUT logic of
  R = 1 but shares the ``ceil(n_in*n_out/R)`` allowed multipliers, so DSP = that limit
  and the products that would be DSPs at R = 1 queue for them: cycles = those products
  per multiplier + a fitted offset (32x32 at 12 bits, R = 512: 878 / 2 = 439 vs 440 reported).
* **folded** -- Resource strategy, R > 2 n_in: ``M = n_in*n_out/R`` multipliers, each
  accumulating into R/n_in of the outputs; DSP = M for products of >= 6-8 bits (fitted
  threshold), 0 below; LUT hardly depends on the bit width: it is the write demultiplexer
  of M multipliers into n_out accumulators (~ M*n_out), weight-address counters, and the
  index arithmetic of sizes that are not powers of two; weights sit in BRAM (M words of
  w_bits wide, R deep); latency = R + 2, II = R.
* **inplace** -- Resource strategy with R <= 2 n_in: the reports show a different
  schedule (latency = R, far fewer LUTs), fitted separately.

Coefficients (``coef_``, per regime and target) are non-negative relative least squares
over these features (:func:`estimators._fitting.fit_relative_nnls`); the discrete
choices (DSP thresholds, cycle offsets) are fitted by counting matches. A network is
the sum of its layers (cycles add, II is the largest) -- the data has single layers only,
so a multi-layer estimate says it extrapolates.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from qnas.errors import ConfigError
from qnas.parts import DEFAULT_PART, get_part
from qnas.results import LayerResources, ResourceEstimate, ResourceReport
from qnas.spec import ModelSpec
from qnas.weights import ModelWeights

from ._checks import check_spec
from ._fitting import calibration_record, fit_relative_nnls
from ._layer_stats import value_bits

REGIMES = ("parallel", "shared", "folded", "inplace")
TARGETS = ("lut", "ff", "bram")

#: what every estimate of this model predicts (``extra['basis']`` and the notes)
BASIS = "hls_csynth"
BASIS_NOTE = ("predicts Vitis HLS C-synthesis (csynth) report numbers, not post-implementation utilisation "
              "(C synthesis overstates LUTs against Vivado place-and-route)")

#: the coefficients shipped with qnas (used by an estimator that has not been fitted)
SHIPPED_FILE = Path(__file__).parent / "data" / "coefficients" / "hls4ml__vitis-hls__xcvu13p-flga2577-2-e.json"


@dataclass(frozen=True)
class LayerFacts:
    """The quantities of one dense layer that decide what HLS builds."""

    name: str
    n_in: int
    n_out: int
    rf: int
    in_bits: int
    w_bits: int
    sign_only: bool  # ternary/binary weights: a product is a sign select, never a multiplier
    strategy: str

    @property
    def products(self) -> int:
        return self.n_in * self.n_out

    @property
    def multipliers(self) -> int:
        """hls4ml's ``multiplier_limit`` / ``block_factor``: ceil(n_in*n_out / R)."""
        return math.ceil(self.products / self.rf)

    @property
    def mean_bits(self) -> float:
        return 0.5 * (self.in_bits + self.w_bits)

    @property
    def dsp_bits(self) -> int:
        """Width that decides whether a product fits a DSP (the narrower operand)."""
        return 0 if self.sign_only else min(self.in_bits, self.w_bits)


def layer_facts(spec: ModelSpec) -> list[LayerFacts]:
    out = []
    for layer, n_in, q_in in spec.layer_inputs():
        out.append(LayerFacts(layer.name, n_in, layer.units, layer.reuse_factor, value_bits(q_in),
                              value_bits(layer.weight), layer.weight.kind in ("ternary", "binary"), spec.strategy))
    return out


def _not_pow2(n: float) -> float:
    return 0.0 if n >= 1 and 2 ** int(math.log2(n)) == n else 1.0


def _clog2(n: float) -> float:
    return float(math.ceil(math.log2(n) - 1e-12)) if n > 1 else 0.0


def _bram_blocks(words_bits: float, depth: int) -> float:
    """18 Kb blocks for a ``depth``-deep memory ``words_bits`` wide (36/18/9/4/2/1-bit aspect ratios)."""
    for width, max_depth in ((36, 512), (18, 1024), (9, 2048), (4, 4096), (2, 8192), (1, 16384)):
        if depth <= max_depth:
            return float(math.ceil(words_bits / width))
    return float(math.ceil(words_bits) * math.ceil(depth / 16384))


@dataclass
class HLSStrategyEstimator:
    """C-synthesis model of hls4ml Latency/Resource dense layers (scikit-learn style).

    ``fit`` sets ``coef_`` (per regime and target), ``discrete_`` (thresholds, offsets),
    ``range_`` (the span of the calibration layers) and ``calibrated_for_``. An estimator
    that has not been fitted uses the coefficients shipped in ``estimators/data/coefficients``.
    """

    tool: str = "vitis-hls"

    name = "qnas.hls4ml"

    # -- public API -------------------------------------------------------------------
    def estimate(self, spec: ModelSpec, weights: ModelWeights | None = None, part: str | None = None,
                 clock_ns: float | None = None) -> ResourceEstimate:
        """Predicted C-synthesis LUT/FF/DSP/BRAM, latency and II of ``spec``.

        ``weights`` are accepted for a uniform interface but not used: the calibration
        reports carry no weights, so nothing could check their effect.
        """
        if spec.strategy not in ("latency", "resource"):
            raise ConfigError("spec.strategy", "HLSStrategyEstimator models strategies 'latency' and 'resource'; "
                              f"got {spec.strategy!r}")
        check_spec(spec)
        fpga = get_part(part or DEFAULT_PART)
        clock = float(clock_ns) if clock_ns is not None else fpga.default_clock_ns
        if not clock > 0:
            raise ConfigError("clock_ns", f"must be a positive number of ns; got {clock_ns!r}")
        coef, disc = self._params()
        per_layer = []
        for f in layer_facts(spec):
            regime = self.regime(f, disc)
            feats = self.features(f, regime, disc)
            values = {t: max(float(np.dot(coef[regime][t], feats[t])), 0.0) for t in TARGETS}
            values["bram"] = float(round(values["bram"]))  # whole 18 Kb blocks
            cycles, ii = self.cycles(f, regime, disc)
            per_layer.append(LayerResources(f.name, lut=values["lut"], ff=values["ff"], dsp=self.dsp(f, regime, disc),
                                            bram=values["bram"], latency_cycles=cycles, ii_cycles=ii))
        cycles = max(sum(l.latency_cycles for l in per_layer), 0)
        ii = max(l.ii_cycles for l in per_layer)
        cal = getattr(self, "calibrated_for_", None) or self._shipped_record()
        in_range, range_notes = self._range_check(spec, fpga.name, clock)
        notes = [f"hls4ml {spec.strategy} strategy, io_parallel; {BASIS_NOTE}"]
        if cal:
            notes.append(f"calibrated on {cal['n_designs']} {cal['tool']} report(s) on {cal['part']}")
        notes.extend(range_notes)
        return ResourceEstimate(
            lut=sum(l.lut for l in per_layer), ff=sum(l.ff for l in per_layer), dsp=sum(l.dsp for l in per_layer),
            bram=sum(l.bram for l in per_layer), latency_cycles=int(cycles), ii_cycles=int(ii), clock_ns=clock,
            latency_ns=max(cycles, 1) * clock, part=fpga.name, producer=f"{self.name}.{spec.strategy}",
            tool_version=f"calibrated:{cal['tool']} csynth {cal['part']} n={cal['n_designs']}",
            per_layer=tuple(per_layer), in_calibrated_range=in_range, notes=tuple(notes),
            extra={"basis": BASIS, "calibrated_for": cal,
                   "regimes": [self.regime(f, disc) for f in layer_facts(spec)]},
        )

    def fit(self, specs: Sequence[ModelSpec], truths: Sequence[ResourceReport],
            weights: Sequence[ModelWeights | None] | None = None, part: str | None = None) -> "HLSStrategyEstimator":
        """Fit every coefficient to C-synthesis reports of the given designs.

        Discrete choices first (on single-layer designs, where each report is one layer):
        the DSP width thresholds, the DSP-share logistic, the cycle rules; then LUT/FF/BRAM
        by non-negative relative least squares over the regime features summed per design.
        A regime absent from the reports keeps the shipped coefficients.
        """
        if not specs or len(specs) != len(truths):
            raise ValueError("fit needs equally many specs and truths (at least one)")
        facts = [layer_facts(s) for s in specs]
        try:
            base_coef, base_disc = self._params()
        except ConfigError:
            base_coef, base_disc = {r: {t: [0.0] * len(FEATURE_NAMES[r][t]) for t in TARGETS} for r in REGIMES}, \
                dict(DEFAULT_DISCRETE)
        disc = dict(base_disc)
        single = [(fs[0], t) for fs, t in zip(facts, truths) if len(fs) == 1]
        if single:
            disc.update(_fit_discrete(single))
        coef: dict[str, dict[str, list[float]]] = {}
        for t_name in TARGETS:
            blocks = {r: [] for r in REGIMES}
            for fs in facts:
                row = {r: np.zeros(len(FEATURE_NAMES[r][t_name])) for r in REGIMES}
                for f in fs:
                    regime = self.regime(f, disc)
                    row[regime] += self.features(f, regime, disc)[t_name]
                for r in REGIMES:
                    blocks[r].append(row[r])
            X = np.hstack([np.array(blocks[r]) for r in REGIMES])
            present = [bool(np.any(np.array(blocks[r]) != 0)) for r in REGIMES]
            y = np.array([getattr(t, t_name) for t in truths], dtype=float)
            if t_name == "bram" and not np.any(y > 0):
                sol = np.zeros(X.shape[1])
            else:
                sol = fit_relative_nnls(X, y)
            k = 0
            for r, here in zip(REGIMES, present):
                n = len(FEATURE_NAMES[r][t_name])
                coef.setdefault(r, {})[t_name] = (sol[k:k + n].tolist() if here else list(base_coef[r][t_name]))
                k += n
        self.coef_ = coef
        self.discrete_ = disc
        self.range_ = _layer_range([f for fs in facts for f in fs], disc)
        clocks = sorted({float(t.clock_ns) for t in truths})
        if len(clocks) == 1:
            self.range_["clock_ns"] = clocks[0]
        self.n_fit_ = len(specs)
        self.calibrated_for_ = calibration_record(self.tool, truths, part)
        return self

    # -- the model --------------------------------------------------------------------
    @staticmethod
    def regime(f: LayerFacts, disc: Mapping[str, Any]) -> str:
        """Which of the four schedules HLS builds for this layer (see the module docstring)."""
        if f.rf == 1:
            return "parallel"
        if f.strategy == "latency":
            return "shared" if f.dsp_bits >= disc["dsp_min_bits_parallel"] else "parallel"
        return "inplace" if f.rf <= 2 * f.n_in else "folded"

    @staticmethod
    def dsp_share(f: LayerFacts, disc: Mapping[str, Any]) -> float:
        """Share of a fully parallel layer's products that HLS puts in DSPs."""
        if f.dsp_bits < disc["dsp_min_bits_parallel"]:
            return 0.0
        a, b, c = disc["dsp_share_logit"]
        return 1.0 / (1.0 + math.exp(-(a + b * f.mean_bits + c * math.log2(f.n_in + f.n_out))))

    def dsp(self, f: LayerFacts, regime: str, disc: Mapping[str, Any]) -> float:
        if regime == "parallel":
            return float(round(f.products * self.dsp_share(f, disc)))
        if regime == "shared":
            return float(_shared_dsps(f, disc))
        return float(f.multipliers) if f.dsp_bits >= disc["dsp_min_bits_folded"] else 0.0

    def cycles(self, f: LayerFacts, regime: str, disc: Mapping[str, Any]) -> tuple[int, int]:
        """(latency cycles, II) of one layer."""
        if regime in ("folded", "inplace"):
            return f.rf + int(disc[f"cycles_offset_{regime}"]), f.rf
        if regime == "shared":
            # the products that would be DSPs at R = 1 queue for the multiplier_limit DSPs
            # (never fewer than the fully parallel schedule plus the sharing stage: the fitted
            # offset is negative and R = 2..384 lies outside the reports)
            floor = int(_parallel_deep(f, disc)) + int(disc["cycles_offset_latency_rf"])
            cyc = max(int(round(_queued_products(f, disc))) + int(disc["cycles_offset_shared"]), floor)
            return cyc, cyc + 1
        deep = _parallel_deep(f, disc)
        cyc = int(deep) + (int(disc["cycles_offset_latency_rf"]) if deep and f.rf > 1 else 0)
        # the Resource strategy's rf=1 loop and the Latency strategy with R > 1 start a new
        # input only after the last stage (II = cycles + 1); the plain Latency one every cycle
        ii = cyc + 1 if (f.strategy == "resource" or f.rf > 1) else 1
        return cyc, ii

    @staticmethod
    def features(f: LayerFacts, regime: str, disc: Mapping[str, Any]) -> dict[str, np.ndarray]:
        P, s, n_in, n_out, M = float(f.products), f.mean_bits, f.n_in, f.n_out, float(f.multipliers)
        iw = float(f.in_bits * f.w_bits)
        if regime in ("parallel", "shared"):
            share = HLSStrategyEstimator.dsp_share(f, disc)
            lat = float(f.strategy == "latency")
            res = 1.0 - lat
            lut = [P * (1 - share) * iw, P * (1 - share) * s, P * share * s, P * share, n_out * s * math.log2(n_in),
                   n_out * s, P * (1 - share) * iw * lat]
            if regime == "parallel":
                deep = float(_parallel_deep(f, disc))
                ff = [n_out * s, deep * P * (1 - share) * s * lat, deep * P * share * s * lat,
                      deep * P * (1 - share) * s * res, deep * P * share * s * res,
                      deep * n_out * s * math.log2(n_in), deep * float(f.rf > 1) * n_out * s]
            else:
                ff = [n_out * s, P * s, P, n_out * s * math.log2(n_in)]
            bram = [0.0]
        else:
            r = f.rf / f.n_in
            lut = [1.0, n_in, M * n_out, M * math.log2(max(r, 1.0)), float(f.rf), n_out * _not_pow2(n_out),
                   M * _not_pow2(M), n_out * _clog2(n_out), M * _clog2(M)]
            ff = [1.0, n_out, M, n_in, n_out * math.log2(max(r, 1.0)), M * s, n_out * s]
            bram = [1.0, _bram_blocks(M * f.w_bits, f.rf)]
        return {"lut": np.array(lut, float), "ff": np.array(ff, float), "bram": np.array(bram, float)}

    # -- serialisation ----------------------------------------------------------------
    def coefficients(self) -> dict[str, Any]:
        if not hasattr(self, "coef_"):
            raise ValueError("estimator is not fitted; call fit() first")
        return {"estimator": "hls4ml", "basis": BASIS, "coef": self.coef_, "discrete": self.discrete_,
                "range": self.range_, "n_fit": self.n_fit_, "calibrated_for": self.calibrated_for_,
                "features": FEATURE_NAMES}

    @classmethod
    def from_coefficients(cls, data: Mapping[str, Any], **params: Any) -> "HLSStrategyEstimator":
        if "coef" not in data or "discrete" not in data:
            raise ValueError("coefficient file lacks 'coef'/'discrete' (an hls4ml calibration from an older qnas: "
                             "run `qnas calibrate` again)")
        est = cls(**params)
        coef = {r: {t: list(v) for t, v in data["coef"][r].items()} for r in REGIMES}
        for r in REGIMES:
            for t in TARGETS:
                if len(coef[r][t]) != len(FEATURE_NAMES[r][t]):
                    raise ValueError(f"coefficient file: {r}.{t} has {len(coef[r][t])} values, the model "
                                     f"{len(FEATURE_NAMES[r][t])}; run `qnas calibrate` again")
        est.coef_ = coef
        est.discrete_ = {**DEFAULT_DISCRETE, **dict(data["discrete"])}
        est.range_ = dict(data.get("range", {}))
        est.n_fit_ = int(data.get("n_fit", 0))
        est.calibrated_for_ = dict(data.get("calibrated_for", {}))
        return est

    # -- internals --------------------------------------------------------------------
    def _params(self) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        if hasattr(self, "coef_"):
            return self.coef_, self.discrete_
        shipped = _shipped()
        if shipped is None:
            raise ConfigError("estimators/data/coefficients", f"no hls4ml calibration at {SHIPPED_FILE}; run "
                              "`qnas calibrate <wa-hls4ml results CSVs or hls4ml projects>`")
        return shipped.coef_, shipped.discrete_

    def _shipped_record(self) -> dict[str, Any] | None:
        shipped = _shipped()
        return None if shipped is None else shipped.calibrated_for_

    def _range_check(self, spec: ModelSpec, part: str, clock: float) -> tuple[bool | None, list[str]]:
        rng = getattr(self, "range_", None) or (_shipped().range_ if _shipped() else None)
        if not rng:
            return None, ["no calibration range recorded"]
        _, disc = self._params()
        outside = []
        facts = layer_facts(spec)
        if len(facts) > 1:
            outside.append(f"{len(facts)} layers: the reports are single layers, so layers are summed and "
                           "interactions between them (control, dataflow) are not modelled")
        cal_part = (getattr(self, "calibrated_for_", None) or self._shipped_record() or {}).get("part")
        if cal_part and cal_part != part:
            outside.append(f"calibrated on {cal_part}, estimating for {part}")
        if "clock_ns" in rng and clock != rng["clock_ns"]:
            outside.append(f"clock {clock:g} ns (calibrated at {rng['clock_ns']:g} ns)")
        for f in facts:
            regime = self.regime(f, disc)
            r = rng.get(regime)
            if r is None:
                outside.append(f"{f.name}: the {regime} schedule does not occur in the calibration reports")
                continue
            gap = r.get("rf_above_1_min")
            if f.rf > 1 and (gap is None or f.rf < gap):
                outside.append(f"{f.name}: reuse factor {f.rf} lies between 1 and the smallest R > 1 in the "
                               f"calibration data ({gap if gap else 'none'})")
            for key, value in (("n_in", f.n_in), ("n_out", f.n_out), ("bits", f.in_bits), ("bits", f.w_bits),
                               ("rf", f.rf)):
                lo, hi = r[key]
                if not lo <= value <= hi:
                    outside.append(f"{f.name}: {key}={value} outside the calibration data ({lo:g}..{hi:g})")
            if f.in_bits != f.w_bits:
                outside.append(f"{f.name}: input and weight widths differ ({f.in_bits} vs {f.w_bits}); the reports "
                               "have one width per layer")
        return not outside, ["extrapolates: " + "; ".join(outside)] if outside else []


#: feature names per regime and target (the order of ``coef_[regime][target]``)
FEATURE_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "parallel": {"lut": ("lut_mult_bits", "lut_mult_width", "dsp_glue_width", "dsp_products", "tree_bits",
                         "output_bits", "lut_mult_bits_latency"),
                 "ff": ("output_bits", "lut_product_regs_latency", "dsp_product_regs_latency",
                        "lut_product_regs_resource", "dsp_product_regs_resource", "tree_regs", "rf_stage_regs"),
                 "bram": ("none",)},
    "shared": {"lut": ("lut_mult_bits", "lut_mult_width", "dsp_glue_width", "dsp_products", "tree_bits",
                       "output_bits", "lut_mult_bits_latency"),
               "ff": ("output_bits", "product_bits", "products", "tree_bits"),
               "bram": ("none",)},
}
for _r in ("folded", "inplace"):
    FEATURE_NAMES[_r] = {
        "lut": ("constant", "n_in", "multipliers_x_outputs", "multipliers_x_log2_outputs_per_multiplier",
                "rf_counter", "outputs_not_pow2", "multipliers_not_pow2", "outputs_x_log2_outputs",
                "multipliers_x_log2_multipliers"),
        "ff": ("constant", "n_out", "multipliers", "n_in", "outputs_x_log2_outputs_per_multiplier",
               "multiplier_bits", "output_bits"),
        "bram": ("constant", "weight_blocks"),
    }

DEFAULT_DISCRETE: dict[str, Any] = {
    "dsp_min_bits_parallel": 8, "dsp_min_bits_folded": 6, "dsp_share_logit": [-4.5, 0.7, -0.35],
    "dsp_shared_offset": 0, "cycles_offset_folded": 2, "cycles_offset_inplace": 0, "cycles_offset_latency_rf": 1,
    "parallel_deep": [1.0, 0.0, 4.0], "cycles_offset_shared": 0, "dsp_shared_rf_split": 1024,
    "dsp_shared_offset_high": 0,
}


def _queued_products(f: LayerFacts, disc: Mapping[str, Any]) -> float:
    """DSP products per allowed multiplier of a Latency layer with R > 1 (its serial schedule)."""
    return f.products * HLSStrategyEstimator.dsp_share(f, disc) / max(_shared_dsps(f, disc), 1)


def _shared_dsps(f: LayerFacts, disc: Mapping[str, Any]) -> int:
    """DSPs of a Latency layer with R > 1: the multiplier_limit, plus the offset the reports show
    (one more from R = 1024 on in the wa-hls4ml sweep, for a reason the reports do not give)."""
    high = f.rf >= disc["dsp_shared_rf_split"]
    return f.multipliers + int(disc["dsp_shared_offset_high" if high else "dsp_shared_offset"])


def _parallel_deep(f: LayerFacts, disc: Mapping[str, Any]) -> bool:
    """Whether a fully parallel layer needs a register stage: bits + k*log2(n_in) (+ resource) >= threshold."""
    k, k_res, thr = disc["parallel_deep"]
    return f.mean_bits + k * math.log2(f.n_in) + k_res * float(f.strategy == "resource") >= thr


def _fit_discrete(rows: Sequence[tuple[LayerFacts, ResourceReport]]) -> dict[str, Any]:
    """Thresholds, DSP-share logistic and cycle rules from single-layer reports (counting matches)."""
    out: dict[str, Any] = {}

    def tol(pred, true):
        return abs(pred - true) <= max(1.0, 0.05 * true)

    par = [(f, t) for f, t in rows if f.rf == 1]
    folded = [(f, t) for f, t in rows if f.rf > 1 and f.strategy == "resource"]
    lat_rf = [(f, t) for f, t in rows if f.rf > 1 and f.strategy == "latency"]
    if par:
        # narrowest width that ever uses a DSP fully parallel
        with_dsp = [f.dsp_bits for f, t in par if t.dsp > 0]
        out["dsp_min_bits_parallel"] = int(min(with_dsp)) if with_dsp else 99
        pts = [(f, t.dsp / f.products) for f, t in par if f.dsp_bits >= out["dsp_min_bits_parallel"]]
        if len(pts) >= 3:
            A = np.array([[1.0, f.mean_bits, math.log2(f.n_in + f.n_out)] for f, _ in pts])
            y = np.array([math.log(min(max(s, 1e-3), 0.999) / (1 - min(max(s, 1e-3), 0.999))) for _, s in pts])
            out["dsp_share_logit"] = np.linalg.lstsq(A, y, rcond=None)[0].tolist()
        best = (-1, None)
        for k in np.arange(0.0, 2.01, 0.25):
            for k_res in np.arange(-3.0, 3.01, 0.5):
                for thr in np.arange(1.0, 20.01, 0.25):
                    disc = {"parallel_deep": [float(k), float(k_res), float(thr)]}
                    hits = sum(int(_parallel_deep(f, disc)) == min(t.latency_cycles, 1) for f, t in par)
                    if hits > best[0]:
                        best = (hits, disc["parallel_deep"])
        out["parallel_deep"] = best[1]
    if folded:
        best = (-1, 6)
        for thr in range(1, 17):
            hits = sum(tol(float(f.multipliers) if f.dsp_bits >= thr else 0.0, t.dsp) for f, t in folded)
            if hits > best[0]:
                best = (hits, thr)
        out["dsp_min_bits_folded"] = best[1]
        for regime, pick in (("folded", lambda f: f.rf > 2 * f.n_in), ("inplace", lambda f: f.rf <= 2 * f.n_in)):
            diffs = [t.latency_cycles - f.rf for f, t in folded if pick(f)]
            if diffs:
                out[f"cycles_offset_{regime}"] = int(np.median(diffs))
    thr_par = out.get("dsp_min_bits_parallel", DEFAULT_DISCRETE["dsp_min_bits_parallel"])
    shared = [(f, t) for f, t in lat_rf if f.dsp_bits >= thr_par]
    narrow = [(f, t) for f, t in lat_rf if f.dsp_bits < thr_par]
    if shared:
        split = DEFAULT_DISCRETE["dsp_shared_rf_split"]
        for key, pick in (("dsp_shared_offset", lambda f: f.rf < split),
                          ("dsp_shared_offset_high", lambda f: f.rf >= split)):
            diffs = [t.dsp - f.multipliers for f, t in shared if pick(f)]
            if diffs:
                out[key] = int(np.median(diffs))
        share = {**DEFAULT_DISCRETE, **out}
        out["cycles_offset_shared"] = int(np.median([t.latency_cycles - round(_queued_products(f, share))
                                                     for f, t in shared]))
    if narrow:
        deep = {"parallel_deep": out.get("parallel_deep", DEFAULT_DISCRETE["parallel_deep"])}
        diffs = [t.latency_cycles - 1 for f, t in narrow if _parallel_deep(f, deep)]
        if diffs:
            out["cycles_offset_latency_rf"] = int(np.median(diffs))
    return out


def _layer_range(facts: Sequence[LayerFacts], disc: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for regime in REGIMES:
        fs = [f for f in facts if HLSStrategyEstimator.regime(f, disc) == regime]
        if not fs:
            continue
        out[regime] = {
            "n_in": [min(f.n_in for f in fs), max(f.n_in for f in fs)],
            "n_out": [min(f.n_out for f in fs), max(f.n_out for f in fs)],
            "bits": [min(min(f.in_bits, f.w_bits) for f in fs), max(max(f.in_bits, f.w_bits) for f in fs)],
            "rf": [min(f.rf for f in fs), max(f.rf for f in fs)],
            # reuse factors between 1 and the smallest R > 1 seen were never synthesised
            "rf_above_1_min": min((f.rf for f in fs if f.rf > 1), default=None),
        }
    return out


_SHIPPED_CACHE: dict[str, Any] = {}


def _shipped() -> HLSStrategyEstimator | None:
    """The shipped calibration (read once), or None when the file is absent."""
    if "est" not in _SHIPPED_CACHE:
        _SHIPPED_CACHE["est"] = (HLSStrategyEstimator.from_coefficients(json.loads(SHIPPED_FILE.read_text()))
                                 if SHIPPED_FILE.is_file() else None)
    return _SHIPPED_CACHE["est"]
