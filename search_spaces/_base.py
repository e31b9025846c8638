"""What every family shares: strategy, input precision and the space-wide quantization choices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from qnas.errors import ConfigError
from qnas.spec import STRATEGIES, ModelSpec, Quantizer
from qnas.validation import (Constraint, Interval, OneOf, check_choices, check_keys, check_mapping,
                             join_key)

from ._layers import (BITS, INTEGER_BITS, QUANT_CONSTRAINTS, QUANT_DEFAULTS, LayerChoices, merge_choices,
                      parse_choice_overrides)

#: space-wide keys every family accepts, with default choices
COMMON_DEFAULTS: dict[str, tuple] = {
    "strategy": ("latency",),
    "input_bits": (8,),
    "input_integer": (3,),
    "cost_penalty": (0,),
    **QUANT_DEFAULTS,
}
COMMON_CONSTRAINTS: dict[str, tuple[Constraint, ...]] = {
    "strategy": (OneOf(STRATEGIES),),
    "input_bits": BITS,
    "input_integer": INTEGER_BITS,
    "cost_penalty": (Interval(float, 0, 1),),
    **QUANT_CONSTRAINTS,
}


@dataclass(frozen=True)
class CommonChoices:
    strategy: tuple
    input_bits: tuple
    input_integer: tuple
    cost_penalty: tuple
    layer_defaults: dict[str, tuple]
    layer_sources: dict[str, str]


def parse_common(data: Mapping[str, Any], path: str, family_keys: Mapping[str, tuple[Constraint, ...]],
                 required: tuple[str, ...], extra_keys: tuple[str, ...] = ()) -> tuple[CommonChoices, dict]:
    """Check the keys of a family's section; return the common choices and the family's own.

    ``family_keys`` are the family's choice lists (validated here); ``extra_keys`` are
    nested sections (``layers``, ``output``) that the family parses itself.
    """
    data = check_mapping(data, path)
    if not data:
        raise ConfigError(path, "is empty; give at least 'family' and the choices to search "
                                "(see studies/default.yaml)")
    allowed = ["family", *COMMON_CONSTRAINTS, *family_keys, *extra_keys]
    check_keys(data, allowed, path, required=required)
    values: dict[str, tuple] = {}
    for key, constraints in {**COMMON_CONSTRAINTS, **family_keys}.items():
        if key in data:
            values[key] = check_choices(data[key], constraints, join_key(path, key))
        elif key in COMMON_DEFAULTS:
            values[key] = COMMON_DEFAULTS[key]
    max_input_int = min(values["input_bits"]) - 1
    bad = [i for i in values["input_integer"] if i > max_input_int]
    if bad:
        raise ConfigError(join_key(path, "input_integer"),
                          f"{bad[0]} integer bits do not fit in {min(values['input_bits'])}-bit signed "
                          f"inputs (at most {max_input_int}); lower it or raise input_bits")
    common = CommonChoices(
        strategy=values["strategy"], input_bits=values["input_bits"],
        input_integer=values["input_integer"], cost_penalty=values["cost_penalty"],
        layer_defaults={k: values[k] for k in QUANT_DEFAULTS},
        layer_sources={k: join_key(path, k) for k in QUANT_DEFAULTS},
    )
    own = {k: values[k] for k in family_keys if k in values}
    return common, own


def layer_choices(common: CommonChoices, units: tuple, overrides: Mapping[str, tuple] | None = None,
                  override_path: str | None = None, width_source: str = "") -> LayerChoices:
    """Space defaults (+ family widths) with one layer's overrides."""
    defaults = dict(common.layer_defaults)
    sources = dict(common.layer_sources)
    if units:
        defaults["units"] = units
        sources["units"] = width_source
    return merge_choices(defaults, sources, overrides or {}, override_path)


def output_choices(common: CommonChoices, data: Mapping[str, Any], path: str) -> LayerChoices:
    """The output layer's choices: space defaults with the optional ``output`` overrides."""
    out_path = join_key(path, "output")
    overrides = parse_choice_overrides(data.get("output", {}), out_path, allow_units=False,
                                       allow_activation=False)
    return layer_choices(common, (), overrides, out_path)


def sample_input(trial, common: CommonChoices) -> Quantizer:
    bits = trial.suggest_categorical("input/bits", list(common.input_bits))
    integer = trial.suggest_categorical("input/integer", list(common.input_integer))
    return Quantizer.fixed(int(bits), int(integer))


def sample_training(trial, common: CommonChoices) -> dict[str, Any]:
    """What the search chooses about training rather than hardware, for ``ModelSpec.metadata``.

    ``training.cost_penalty`` weighs the hardware-cost term of the loss (:mod:`nas.cost_penalty`).
    It is drawn (parameter ``cost_penalty``) only when the space offers more than 0, so
    spaces without it keep their parameters; it is recorded in the spec's metadata under
    ``training`` because it changes the trained weights, not the network's structure.
    """
    if tuple(common.cost_penalty) == (0,):
        return {}
    penalty = float(trial.suggest_categorical("cost_penalty", list(common.cost_penalty)))
    return {"training": {"cost_penalty": penalty}} if penalty else {}


def sample_strategy(trial, common: CommonChoices) -> str:
    return trial.suggest_categorical("strategy", list(common.strategy))


class SearchSpace:
    """A family of candidate networks; ``sample`` draws one ModelSpec from an Optuna trial.

    ``trial`` is anything with Optuna's ``suggest_categorical``, ``suggest_int`` and
    ``set_user_attr`` (an ``optuna.Trial``, or ``optuna.trial.FixedTrial`` in tests).
    """

    family: str
    task: str

    def sample(self, trial, n_inputs: int, n_outputs: int) -> ModelSpec:  # pragma: no cover
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover
        raise NotImplementedError

    def layer_shapes(self, n_inputs: int, n_outputs: int) -> list[tuple[str, Any, set, set]]:
        """Per layer: (name, LayerChoices, possible input widths, possible output widths)."""
        raise NotImplementedError  # pragma: no cover

    def check_dataset_shape(self, n_inputs: int, n_outputs: int) -> None:
        """Refuse, before any trial, choices no candidate on this dataset can realise."""
        from ._layers import check_reuse_realisable

        check_reuse_realisable(self.layer_shapes(n_inputs, n_outputs), self.common.strategy)
