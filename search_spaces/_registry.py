"""Families by name: one explicit registry; an unknown name lists the valid ones."""

from __future__ import annotations

import difflib
from typing import Any, Mapping

from qnas.errors import ConfigError
from qnas.validation import check_mapping, describe, join_key

from ._base import SearchSpace
from .autoencoder import AutoencoderSpace
from .mlp import MLPSpace

FAMILIES: dict[str, type[SearchSpace]] = {
    "mlp": MLPSpace,
    "autoencoder": AutoencoderSpace,
}


def build_search_space(data: Any, path: str = "search_space") -> SearchSpace:
    """Validate a ``search_space`` section and return the family's space object."""
    if data is None or (isinstance(data, Mapping) and not data):
        raise ConfigError(path, "is empty; give at least 'family' and the choices to search "
                                f"(families: {', '.join(FAMILIES)}; see studies/default.yaml)")
    data = check_mapping(data, path)
    if "family" not in data:
        raise ConfigError(join_key(path, "family"), f"is required; one of {', '.join(FAMILIES)}")
    family = data["family"]
    if not isinstance(family, str) or family not in FAMILIES:
        close = difflib.get_close_matches(str(family), list(FAMILIES), n=1) if isinstance(family, str) else []
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(join_key(path, "family"),
                          f"unknown family {describe(family)}{hint} (valid: {', '.join(FAMILIES)})")
    return FAMILIES[family](data, path)
