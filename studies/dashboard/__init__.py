"""Pareto-front dashboards of a study: a static report (``qnas report``) and a live app (``qnas dashboard``).

Layers, each a small module: :mod:`.data` reads the storage (read-only) and the bundles into
:class:`RunData`; :mod:`.figures` turns it into plotly figures; :mod:`.details` into the
content of a trial's page and the trial table; :mod:`.static` writes the one-file report and
PNGs; :mod:`.live` serves the same views with Dash; :mod:`.cli` registers both commands.
plotly, Dash and kaleido are imported only when a figure is built.
"""

from .data import NotARun, RunData, RunSource, SeveralStudies, load_run, resolve_target
from .static import render_report, write_pngs, write_report

__all__ = ["NotARun", "RunData", "RunSource", "SeveralStudies", "create_app", "load_run", "render_report", "resolve_target",
           "write_pngs", "write_report"]


def create_app(*args, **kwargs):
    """The live Dash app (see :func:`studies.dashboard.live.create_app`)."""
    from .live import create_app as make
    return make(*args, **kwargs)
