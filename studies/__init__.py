"""Study launch files (the YAML beside this module) and the dashboards that show a study.

``studies.dashboard`` turns a study's storage into Pareto-front views: ``qnas report`` (one
self-contained HTML file) and ``qnas dashboard`` (a live Dash app).
"""

__all__: list[str] = []
