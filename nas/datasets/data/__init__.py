"""Data files shipped with qnas (the embedded Pythia 8 jet sample and its sidecar JSON)."""
