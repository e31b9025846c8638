"""Datasets a study can train on, by name (``digits``, ``digits-anomaly``, ``jets``, ...)."""

from .builtin import load_digits, load_digits_anomaly
from .registry import DATASETS, check_dataset_name, dataset_names, get_loader, load_dataset

__all__ = ["DATASETS", "check_dataset_name", "dataset_names", "get_loader", "load_dataset", "load_digits",
           "load_digits_anomaly"]
