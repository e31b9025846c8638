"""The parameters under which a search space draws a given network: warm starts from known models.

``warm_start: [imported/tagger]`` in a study enqueues an existing architecture as the first
trial(s), so the search starts from what the user already has and the front can only move
past it. Optuna enqueues *parameters*, so the spec has to be turned back into the values the
space would have drawn. Rather than invert each family by hand (and let the two drift
apart), the family's own ``sample`` is replayed with a trial that answers every suggestion
from the target spec; the spec it then builds must equal the target, or the target is not
in the space and the message names the first parameter that is off.

Layers are matched by position (hidden layer ``k`` is ``dense_k``, the last is ``output``);
the strategy and reuse factors are the space's (an imported model says nothing about how
it should be realised), taking the target's strategy where the space offers it.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from qnas.errors import ConfigError
from qnas.validation import join_key
from qnas.spec import ModelSpec, Quantizer

from ._base import SearchSpace

__all__ = ["check_params", "params_for"]


def _bits_value(q: Quantizer | None) -> Any:
    if q is None:
        return None
    return q.kind if q.kind != "fixed" else q.bits


class _ReplayTrial:
    """Answers ``suggest_*`` from a target spec; records what it answered."""

    def __init__(self, spec: ModelSpec, where: str):
        self.spec, self.where = spec, where
        self.params: dict[str, Any] = {}

    def _layer(self, prefix: str):
        if prefix == "output":
            return self.spec.layers[-1]
        if prefix.startswith("dense_"):
            k = int(prefix.split("_", 1)[1])
            hidden = self.spec.layers[:-1]
            return hidden[k] if k < len(hidden) else None
        return None

    def _target(self, name: str) -> Any:
        spec = self.spec
        if name == "strategy":
            return spec.strategy
        if name == "depth":
            return len(spec.layers) - 1
        prefix, _, what = name.partition("/")
        if prefix == "input":
            return {"bits": spec.input_quantizer.bits, "integer": spec.input_quantizer.integer}.get(what)
        layer = self._layer(prefix)
        if layer is None:
            return None
        quantizer = {"weight": layer.weight, "bias": layer.bias, "activation": layer.activation}
        if what == "units":
            return layer.units
        kind, _, field = what.partition("_")
        q = quantizer.get(kind)
        if q is None:
            return None
        return _bits_value(q) if field == "bits" else q.integer if field == "integer" else None

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        target = self._target(name)
        if name == "strategy" and target not in choices:
            value = choices[0]  # how to realise it is the space's choice
        elif target is None:
            raise ConfigError(self.where, f"the search space draws {name!r} (choices {list(choices)}), which the "
                                          f"model {self.spec.architecture} does not determine")
        elif target not in choices:
            raise ConfigError(self.where, f"the model has {name}={target!r}, but the search space offers "
                                          f"{list(choices)}; add {target!r} to those choices or drop the warm start")
        else:
            value = target
        self.params[name] = value
        return value

    def suggest_int(self, name: str, low: int, high: int, **_: Any) -> int:
        self.params[name] = low  # reuse-factor index: the smallest valid reuse factor
        return low

    def suggest_float(self, name: str, low: float, high: float, **_: Any) -> float:
        raise ConfigError(self.where, f"the search space draws the number {name!r}, which a warm start from "
                                      "a model cannot determine")

    def set_user_attr(self, key: str, value: Any) -> None:
        pass


def _same_network(a: ModelSpec, b: ModelSpec) -> bool:
    def shape(s: ModelSpec):
        return (s.n_inputs, s.input_quantizer,
                tuple((l.units, l.weight, l.bias, l.activation) for l in s.layers))
    return shape(a) == shape(b)


def params_for(space: SearchSpace, spec: ModelSpec, where: str) -> dict[str, Any]:
    """Optuna parameters under which ``space`` samples ``spec``'s network (ConfigError if none)."""
    if spec.task != space.task:
        raise ConfigError(where, f"the model is a {spec.task} network; the search space builds {space.task} ones")
    trial = _ReplayTrial(spec, where)
    drawn = space.sample(trial, spec.n_inputs, spec.n_outputs)
    if not _same_network(drawn, spec):
        raise ConfigError(where, f"the search space cannot draw {spec.architecture} (it draws "
                                 f"{drawn.architecture} from the same parameters)")
    return trial.params


class _ParamsTrial:
    """Answers ``suggest_*`` from a mapping of Optuna parameters; refuses values the space cannot draw."""

    def __init__(self, params: Mapping[str, Any], where: str, ranges_known: bool):
        self.given, self.where, self.ranges_known = params, where, ranges_known
        self.params: dict[str, Any] = {}

    def _value(self, name: str, offered: str) -> Any:
        if name not in self.given:
            raise ConfigError(self.where, f"missing {name!r}: the search space draws it ({offered}) for this point; "
                                          f"add it")
        value = self.given[name]
        self.params[name] = value
        return value

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any:
        value = self._value(name, f"choices {list(choices)}")
        # bool is an int to Python: True must not pass for 1, nor 1 for True
        match = [c for c in choices if c == value and isinstance(c, bool) == isinstance(value, bool)]
        if not match:
            hint = " (YAML reads 1e-3 as text; write 1.0e-3)" if isinstance(value, str) else ""
            raise ConfigError(join_key(self.where, name), f"{value!r} is not one of the search space's choices "
                                                          f"{list(choices)}{hint}")
        return match[0]

    def suggest_int(self, name: str, low: int, high: int, step: int = 1, **_: Any) -> int:
        value = self._value(name, f"an integer in [{low}, {high}]")
        in_range = not self.ranges_known or (isinstance(value, int) and low <= value <= high
                                              and not (value - low) % step)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0 or not in_range:
            raise ConfigError(join_key(self.where, name), f"must be an integer in [{low}, {high}]"
                                                          f"{f' in steps of {step}' if step != 1 else ''}; got {value!r}")
        # range unknown yet: answer one the replay can build on; the driver checks the real one
        return value if low <= value <= high else low

    def suggest_float(self, name: str, low: float, high: float, **_: Any) -> float:
        value = self._value(name, f"a number in [{low}, {high}]")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
            raise ConfigError(join_key(self.where, name), f"must be a number in [{low}, {high}]; got {value!r}")
        return float(value)

    def set_user_attr(self, key: str, value: Any) -> None:
        pass


def check_params(space: SearchSpace, params: Any, where: str,
                 shape: tuple[int, int] | None = None) -> dict[str, Any]:
    """``params`` as Optuna would store them for ``space``, checked by replaying its ``sample``.

    ``first_trials:`` in a study names search points by their Optuna parameters. Replaying the
    family's own ``sample`` (rather than keeping a second list of its parameters) checks exactly
    what Optuna would later check too late, at enqueue or at the trial: a missing parameter, a
    value outside the choices, or a key the space never draws (a typo would otherwise be
    silently ignored by ``enqueue_trial`` and the point sampled at random).

    ``shape`` is the dataset's (inputs, outputs). Only integer ranges depend on it (which
    reuse factors divide a layer's fan-in), so without it (when the study file loads, before
    any data) those are checked for being integers, and the driver checks again with the data.
    """
    if not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params):
        raise ConfigError(where, f"must be a mapping of search parameters to values (e.g. "
                                 f"{{depth: 3, dense_0/units: 64}}); got {params!r}")
    trial = _ParamsTrial(params, where, ranges_known=shape is not None)
    n_inputs, n_outputs = shape or (16, 5)
    space.sample(trial, n_inputs, n_outputs if space.task == "classification" else n_inputs)
    unknown = [k for k in params if k not in trial.params]
    if unknown:
        raise ConfigError(join_key(where, unknown[0]), f"the search space does not draw this parameter for this point "
                                                        f"(it draws {sorted(trial.params)})")
    return dict(trial.params)
