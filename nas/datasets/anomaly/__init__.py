"""Level-1 anomaly-detection data: SM background and four signals from Pythia 8 through a
simple L1 detector response, as the 57 L1 integers an L1 anomaly trigger reads.

Light to import: Pythia and FastJet load only when generating.
"""

from .detector import INPUT_NAMES, N_INPUTS, L1Response, dequantize, quantize
from .embedded import embedded_path, load_anomaly_l1, read_l1, split_events
from .processes import BACKGROUND_FRACTIONS, PROCESSES, SIGNALS

__all__ = ["BACKGROUND_FRACTIONS", "INPUT_NAMES", "L1Response", "N_INPUTS", "PROCESSES", "SIGNALS",
           "dequantize", "embedded_path", "load_anomaly_l1", "make_anomaly", "quantize", "read_l1",
           "split_events"]


def make_anomaly(*args, **kwargs):
    """Generate the sample with Pythia 8 (see :func:`nas.datasets.anomaly.generate.make_anomaly`)."""
    from .generate import make_anomaly as _make_anomaly
    return _make_anomaly(*args, **kwargs)
