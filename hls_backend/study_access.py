"""Reading a finished study for export, and writing synthesis truth back into it.

Export accepts what a user has at hand: the run directory, its ``study.db`` or any Optuna
storage URL. Results of export and synthesis are recorded as study user attributes
(``export/<trial>``, ``synthesis/<trial>/<flow>``) because Optuna freezes a finished
trial's own attributes; the estimate recorded at search time sits beside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from qnas.errors import FatalError


def storage_url(where: str) -> tuple[str, Path | None]:
    """(Optuna storage URL, run directory if known) from a run dir, .db path or URL."""
    if "://" in where:
        return where, None
    path = Path(where)
    if path.is_dir():
        from nas._storage import run_dir_storage

        url = run_dir_storage(path)
        if url is None:
            raise FatalError(f"{path} has no study.db or study.log (what `qnas run` writes); pass the "
                             "study's storage URL instead")
        return url, path.resolve()
    if path.exists():
        return f"sqlite:///{path.resolve()}", path.resolve().parent
    raise FatalError(f"no study at {where!r}: give a run directory, a .db file or an Optuna storage URL")


@dataclass
class FinishedStudy:
    study: Any
    url: str
    run_dir: Path

    @property
    def name(self) -> str:
        return self.study.study_name

    @property
    def part(self) -> str:
        from qnas.parts import DEFAULT_PART

        return self.study.user_attrs.get("part", DEFAULT_PART)

    @property
    def clock_ns(self) -> float:
        from qnas.parts import get_part

        return float(self.study.user_attrs.get("clock_ns") or get_part(self.part).default_clock_ns)

    def pareto_numbers(self) -> list[int]:
        from nas import pareto_trial_numbers

        return pareto_trial_numbers(self.study)

    def artifacts_dir(self, number: int) -> Path:
        trials = [t for t in self.study.get_trials(deepcopy=False) if t.number == number]
        if not trials:
            raise FatalError(f"study {self.name!r} has no trial {number}")
        rel = trials[0].user_attrs.get("artifacts")
        if not rel:
            state = trials[0].state.name
            reason = trials[0].user_attrs.get("reason", "")
            raise FatalError(f"trial {number} has no trained model to export (state {state}"
                             + (f": {reason}" if reason else "") + ")")
        path = (self.run_dir / rel).resolve()
        if not path.is_relative_to(self.run_dir.resolve()):
            raise FatalError(f"trial {number} records its model outside the run directory ({rel!r}); "
                             "export from the run directory that holds it")
        return path

    def record(self, number: int, key: str, value: Any) -> None:
        self.study.set_user_attr(f"{key}/{number}", value)


def open_finished_study(where: str, study_name: str | None = None) -> FinishedStudy:
    import optuna

    from nas.storage_url import open_storage_url

    url, run_dir = storage_url(where)
    try:
        storage = open_storage_url(url)  # postgresql://, mysql://, journal:/// as qnas run takes them
        names = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
    except FatalError:
        raise
    except Exception as exc:  # storage drivers raise their own error types
        raise FatalError(f"cannot open the study storage {url}: {exc}") from exc
    if study_name is None:
        if len(names) != 1:
            raise FatalError(f"{url} holds {len(names)} studies ({', '.join(names) or 'none'}); choose one with --study")
        study_name = names[0]
    elif study_name not in names:
        raise FatalError(f"no study {study_name!r} in {url}; it holds: {', '.join(names) or 'none'}")
    study = optuna.load_study(study_name=study_name, storage=storage)
    # The run directory the user gave wins over the one recorded at search time: a copied or
    # moved run must export its own trials, never silently the original's.
    stored = study.user_attrs.get("run_dir")
    if run_dir is None and stored:
        run_dir = Path(stored)
    if run_dir is None:
        raise FatalError(f"study {study_name!r} does not record its run directory; pass the run directory "
                         "instead of the storage URL")
    return FinishedStudy(study, url, run_dir)


def record_synthesis(manifest: Mapping[str, Any], results: Mapping[str, Any]) -> bool:
    """Store synthesis results (and the estimate) in the study the bundle came from, if reachable."""
    prov = manifest.get("provenance") or {}
    if not prov.get("storage") or not prov.get("study"):
        return False
    try:
        import optuna

        from nas.storage_url import open_storage_url

        study = optuna.load_study(study_name=prov["study"], storage=open_storage_url(prov["storage"]))
    except Exception:  # the bundle may have moved to a machine without the study
        return False
    trial = manifest["trial"]
    for flow, report in results.items():
        study.set_user_attr(f"synthesis/{trial}/{flow}",
                            {"estimate": manifest["results"].get("estimate"), "truth": report.to_dict()})
    return True
