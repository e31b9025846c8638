"""Trace-tier features: the adder graph and pipeline da4ml builds for the actual weights.

da4ml is imported only inside functions (it is optional and must stay out of ``import
estimators``). The network is traced by :func:`qnas.tracer.trace_pipeline` -- the same
code ``hls_backend.rtl`` generates the RTL from -- so the pipeline stages counted here are
the ones the Verilog will have.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

#: da4ml op classes (by opcode) whose summed cost feeds the trace-tier LUT map: Yosys packs
#: constant adds, ReLU and clip muxes differently from carry-chain adders, so each gets its
#: own coefficient
OP_CLASSES = {"adder_cost": (0, 1), "const_add_cost": (4,), "relu_cost": (2, -2), "mux_cost": (6, -6)}
LUT_FEATURES = ("adder_cost", "const_add_cost", "relu_cost", "mux_cost", "other_cost", "n_adders")
FF_FEATURES = ("used_register_bits", "unused_register_bits", "one")


def trace_features(spec: Any, weights: Any, cutoff: float, hard_dc: int) -> dict[str, float]:
    """LUT/FF features, ``n_stages`` and ``register_bits`` of the traced, pipelined network."""
    from qnas.tracer import trace_pipeline

    comb, pipe = trace_pipeline(spec, weights, latency_cutoff=cutoff, hard_dc=hard_dc)
    feats = {k: 0.0 for k in LUT_FEATURES}
    classes = {code: name for name, codes in OP_CLASSES.items() for code in codes}
    for op in comb.ops:
        feats[classes.get(op.opcode, "other_cost")] += float(op.cost)
        feats["n_adders"] += 1.0 if op.opcode in (0, 1) else 0.0
    used = used_register_bits(pipe)
    feats.update({"da4ml_cost": float(comb.cost), "register_bits": float(pipe.reg_bits),
                  "used_register_bits": float(used), "unused_register_bits": float(pipe.reg_bits - used),
                  "n_stages": float(len(pipe.solutions)), "one": 1.0})
    return feats


def used_register_bits(pipe: Any) -> int:
    """Pipeline register bits that logic downstream actually reads.

    da4ml registers every live value at full width, but a value read only by a
    quantize op needs just the bits that op keeps; Yosys removes the flip-flops of
    the others, so they are counted apart.
    """
    from da4ml.types import minimal_kif

    def bits(qint) -> int:
        return int(sum(minimal_kif(qint)))

    total = 0
    for sol in pipe.solutions:
        copy_of = {i: op.id0 for i, op in enumerate(sol.ops) if op.opcode == -1}
        partial: dict[int, int] = defaultdict(int)
        full: set[int] = {copy_of[i] for i in sol.out_idxs if i in copy_of}
        for op in sol.ops:
            if op.opcode == -1:
                continue
            for src in (op.id0, op.id1):
                if src not in copy_of:
                    continue
                if op.opcode in (3, -3):
                    partial[copy_of[src]] = max(partial[copy_of[src]], bits(op.qint))
                else:
                    full.add(copy_of[src])
        for j, qint in enumerate(sol.inp_qint):
            width = bits(qint)
            total += width if j in full else min(width, partial.get(j, 0))
    total += sum(bits(q) for q in pipe.out_qint)
    return total
