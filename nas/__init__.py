"""nas: the search engine - study config, search driver, training, results table.

Importing ``nas`` is instant and loads neither TensorFlow nor Optuna: every public name
is resolved on first use (PEP 562 ``__getattr__``), so ``qnas --help`` and the estimators
stay light while ``from nas import run_study`` still works.
"""

from __future__ import annotations

from qnas._imports import lazy_exports

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
    "train_candidate": "nas.training", "save_trained": "nas.training", "load_trained": "nas.training",
    "continue_training": "nas.training",
    # the QKeras model (hls_backend converts it)
    "load_qkeras_model": "nas.qkeras_model",
    # search levers: pruning-aware training, the hardware-cost loss term
    "strip_pruning": "nas.pruning", "hardware_cost": "nas.cost_penalty",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
