"""Datasets by name: one explicit registry of ``"module:function"`` loaders, imported lazily.

A loader is ``loader(options: Mapping[str, Any], seed: int) -> qnas.data.Dataset`` and raises
``ConfigError("dataset.options.<key>", ...)`` for bad options. Listing loaders as strings
keeps ``import nas.datasets`` free of their dependencies (the jets loaders need network or
HDF5); an unknown name lists the valid ones. Other packages add datasets through the
``qnas.datasets`` entry-point group (name -> ``module:function``); no directory is scanned.
"""

from __future__ import annotations

import difflib
import importlib
from importlib.metadata import entry_points
from typing import Any, Callable, Mapping

from qnas.data import Dataset
from qnas.errors import ConfigError

Loader = Callable[[Mapping[str, Any], int], Dataset]

#: built-in datasets: name -> "module:function"
DATASETS: dict[str, str] = {
    "digits": "nas.datasets.builtin:load_digits",
    "digits-anomaly": "nas.datasets.builtin:load_digits_anomaly",
    "jets-openml": "nas.datasets.jets:load_openml_jets",
    "jets": "nas.datasets.jets:load_embedded_jets",
    "anomaly-l1": "nas.datasets.anomaly:load_anomaly_l1",
    "file": "nas.datasets.files:load_file_dataset",
}

ENTRY_POINT_GROUP = "qnas.datasets"


def dataset_names() -> dict[str, str]:
    """Every known dataset name with its loader path (built-ins win over plugins)."""
    names = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    names.update(DATASETS)
    return names


def check_dataset_name(name: str, key: str = "dataset.name") -> str:
    """The loader path of ``name``; ConfigError with a did-you-mean lists the valid names."""
    names = dataset_names()
    if name not in names:
        close = difflib.get_close_matches(str(name), list(names), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(key, f"unknown dataset {name!r}{hint} (known: {', '.join(sorted(names))})")
    return names[name]


def get_loader(name: str, key: str = "dataset.name") -> Loader:
    """The loader function registered under ``name`` (imported now, not before)."""
    module_name, _, func_name = check_dataset_name(name, key).partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, func_name)


def load_dataset(name: str, options: Mapping[str, Any] | None = None, seed: int = 0,
                 key: str = "dataset") -> Dataset:
    """Load, validate and return a dataset by name (seeded splits)."""
    loader = get_loader(name, f"{key}.name")
    dataset = loader(dict(options or {}), seed)
    return dataset.validate()
