"""nas: the search engine - study config, search driver, training, results table.

Importing ``nas`` is instant and loads neither TensorFlow nor Optuna: every public name
is resolved on first use (PEP 562 ``__getattr__``), so ``qnas --help`` and the estimators
stay light while ``from nas import run_study`` still works.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # configuration
    "StudyConfig": "nas.config", "Objective": "nas.config", "DatasetConfig": "nas.config",
    "SamplerConfig": "nas.config", "load_study_config": "nas.config",
    # driver
    "run_study": "nas.study", "StudyResult": "nas.study", "StudyInterrupted": "nas.study",
    "ImpossibleBudget": "nas.study", "make_sampler": "nas.study",
    "pareto_trial_numbers": "nas.study",
    "QKerasTrainer": "nas._trial", "Trainer": "nas._trial",
    # budget constraints
    "precheck": "nas.constraints", "record_constraints": "nas.constraints",
    "BudgetRejection": "nas.constraints",
    # results table
    "build_table": "nas.results_table", "write_table": "nas.results_table",
    # datasets
    "load_dataset": "nas.datasets", "dataset_names": "nas.datasets",
    # training (QKeras; TensorFlow loads only when a model is built)
    "TrainingConfig": "nas.training", "TrainedModel": "nas.training",
    "train_candidate": "nas.training", "save_trained": "nas.training",
    "continue_training": "nas.training",
    # search levers: pruning-aware training, the hardware-cost loss term
    "strip_pruning": "nas.pruning", "hardware_cost": "nas.cost_penalty",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nas' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
