"""Can the spec's implementation style realise it at all? Checked before any arithmetic.

The estimator refuses what hls4ml / da4ml would refuse or silently change: a reuse
factor that is not in :func:`qnas.spec.valid_reuse_factors` (hls4ml would snap it to a
neighbour, so the design built would differ from the one estimated), or a
latency-strategy layer too big to unroll. Each error names the offending field and what
would be accepted. (Distributed arithmetic's single reuse factor is held by the spec
itself: :func:`qnas.spec.fixed_reuse_factor`.)
"""

from __future__ import annotations

from qnas.errors import UnsupportedSpec
from qnas.spec import ModelSpec, fixed_reuse_factor, valid_reuse_factors

#: Vivado/Vitis HLS refuse to completely partition an array of more than this many
#: elements (hls4ml writes ``config_array_partition -maximum_size 4096``); the latency
#: strategy partitions the n_in*n_out product array completely, so a latency layer beyond
#: it does not synthesise as written.
LATENCY_UNROLL_LIMIT = 4096


def check_spec(spec: ModelSpec) -> None:
    """Raise :class:`UnsupportedSpec` naming the first layer field the strategy cannot build."""
    for index, (layer, n_in, _) in enumerate(spec.layer_inputs()):
        where = f"layers[{index}] ({layer.name})"
        rf = layer.reuse_factor
        if fixed_reuse_factor(spec.strategy) is not None:
            continue  # ModelSpec already refuses any other value
        valid = valid_reuse_factors(n_in, layer.units)
        if rf not in valid:
            shown = ", ".join(map(str, valid[:12])) + (", ..." if len(valid) > 12 else "")
            raise UnsupportedSpec(f"{where}.reuse_factor={rf} is not valid for a {n_in}x{layer.units} dense "
                                  f"layer (hls4ml would silently change it); valid values: {shown}")
        if spec.strategy == "latency" and n_in * layer.units > LATENCY_UNROLL_LIMIT:
            raise UnsupportedSpec(f"{where}: {n_in}x{layer.units} = {n_in * layer.units} products exceed the "
                                  f"latency strategy's unroll limit of {LATENCY_UNROLL_LIMIT}; use strategy "
                                  "'resource' or a narrower layer")
