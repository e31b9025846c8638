"""HGQ2 as a second trainer family: learned per-weight/per-activation bit widths.

``trainer.HGQ2Trainer`` runs ``worker.py`` in HGQ2's own pinned environment
(:mod:`qnas.isolated_env`; HGQ2 needs Keras 3 and shadows QKeras) and turns every kept
checkpoint into a qnas ModelSpec with per-element formats (``convert``), so the estimator,
the open flow and the bundles treat it like any other design. Nothing here imports
TensorFlow or HGQ2 into the qnas process.
"""

from .convert import checkpoint_to_spec, fixed_envelope
from .trainer import HGQ2Checkpoint, HGQ2Trainer

__all__ = ["HGQ2Checkpoint", "HGQ2Trainer", "checkpoint_to_spec", "fixed_envelope"]
