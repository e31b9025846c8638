"""Declarative validation of user configuration: constraints are data, messages have one shape.

Every config section (study, budget, search space, dataset options) is checked with the
same few pieces so that every error reads the same way and names the exact key::

    search_space.layers[2].weight_bits: must be an int in [2, 16], 'ternary' or 'binary'; got 1

A value is accepted when it satisfies ANY of the constraints listed for it (scikit-learn's
``_param_validation`` idea); the message lists all of them. Unknown keys are an error with a
did-you-mean, never silently dropped: a typo in a budget must not vanish into an unlimited
budget. Nothing here snaps or repairs a value.
"""

from __future__ import annotations

import difflib
import math
import reprlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from .errors import ConfigError

__all__ = ["Constraint", "Field", "InstanceOf", "Interval", "OneOf", "check_choices", "check_keys",
           "check_mapping", "check_value", "describe", "join_key", "validate_section"]


def join_key(path: str, key: str | int) -> str:
    """``join_key('search_space', 'width') == 'search_space.width'``; ints become ``[i]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel, _SHORT_REPR.maxlist, _SHORT_REPR.maxtuple, _SHORT_REPR.maxdict = 3, 6, 6, 6
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = 60


def describe(value: Any) -> str:
    """How a given value is echoed back in a message: a repr cut to ~80 characters.

    Bounded while it is built (reprlib), not after: a value from YAML aliases may share
    itself a billion times over, and a full ``repr`` would never finish.
    """
    text = _SHORT_REPR.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Constraint:
    """One acceptable form of a value; ``text`` completes "must be ..."."""

    text: str

    def accepts(self, value: Any) -> bool:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class Interval(Constraint):
    """A number of ``kind`` (int or float) in ``[low, high]`` (either end may be None).

    Booleans are never numbers here (YAML ``yes`` must not pass as 1). ``kind=float``
    accepts ints too, since YAML writes ``1`` for one.
    """

    kind: type
    low: float | None = None
    high: float | None = None
    low_open: bool = False

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if self.kind is int and not isinstance(value, int):
            return False
        if self.kind is float and not isinstance(value, (int, float)):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or value <= self.high

    @property
    def text(self) -> str:  # type: ignore[override]
        name = "an int" if self.kind is int else "a number"
        if self.low is not None and self.high is not None:
            return f"{name} in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}]"
        if self.low is not None:
            return f"{name} {'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None:
            return f"{name} <= {self.high:g}"
        return name


@dataclass(frozen=True)
class OneOf(Constraint):
    """One of a fixed set of literal values (strings are compared exactly)."""

    values: tuple[Any, ...]

    def accepts(self, value: Any) -> bool:
        return any(value == v and type(value) is type(v) for v in self.values)

    @property
    def text(self) -> str:  # type: ignore[override]
        quoted = [repr(v) for v in self.values]
        if len(quoted) == 1:
            return quoted[0]
        return f"{', '.join(quoted[:-1])} or {quoted[-1]}"


@dataclass(frozen=True)
class InstanceOf(Constraint):
    kind: type | tuple[type, ...]
    name: str

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) and self.kind is not bool:
            return False
        return isinstance(value, self.kind)

    @property
    def text(self) -> str:  # type: ignore[override]
        return self.name


def _join_texts(texts: Sequence[str]) -> str:
    if len(texts) == 1:
        return texts[0]
    return f"{', '.join(texts[:-1])} or {texts[-1]}"


def check_value(value: Any, constraints: Sequence[Constraint], path: str) -> Any:
    """Return ``value`` if any constraint accepts it, else raise ConfigError naming ``path``."""
    if any(c.accepts(value) for c in constraints):
        return value
    # "an int in [2, 16], 'ternary' or 'binary'": merge literal options into one list
    texts: list[str] = []
    literals: list[Any] = []
    for c in constraints:
        if isinstance(c, OneOf):
            literals.extend(c.values)
        else:
            texts.append(c.text)
    texts.extend(repr(v) for v in literals)
    raise ConfigError(path, f"must be {_join_texts(texts)}; got {describe(value)}")


def check_mapping(value: Any, path: str, what: str = "a mapping of keys to values") -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(path, f"must be {what}; got {describe(value)}")
    for key in value:
        if not isinstance(key, str):
            raise ConfigError(path, f"keys must be strings; got {describe(key)}")
    return value


def check_keys(data: Mapping[str, Any], allowed: Iterable[str], path: str,
               required: Iterable[str] = ()) -> None:
    """Unknown keys fail with a did-you-mean; missing required keys are named."""
    allowed = list(allowed)
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(join_key(path, key if len(key) <= 60 else key[:57] + "..."),
                              f"unknown key{hint} (valid keys: {', '.join(sorted(allowed))})")
    for key in required:
        if key not in data:
            raise ConfigError(join_key(path, key), "is required but missing")


def check_choices(value: Any, item: Sequence[Constraint], path: str, *, scalar_ok: bool = True) -> tuple:
    """A non-empty list of distinct choices, each satisfying ``item``.

    A lone scalar is a one-choice list when ``scalar_ok`` (``strategy: latency``). Empty lists
    are rejected: an empty choice set would make an empty search space.
    """
    if not isinstance(value, (list, tuple)):
        if scalar_ok and not isinstance(value, Mapping):
            value = [value]
        else:
            raise ConfigError(path, f"must be a list of choices; got {describe(value)}")
    if len(value) == 0:
        raise ConfigError(path, "must list at least one choice; an empty list leaves nothing to search")
    for i, v in enumerate(value):
        check_value(v, item, join_key(path, i))
    seen = []
    for v in value:
        if v in seen:
            raise ConfigError(path, f"lists {describe(v)} twice; each choice must be distinct")
        seen.append(v)
    return tuple(value)


@dataclass(frozen=True)
class Field:
    """A key of a config section: what it accepts and its default.

    ``parse`` (optional) turns the raw value into the typed one after the constraints pass
    or, when ``constraints`` is empty, does the whole check itself (for nested sections);
    it is called as ``parse(value, path)``.
    """

    constraints: tuple[Constraint, ...] = ()
    default: Any = None
    required: bool = False
    parse: Callable[[Any, str], Any] | None = None


def validate_section(data: Any, fields: Mapping[str, Field], path: str) -> dict[str, Any]:
    """Check a mapping against its field table; return every field's value (defaults filled)."""
    if data is None:
        data = {}
    data = check_mapping(data, path)
    check_keys(data, fields, path, required=[k for k, f in fields.items() if f.required])
    out: dict[str, Any] = {}
    for key, spec in fields.items():
        sub = join_key(path, key)
        if key not in data:
            out[key] = spec.default
            continue
        value = data[key]
        if spec.constraints:
            check_value(value, spec.constraints, sub)
        out[key] = spec.parse(value, sub) if spec.parse else value
    return out
