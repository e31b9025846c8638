"""Jet-tagging data: the hls4ml reference dataset (OpenML 42468) and a Pythia 8 generator.

Light to import: Pythia, FastJet and the compiled feature helper load only when generating.
"""

from .embedded import embedded_path, load_embedded_jets, read_generated
from .features import CLASS_NAMES, FEATURE_NAMES, LABEL_COLUMN, jet_features_from_constituents
from .openml import OPENML_ID, fetch_openml_jets, load_openml_jets

__all__ = ["CLASS_NAMES", "FEATURE_NAMES", "LABEL_COLUMN", "OPENML_ID", "embedded_path",
           "fetch_openml_jets", "jet_features_from_constituents", "load_embedded_jets",
           "load_openml_jets", "make_jets", "read_generated"]


def make_jets(*args, **kwargs):
    """Generate jets with Pythia 8 (see :func:`nas.datasets.jets.generate.make_jets`)."""
    from .generate import make_jets as _make_jets
    return _make_jets(*args, **kwargs)
