"""Fully unrolled distributed-arithmetic (da4ml) designs: LUT, FF and exact pipeline cycles.

A DA layer has no multipliers: each output is a tree of adders over shifted inputs, one
term per non-zero canonical-signed-digit of its weight column, shared between outputs
where da4ml finds common sub-expressions. Cost therefore follows the weight *values*.

Two tiers, chosen per call:

* ``analytic`` (always available, pure NumPy, ~1 ms): per-layer adder counts and widths
  from CSD digit counts (exact with weights, expected under the weight prior before
  training), a sharing factor for common sub-expressions, round/clip logic, and pipeline
  registers at the stage boundaries the latency model predicts. Coefficients are fitted.
* ``trace`` (with weights, when ``da4ml`` imports): the network is traced by the very
  code the RTL is generated from (:mod:`qnas.tracer`), so the adder graph,
  its cost, the register bits and the number of pipeline stages are the ones the RTL will
  have; a fitted linear map turns da4ml's cost and register bits into Yosys LUT/FF.

Cycle rule: :mod:`qnas.pipeline`, the rule ``hls_backend.rtl.generate_rtl`` cuts the real
trace with (``cycles = ceil(L / cutoff) + 1`` for a network of total adder depth ``L``), the
cutoff from the spec's stated ``pipeline`` (or the default rule) at the target clock. The
pipeline FF (registers at the cuts) follow the same cutoff.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from qnas.errors import ConfigError
from qnas.parts import DEFAULT_PART, get_part
from qnas.pipeline import cutoff_for, cycles_for_depth, pipeline_record
from qnas.results import LayerResources, ResourceEstimate, ResourceReport
from qnas.spec import ModelSpec
from qnas.weights import ModelWeights, to_integers

from ._checks import check_spec
from ._csd import WeightPrior
from ._da_trace import FF_FEATURES as TRACE_FF_FEATURES
from ._da_trace import LUT_FEATURES as TRACE_LUT_FEATURES
from ._fitting import calibration_record, fit_relative_nnls
from ._layer_stats import LayerStats, layer_stats, log2ceil
from ._sparsity import layer_priors, spec_sparsity
from ._surrogate import expected_max_terms, load_surrogate
from ._surrogate import predict as surrogate_predict

#: latency units (adder levels) added by the activation: round-half-even (tie detect,
#: and, subtract) plus the clip compare, or only the clip when no bits are dropped
ROUND_CLIP_LEVELS = 4
CLIP_LEVELS = 1

LUT_FEATURES = ("surrogate_cost", "shared_adder_bits", "shared_adders", "round_logic_bits", "act_logic_bits",
                "naive_adder_bits")
FF_FEATURES = ("surrogate_register_bits", "input_bits", "output_bits", "tree_output_bits", "tree_input_bits",
               "act_boundary_bits")
REGISTER_FEATURES = FF_FEATURES[1:]


#: Uncalibrated defaults (fitted to da4ml's own cost model on sampled designs, not to
#: synthesis); replaced by ``fit`` / the coefficient files in ``estimators/data``.
DEFAULT_COEF: dict[str, Any] = {
    "lut": [0.0, 0.35, 1.0, 0.4, 0.1, 0.05],
    "ff": [0.0, 0.68, 0.7, 0.51, 1.4, 0.38],
    "trace_lut": [0.95, 0.95, 0.95, 0.95, 0.95, 0.0],
    "trace_ff": [1.0, 0.0, 0.0],
    "depth_offset": 0.0,
}

RANGE_KEYS = ("products", "max_fan_in", "max_units", "n_layers", "max_in_bits", "max_w_bits")


@dataclass
class DistributedArithmeticEstimator:
    """Resource/latency model of da4ml distributed-arithmetic RTL (scikit-learn style).

    Parameters are stored as given; ``fit`` sets ``coef_`` (and ``range_``, the span of
    the calibration designs). ``trace``: ``"auto"`` uses the trace tier when weights are
    given and da4ml is importable, ``"never"`` always the analytic tier, ``"always"``
    requires it. Where the pipeline is cut is the spec's (``spec.pipeline``, :mod:`qnas.pipeline`),
    never the estimator's: the RTL generator reads the same field.
    """

    prior: WeightPrior = field(default_factory=WeightPrior)
    trace: str = "auto"
    hard_dc: int = 2
    tool: str = "yosys"

    name = "qnas.da"

    # -- public API -------------------------------------------------------------------
    def estimate(self, spec: ModelSpec, weights: ModelWeights | None = None, part: str | None = None,
                 clock_ns: float | None = None) -> ResourceEstimate:
        if spec.strategy != "distributed_arithmetic":
            raise ConfigError("spec.strategy", f"DistributedArithmeticEstimator models strategy "
                              f"'distributed_arithmetic' only; got {spec.strategy!r}")
        if self.trace not in ("auto", "never", "always"):
            raise ConfigError("trace", f"must be 'auto', 'never' or 'always'; got {self.trace!r}")
        check_spec(spec)
        fpga = get_part(part or DEFAULT_PART)
        clock = float(clock_ns) if clock_ns is not None else fpga.default_clock_ns
        cutoff = cutoff_for(spec, clock)
        coef = self._coef()
        priors = layer_priors(spec, self.prior)
        stats = live_stats(spec, weights, priors)
        notes: list[str] = []

        lut_layers = self._analytic_lut_layers(stats, coef)
        # depth from the full columns: the longest live column is as long as any column
        depth, profile = self._analytic_depth(layer_stats(spec, weights, priors), coef["depth_offset"])
        n_stages, cycles = cycles_for_depth(depth, cutoff)
        ff_total = self._analytic_ff(stats, profile, depth, cutoff, coef)
        lut_total = float(sum(lut_layers))
        tier = "analytic"

        traced = self._trace(spec, weights, cutoff) if weights is not None and self.trace != "never" else None
        if traced is not None:
            tier = "trace"
            n_stages = int(traced["n_stages"])
            cycles = n_stages + 1
            feats = [traced[k] for k in TRACE_LUT_FEATURES]
            lut_total = float(np.dot(coef["trace_lut"], feats))
            ff_total = float(np.dot(coef["trace_ff"], [traced[k] for k in TRACE_FF_FEATURES]))
            notes.append("trace tier: adder graph and pipeline from da4ml (the RTL generator's own trace); "
                         "per-layer LUT split in proportion to the analytic model")
        elif weights is None:
            given = [z for z in spec_sparsity(spec) if z is not None]
            notes.append("pre-training estimate: expected CSD digits under the weight prior "
                         + (f"with the spec's sparsity ({len(given)} layer(s))" if given else
                            f"(sparsity {self.prior.sparsity:g}; the spec states none)")
                         + "; pass weights for the per-model figure")
        else:
            notes.append("analytic tier with exact CSD digit counts from the weights")

        per_layer = _split_per_layer(stats, profile, lut_layers, lut_total, ff_total, int(cycles), cutoff)
        in_range, range_notes = self._range_check(spec, fpga.name)
        notes.extend(range_notes)
        return ResourceEstimate(
            lut=lut_total, ff=ff_total, dsp=0.0, bram=0.0, latency_cycles=int(cycles), ii_cycles=1,
            clock_ns=clock, latency_ns=cycles * clock, part=fpga.name, producer=f"{self.name}.{tier}",
            tool_version=self._calibration_label(), per_layer=per_layer, in_calibrated_range=in_range,
            notes=tuple(notes),
            extra={"n_stages": int(n_stages), "latency_cutoff": cutoff, "adder_depth": depth,
                   "tier": tier, "calibrated_for": getattr(self, "calibrated_for_", None),
                   "pipeline": pipeline_record(spec, clock, n_stages=int(n_stages), latency_cycles=int(cycles))},
        )

    def fit(self, specs: Sequence[ModelSpec], truths: Sequence[ResourceReport],
            weights: Sequence[ModelWeights | None] | None = None, part: str | None = None) -> "DistributedArithmeticEstimator":
        """Fit every coefficient to synthesis results of the given designs.

        Analytic LUT/FF coefficients by non-negative relative least squares, the depth
        offset by maximising exact cycle matches, and -- where truths carry da4ml's cost
        and register bits in ``extra`` -- the trace tier's linear map.
        """
        if not specs or len(specs) != len(truths):
            raise ValueError("fit needs equally many specs and truths (at least one)")
        weights = list(weights) if weights is not None else [None] * len(specs)
        coef = {k: (list(v) if isinstance(v, list) else v) for k, v in DEFAULT_COEF.items()}
        clock = [t.clock_ns for t in truths]
        stats = [live_stats(s, w, layer_priors(s, self.prior)) for s, w in zip(specs, weights)]
        full = [layer_stats(s, w, layer_priors(s, self.prior)) for s, w in zip(specs, weights)]
        cycles = np.array([t.latency_cycles for t in truths])
        best = (-1, coef["depth_offset"])
        for offset in np.arange(-1.0, 2.01, 0.0625):
            hits = sum(cycles_for_depth(self._analytic_depth(st, offset)[0], cutoff_for(s, c))[1] == y
                       for s, st, c, y in zip(specs, full, clock, cycles))
            if hits > best[0]:
                best = (hits, float(offset))
        coef["depth_offset"] = best[1]
        lut_x = np.array([self._lut_features(st).sum(axis=0) for st in stats])
        coef["lut"] = fit_relative_nnls(lut_x, [t.lut for t in truths]).tolist()
        ff_x = []
        for s, st, st_full, c in zip(specs, stats, full, clock):
            depth, profile = self._analytic_depth(st_full, coef["depth_offset"])
            ff_x.append(self._ff_features(st, profile, depth, cutoff_for(s, c)))
        coef["ff"] = fit_relative_nnls(np.array(ff_x), [t.ff for t in truths]).tolist()
        rows = [(self._trace(s, w, cutoff_for(s, t.clock_ns)), t)
                for s, w, t in zip(specs, weights, truths) if w is not None and self.trace != "never"]
        rows = [(f, t) for f, t in rows if f is not None]
        if rows:
            tx = np.array([[f[k] for k in TRACE_LUT_FEATURES] for f, _ in rows])
            coef["trace_lut"] = fit_relative_nnls(tx, [t.lut for _, t in rows]).tolist()
            fx = np.array([[f[k] for k in TRACE_FF_FEATURES] for f, _ in rows])
            coef["trace_ff"] = fit_relative_nnls(fx, [t.ff for _, t in rows]).tolist()
        self.coef_ = coef
        self.range_ = _design_range(specs)
        self.n_fit_ = len(specs)
        self.calibrated_for_ = calibration_record(self.tool, truths, part)
        return self

    # -- serialisation (calibration files) ---------------------------------------------
    def coefficients(self) -> dict[str, Any]:
        if not hasattr(self, "coef_"):
            raise ValueError("estimator is not fitted; call fit() first")
        surrogate = load_surrogate()
        return {"estimator": "distributed_arithmetic", "coef": self.coef_, "range": self.range_,
                "surrogate": None if surrogate is None else {k: surrogate[k] for k in ("da4ml", "n_layers")},
                "n_fit": self.n_fit_, "calibrated_for": self.calibrated_for_,
                "params": {"hard_dc": self.hard_dc,
                           "prior": {"sparsity": self.prior.sparsity, "scale": self.prior.scale}},
                "features": {"lut": LUT_FEATURES, "ff": FF_FEATURES, "trace_lut": TRACE_LUT_FEATURES,
                             "trace_ff": TRACE_FF_FEATURES}}

    @classmethod
    def from_coefficients(cls, data: Mapping[str, Any], **params: Any) -> "DistributedArithmeticEstimator":
        p = data.get("params", {})
        prior = p.get("prior", {})
        # older files also hold "adders_per_ns": the pipelining is the spec's now (qnas.pipeline)
        est = cls(prior=WeightPrior(**prior) if prior else WeightPrior(), hard_dc=p.get("hard_dc", 2), **params)
        coef = dict(data["coef"])
        missing = set(DEFAULT_COEF) - set(coef)
        if missing:
            raise ValueError(f"coefficient file lacks {sorted(missing)}")
        est.coef_ = coef
        est.range_ = dict(data.get("range", {}))
        est.n_fit_ = int(data.get("n_fit", 0))
        est.calibrated_for_ = dict(data.get("calibrated_for", {}))
        return est

    # -- internals ----------------------------------------------------------------------
    def _coef(self) -> dict[str, Any]:
        return getattr(self, "coef_", DEFAULT_COEF)

    def _calibration_label(self) -> str:
        cal = getattr(self, "calibrated_for_", None)
        if not cal:
            return "uncalibrated"
        return f"calibrated:{cal.get('tool')} {cal.get('tool_version', '')} {cal.get('part')} n={cal.get('n_designs')}"

    @staticmethod
    def _lut_features(stats: Sequence[LayerStats]) -> np.ndarray:
        surrogate = load_surrogate()
        rows = []
        for s in stats:
            adders = np.maximum(s.terms - 1.0, 0.0)
            width = s.in_bits + s.w_bits + np.log2(np.maximum(s.terms, 1.0))
            pool = max(2.0 * s.n_in * s.w_bits, 1.0)  # distinct signed, shifted inputs
            share = 1.0 / (1.0 + (s.n_out - 1) * float(np.mean(s.terms)) / pool)
            bits = float(np.sum(adders * width))
            cost = surrogate_predict(s, surrogate)[0] if surrogate and s.digits > 0 else 0.0
            rows.append([cost, bits * share, float(adders.sum()) * share,
                         s.n_out * s.acc_bits * float(s.rounding),
                         s.n_out * s.acc_bits * float(s.has_activation), bits])
        return np.array(rows)

    def _analytic_lut_layers(self, stats: Sequence[LayerStats], coef: Mapping[str, Any]) -> list[float]:
        return list(self._lut_features(stats) @ np.asarray(coef["lut"], dtype=float))

    def _analytic_depth(self, stats: Sequence[LayerStats], offset: float,
                        surrogate: Mapping[str, Any] | None = None) -> tuple[float, list[tuple[float, float, float]]]:
        """Total adder depth and per layer (start, tree depth, activation depth).

        With the da4ml surrogate the layer latency is its prediction; without, the depth
        of a balanced tree over the longest column. ``offset`` (fitted) is added per
        layer before the total is rounded to whole adder levels.
        """
        surrogate = surrogate if surrogate is not None else load_surrogate()
        depth, profile = 0.0, []
        for s in stats:
            act = float(ROUND_CLIP_LEVELS if s.rounding else (CLIP_LEVELS if s.has_activation else 0))
            if surrogate and s.digits > 0:
                layer_latency = surrogate_predict(s, surrogate)[1] + offset
                tree = max(layer_latency - act, 0.0)
            else:
                tmax = expected_max_terms(s)
                tree = (log2ceil(tmax) + offset) if tmax > 1 else 0.0
            profile.append((depth, tree, act))
            depth += tree + act
        return float(math.floor(depth + 0.5)), profile

    @staticmethod
    def _ff_features(stats: Sequence[LayerStats], profile, depth: float, cutoff: float) -> list[float]:
        return [register_surrogate(stats, profile, depth, cutoff)] + register_features(stats, profile, depth, cutoff)

    def _analytic_ff(self, stats, profile, depth, cutoff, coef) -> float:
        return float(np.dot(coef["ff"], self._ff_features(stats, profile, depth, cutoff)))

    def _trace(self, spec: ModelSpec, weights: ModelWeights, cutoff: float) -> dict[str, float] | None:
        try:
            import da4ml.trace  # noqa: F401
        except ImportError:
            if self.trace == "always":
                from qnas.errors import ToolNotFound
                raise ToolNotFound("the trace tier needs da4ml: pip install 'qnas[hls]'")
            return None
        from ._da_trace import trace_features

        return trace_features(spec, weights, cutoff, self.hard_dc)

    def _range_check(self, spec: ModelSpec, part: str) -> tuple[bool | None, list[str]]:
        rng = getattr(self, "range_", None)
        if not rng:
            return None, ["no calibration loaded: coefficients are uncalibrated defaults"]
        notes = []
        cal_part = getattr(self, "calibrated_for_", {}).get("part")
        other_family = False
        if cal_part and cal_part != part:
            # synth_xilinx maps by family, so a calibration transfers within a family only.
            other_family = get_part(cal_part).family != get_part(part).family
            notes.append(f"calibrated on {cal_part}, estimating for {part}"
                         + (" (another device family)" if other_family else " (same device family)"))
        here = _design_range([spec])
        outside = [k for k in RANGE_KEYS if k in rng and not (rng[k][0] <= here[k][0] and here[k][1] <= rng[k][1])]
        if outside:
            notes.append("outside the calibration data: " + ", ".join(
                f"{k}={here[k][1]:g} (calibrated {rng[k][0]:g}..{rng[k][1]:g})" for k in outside))
        return not outside and not other_family, notes


def live_stats(spec: ModelSpec, weights: ModelWeights | None, priors: Sequence[WeightPrior]) -> list[LayerStats]:
    """Layer stats with the logic da4ml removes taken out (exactly with weights, in expectation without).

    da4ml traces the whole network and drops what cannot change an output:

    * a ReLU unit fed by non-negative inputs (every hidden layer after the first) whose
      weights and bias are all <= 0 is constantly 0: its column costs nothing, nor do the
      next layer's terms on it (before training: probability ``P(w <= 0) ** n_in``);
    * a hidden unit whose outgoing weights are all zero is dead, and so is the logic that
      computed it; found backwards from the output (before training: alive with
      probability ``1 - z ** n_readers``, ``z`` the next kernel's zero share).

    With a narrow next layer or few inputs this is much of a layer, so it is counted
    before any cost.
    """
    from dataclasses import replace as _replace

    from ._csd import csd_digit_count, expected_nonzero, nonpositive_probability

    stats = layer_stats(spec, weights, list(priors))
    layers = spec.layers
    n = len(stats)
    ints = [to_integers(weights[k].kernel, layers[k].weight) for k in range(n)] if weights is not None else None
    # forward: constantly-zero ReLU units (inputs >= 0 from layer 1 on)
    col_live: list = [None] * n   # exact: bool mask per output; expected: live fraction
    row_live: list = [None] * n   # live input rows of each layer
    for k in range(n):
        relu_in = k > 0 and layers[k - 1].activation is not None
        if not (relu_in and layers[k].activation is not None):
            continue
        if ints is not None:
            rows = row_live[k] if row_live[k] is not None else np.ones(ints[k].shape[0], bool)
            pos = np.where(ints[k][rows] > 0, ints[k][rows], 0).sum(axis=0)
            bias = np.asarray(weights[k].bias, float)
            col_live[k] = (pos > 0) | (bias > 0)
            if k + 1 < n:
                row_live[k + 1] = col_live[k]
        else:
            p_nonpos = nonpositive_probability(layers[k].weight.bits, layers[k].weight.kind, priors[k])
            fan_in = stats[k].n_in * (row_live[k] if row_live[k] is not None else 1.0)
            col_live[k] = 1.0 - 0.5 * p_nonpos ** max(fan_in, 1.0)  # bias > 0 about half the time
            if k + 1 < n:
                row_live[k + 1] = col_live[k]
    # backward: units no later layer reads
    read_next = None
    for k in range(n - 1, -1, -1):
        s = stats[k]
        if ints is not None:
            w = ints[k]
            rows = row_live[k] if row_live[k] is not None else np.ones(w.shape[0], bool)
            cols = col_live[k] if col_live[k] is not None else np.ones(w.shape[1], bool)
            if read_next is not None:
                cols = cols & read_next
            if not cols.any():
                cols = np.ones_like(cols)
            sub = np.where(rows[:, None], w, 0)
            terms = csd_digit_count(sub).sum(axis=0).astype(np.float64)[cols]
            stats[k] = _replace(s, terms=terms, n_out=int(cols.sum()),
                                nonzero=float(np.count_nonzero(sub[:, cols])))
            read_next = np.any(sub != 0, axis=1) & rows
        else:
            frac_rows = row_live[k] if row_live[k] is not None else 1.0
            frac_cols = col_live[k] if col_live[k] is not None else 1.0
            if read_next is not None:
                frac_cols *= read_next
            n_alive = max(1, int(round(s.n_out * frac_cols)))  # alive columns keep their digit count
            stats[k] = _replace(s, terms=np.full(n_alive, float(np.mean(s.terms)) * frac_rows), n_out=n_alive,
                                nonzero=s.nonzero * frac_rows * n_alive / s.n_out)
            z = 1.0 - expected_nonzero(layers[k].weight.bits, layers[k].weight.kind, priors[k])
            readers = stats[k].n_out
            read_next = frac_rows * float(1.0 - z ** max(readers, 1.0))
    return _reachable_widths(spec, weights, priors, stats)


def _reachable_widths(spec: ModelSpec, weights: ModelWeights | None, priors: Sequence[WeightPrior],
                      stats: list[LayerStats]) -> list[LayerStats]:
    """Narrow each hidden layer's input to the range its predecessor can actually reach.

    da4ml propagates value intervals through the network: a ReLU output quantized to
    ``a`` bits whose pre-activation can only reach a fraction of the format's range is
    carried on fewer bits, and so is everything downstream. The reachable maximum of an
    output is ``sum_i |w_ij| * max|x_i| + |b_j|`` (exact with weights; before training the
    expected column sum plus two standard deviations), capped by the activation's range.
    """
    from dataclasses import replace as _replace

    from ._csd import abs_moments

    out = list(stats)
    q0 = spec.input_quantizer
    x_max = max(abs(q0.min_value), abs(q0.max_value))
    for k, (layer, n_in, _) in enumerate(spec.layer_inputs()):
        act = layer.activation
        if act is None or act.kind != "fixed":
            break
        if weights is not None:
            kernel = np.abs(np.asarray(weights[k].kernel, dtype=float))
            reach = float((kernel.sum(axis=0) * x_max + np.abs(np.asarray(weights[k].bias, float))).max())
        else:
            m1, m2 = abs_moments(layer.weight.bits, layer.weight.kind, priors[k])
            step = 1.0 if layer.weight.kind != "fixed" else layer.weight.step
            mean_abs = m1 * step
            sd_abs = float(np.sqrt(max(m2 - m1 ** 2, 0.0))) * step
            reach = (n_in * mean_abs + 2.0 * np.sqrt(n_in) * sd_abs) * x_max + max(abs(layer.bias.min_value),
                                                                                 abs(layer.bias.max_value))
        eff_max = min(act.max_value, reach)
        eff_bits = int(min(max(math.ceil(math.log2(eff_max / act.step + 1.0)), 1), act.bits))
        x_max = eff_max
        if k + 1 < len(out):
            nxt = out[k + 1]
            delta = nxt.in_bits - eff_bits
            if delta > 0:
                out[k + 1] = _replace(nxt, in_bits=eff_bits, acc_bits=max(nxt.acc_bits - delta, 1))
        cur = out[k]
        if cur.out_bits > eff_bits:
            out[k] = _replace(cur, out_bits=eff_bits)
    return out


def _design_range(specs: Sequence[ModelSpec]) -> dict[str, list[float]]:
    vals: dict[str, list[float]] = {k: [] for k in RANGE_KEYS}
    for spec in specs:
        li = spec.layer_inputs()
        vals["products"].append(sum(n * l.units for l, n, _ in li))
        vals["max_fan_in"].append(max(n for _, n, _ in li))
        vals["max_units"].append(max(l.units for l, _, _ in li))
        vals["n_layers"].append(len(li))
        vals["max_in_bits"].append(max(q.bits for _, _, q in li))
        vals["max_w_bits"].append(max(l.weight.bits for l, _, _ in li))
    return {k: [float(min(v)), float(max(v))] for k, v in vals.items()}


def register_features(stats: Sequence[LayerStats], profile, depth: float, cutoff: float) -> list[float]:
    """Bits crossing the pipeline cuts the latency model predicts, by kind.

    A cut inside a layer's adder tree at fraction ``f`` of its depth carries partial
    sums (about ``f`` of the outputs' accumulator bits) and the inputs not yet consumed
    (about ``1 - f`` of them); a cut inside the activation carries the accumulators.
    """
    n_stages, _ = cycles_for_depth(depth, cutoff)
    tree_out = tree_in = act_bits = 0.0
    for k in range(1, n_stages):
        pos = k * cutoff
        for s, (start, tree, act) in zip(stats, profile):
            if start <= pos < start + tree + act or (s is stats[-1] and pos >= start):
                t = pos - start
                if t < tree:
                    frac = t / max(tree, 1e-9)
                    tree_out += s.n_out * s.acc_bits * frac
                    tree_in += s.n_in * s.in_bits * (1.0 - frac)
                else:
                    act_bits += s.n_out * s.acc_bits
                break
    first, last = stats[0], stats[-1]
    return [first.n_in * first.in_bits, last.n_out * last.out_bits, tree_out, tree_in, act_bits]


def register_surrogate(stats: Sequence[LayerStats], profile, depth: float, cutoff: float) -> float:
    """da4ml's used pipeline register bits predicted from :func:`register_features` (0 without surrogate)."""
    surrogate = load_surrogate()
    if not surrogate or "registers_exact" not in surrogate["coef"]:
        return 0.0
    kind = "exact" if all(s.exact for s in stats) else "expected"
    return float(np.dot(surrogate["coef"][f"registers_{kind}"], register_features(stats, profile, depth, cutoff)))


def _split_per_layer(stats, profile, lut_layers, lut_total: float, ff_total: float, cycles: int,
                     cutoff: float) -> tuple[LayerResources, ...]:
    """Attribute totals to layers: LUT by the analytic per-layer cost, cycles by the
    pipeline cuts inside each layer's depth span (input register to the first layer,
    output register to the last), FF by the input bits each layer registers per cycle.
    """
    n = len(stats)
    cuts = [0] * n
    n_cuts = max(cycles - 2, 0)  # cuts between the n_stages stages
    for k in range(1, n_cuts + 1):
        pos = k * cutoff
        layer = next((i for i, (start, tree, act) in enumerate(profile) if start <= pos < start + tree + act), n - 1)
        cuts[layer] += 1
    cuts[0] += 1
    cuts[-1] += 1
    cuts[-1] += cycles - sum(cuts)  # the trace tier's exact total wins over the analytic split
    lut_share = np.array(lut_layers) / max(sum(lut_layers), 1e-9)
    ff_weight = np.array([s.n_in * s.in_bits * max(c, 1) for s, c in zip(stats, cuts)], dtype=float)
    ff_share = ff_weight / max(ff_weight.sum(), 1e-9)
    return tuple(LayerResources(s.name, lut=float(lut_total * lut_share[i]), ff=float(ff_total * ff_share[i]),
                                dsp=0.0, bram=0.0, latency_cycles=int(cuts[i]), ii_cycles=1)
                 for i, s in enumerate(stats))
