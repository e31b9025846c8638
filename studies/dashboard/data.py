"""Everything the dashboards show, read from a study's storage (read-only) and its bundles.

The Optuna storage is the single source of truth, as for the results table: trial rows come
from :func:`nas.results_table.trial_row`, the Pareto set from :func:`nas.study.pareto_trial_numbers`
(what ``qnas export --pareto`` takes), and the budget limits are recovered from the trials'
own constraint values (``used - limit``), so a report needs neither the study file nor the
process that ran it. SQLite storages are opened with ``mode=ro``: a dashboard can never
write to a study that is running. Synthesis results come from the firmware bundles exported
from the run (their ``manifest.json``), found through the study's ``export/<trial>`` records
or a ``--bundles`` folder.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from qnas.errors import FatalError

#: trial categories, in drawing order (later ones on top)
CATEGORIES = ("rejected", "infeasible", "dominated", "pareto")
CATEGORY_LABELS = {"pareto": "Pareto design", "dominated": "dominated", "infeasible": "over budget (trained)",
                   "rejected": "rejected before training", "failed": "failed", "running": "running"}
_SQLITE = "sqlite:///"


class NotARun(FatalError):
    """The path is not something ``qnas report`` reads; the message says what it is."""


class SeveralStudies(FatalError):
    """The storage holds several studies and none was chosen."""

    def __init__(self, url: str, names: Sequence[str]):
        self.url, self.names = url, list(names)
        super().__init__(f"{url} holds {len(names)} studies: {', '.join(names)}; choose one with --study NAME")


@dataclass(frozen=True)
class Target:
    url: str
    run_dir: Path | None


def resolve_target(where: str) -> Target:
    """A storage URL from a run directory, a .db file or a URL; explain anything else."""
    if "://" in where:
        return Target(where, None)
    path = Path(where)
    if not path.exists():
        raise NotARun(f"{where} does not exist; `qnas report` expects a run directory written by "
                      "`qnas run` (runs/<study name>/ with study.db), a study .db file or an Optuna storage URL")
    expects = ("`qnas report` expects a run directory written by `qnas run` (it holds study.db, results.csv "
               "and trials/), a study .db file or an Optuna storage URL")
    if path.is_dir():
        from nas._storage import run_dir_storage

        found = run_dir_storage(path)  # study.db (one process) or study.log (qnas run --workers N)
        if found is not None:
            return Target(found, path.resolve())
        if (path / "manifest.json").exists():
            raise NotARun(f"{path} is a firmware bundle (from `qnas export`), not a run; {expects}. "
                          f"Pass the run it came from, and this bundle's folder with --bundles {path.parent}")
        dbs = sorted(p.name for p in path.glob("*.db"))
        what = f"a folder with {', '.join(dbs)} but no study.db" if dbs else "a folder without study.db"
        raise NotARun(f"{path} is {what}; {expects}" + (f" (try {path / dbs[0]})" if dbs else ""))
    if path.suffix in (".yaml", ".yml"):
        raise NotARun(f"{path} is a study file; run it with `qnas run {path}`, then report its run "
                      "directory (runs/<name>/)")
    with open(path, "rb") as fh:
        magic = fh.read(16)
    if magic.startswith(b"SQLite format 3"):
        return Target(f"{_SQLITE}{path.resolve()}", path.resolve().parent)
    raise NotARun(f"{path} is a file but not an SQLite database; {expects}")


def open_readonly(url: str):
    """An Optuna storage that cannot write: SQLite opened with ``mode=ro``; other URLs as given."""
    import optuna
    if url.startswith("journal:"):  # qnas run --workers: the dashboards only read it
        from nas.storage_url import open_storage_url
        return open_storage_url(url)
    if not url.startswith(_SQLITE):
        return url  # server databases: the dashboards only ever read (no writes are issued)
    path = url[len(_SQLITE):].split("?", 1)[0]

    def connect():
        import sqlite3
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30.0, check_same_thread=False)

    try:
        return optuna.storages.RDBStorage(url, engine_kwargs={"creator": connect})
    except Exception as exc:  # SQLAlchemy raises its own types
        raise FatalError(f"cannot open {path} as an Optuna study storage: {str(exc).splitlines()[0]}; "
                         "is it a study database written by `qnas run`?") from None


def study_names(storage) -> list[str]:
    import optuna
    return [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]


@dataclass
class Reference:
    """A reference design placed on the study's axes."""

    name: str
    group: str
    values: dict[str, float]  # metric -> value, on the study's objective names
    how: str  # where each value came from


@dataclass
class Synthesis:
    """One synthesized bundle: its estimate and each flow's measured result."""

    trial: int
    bundle: str
    estimate: dict[str, Any]
    results: dict[str, dict[str, Any]]  # flow -> ResourceReport dict
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class RunData:
    name: str
    url: str
    run_dir: Path | None
    objectives: list[tuple[str, str]]  # (metric, direction)
    part: str
    clock_ns: float
    limits: dict[str, float]  # metric -> absolute budget limit (only the limits the study set)
    rows: list[dict[str, Any]]  # nas.results_table.trial_row + category, spec dict, layers
    pareto: list[int]
    references: list[Reference]
    synthesis: dict[int, Synthesis]
    notes: list[str]
    study: Any = None  # the optuna Study (read-only), for importance and hypervolume

    @property
    def finished(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["category"] in CATEGORIES]

    def row(self, number: int) -> dict[str, Any] | None:
        return next((r for r in self.rows if r["number"] == number), None)

    def metric_value(self, row: Mapping[str, Any], metric: str) -> float | None:
        """A trial's value of an objective or estimate metric (None where it has none)."""
        for key in (f"objective_{metric}", f"est_{metric}", f"val_{metric}", metric):
            value = row.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                return float(value)
        return None


def _limits(trials, part: str) -> dict[str, float]:
    """Absolute budget limits from constraint values: constraint = used fraction - limit fraction."""
    from estimators import get_part
    totals = get_part(part).totals
    out: dict[str, float] = {}
    for t in trials:
        est = t.user_attrs.get("estimate") or {}
        for key, c in dict(t.constraints).items():
            if key in out or key not in est and key != "ii":
                continue
            if key in totals:
                frac = est[key] / totals[key] - c
                if frac < 0.999:  # 100 % is the default: no limit set
                    out[key] = frac * totals[key]
            elif key == "latency_ns":
                out[key] = est[key] - c
    return out


def _layers(spec: Mapping[str, Any] | None, attrs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The per-layer table of a trial: width, bits, reuse factor, sparsity where recorded."""
    if not spec:
        return []
    out = []
    n_in = spec["n_inputs"]
    for layer in spec["layers"]:
        act = layer.get("activation")
        w = layer["weight"]
        row = {"layer": layer["name"], "in": n_in, "units": layer["units"],
               "weight": w["kind"] if w["kind"] != "fixed" else f"fixed<{w['bits']},{w['integer']}>",
               "weight_bits": w["bits"], "bias_bits": layer["bias"]["bits"],
               "activation": "linear" if act is None else f"ufixed<{act['bits']},{act['integer']}>",
               "activation_bits": None if act is None else act["bits"],
               "reuse_factor": attrs.get(f"{layer['name']}/reuse_factor", layer.get("reuse_factor", 1))}
        # stated sparsity (estimators._sparsity): one fraction for all layers or {layer: fraction}
        sparsity = (spec.get("metadata") or {}).get("sparsity")
        if isinstance(sparsity, Mapping):
            sparsity = sparsity.get(layer["name"])
        if isinstance(sparsity, (int, float)) and not isinstance(sparsity, bool):
            row["sparsity"] = float(sparsity)
        out.append(row)
        n_in = layer["units"]
    return out


def _category(trial, feasible, pareto: set[int]) -> str:
    state = trial.state.name
    if state == "COMPLETE":
        if trial.number in pareto:
            return "pareto"
        return "dominated" if feasible else "infeasible"
    if state == "PRUNED":
        return "rejected"
    return "failed" if state == "FAIL" else "running"


def _bundle_dirs(study_attrs: Mapping[str, Any], bundles: Sequence[str | Path], run_dir: Path | None) -> list[Path]:
    found: list[Path] = []
    for key, value in study_attrs.items():
        if key.startswith("export/") and isinstance(value, Mapping) and value.get("bundle"):
            p = Path(value["bundle"])
            for candidate in ([p] if p.is_absolute() else [p, *(([run_dir.parent.parent / p]) if run_dir else [])]):
                if (candidate / "manifest.json").exists():
                    found.append(candidate.resolve())
                    break
    for folder in bundles:
        folder = Path(folder)
        if (folder / "manifest.json").exists():
            found.append(folder.resolve())
        else:
            found += [p.parent.resolve() for p in sorted(folder.glob("*/manifest.json"))]
    return list(dict.fromkeys(found))


def load_synthesis(bundle_dirs: Sequence[Path], study_name: str) -> tuple[dict[int, Synthesis], list[str]]:
    """Synthesis results of the bundles that came from this study (others are noted, not mixed in)."""
    out: dict[int, Synthesis] = {}
    notes = []
    for bundle in bundle_dirs:
        try:
            manifest = json.loads((bundle / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            notes.append(f"bundle {bundle}: unreadable manifest ({exc}); skipped")
            continue
        prov = manifest.get("provenance") or {}
        if prov.get("study") not in (None, study_name):
            continue
        trial = manifest.get("trial", prov.get("trial"))
        results = manifest.get("results") or {}
        synth = results.get("synthesis") or {}
        done = {flow: e["result"] for flow, e in synth.items() if isinstance(e, Mapping) and "result" in e}
        errors = {flow: str(e["error"]).splitlines()[0] for flow, e in synth.items()
                  if isinstance(e, Mapping) and "error" in e}
        if trial is None or not (done or errors):
            continue
        out[int(trial)] = Synthesis(int(trial), str(bundle), results.get("estimate_open") or results.get("estimate")
                                    or {}, done, errors)
    return out, notes


def _study_file(study_attrs: Mapping[str, Any], run_dir: Path | None) -> Path | None:
    name = study_attrs.get("study_file")
    if not name:
        return None
    p = Path(name)
    for candidate in ([p] if p.is_absolute() else [Path.cwd() / p] + ([run_dir.parent.parent / p] if run_dir else [])):
        if candidate.exists():
            return candidate
    return None


def load_references(study_attrs: Mapping[str, Any], run_dir: Path | None, extra: Sequence[str | Path],
                    objectives: Sequence[tuple[str, str]], part: str, clock_ns: float
                    ) -> tuple[list[Reference], list[str]]:
    """The study file's ``references:`` plus ``--reference`` files, on the study's objective axes."""
    from qnas.references import ReferenceDesign, ReferenceFile, load_reference_file
    notes: list[str] = []
    designs: list[ReferenceDesign] = []
    items: list[Any] = []
    study_file = _study_file(study_attrs, run_dir)
    if study_file is not None:
        from nas.config import load_study_config
        try:
            items += [(i, study_file.parent) for i in load_study_config(study_file).references]
        except FatalError as exc:
            notes.append(f"references of {study_file} not read: {exc}")
    items += [(ReferenceFile(str(p)), Path.cwd()) for p in extra]
    for item, base in items:
        if isinstance(item, ReferenceFile):
            path = Path(item.path)
            got, why = load_reference_file(path if path.is_absolute() else base / path)
            designs += got
            notes += why
        else:
            designs.append(item)
    placed = [_place(d, objectives, part, clock_ns, notes) for d in designs]
    return placed + _baselines(study_attrs), notes


def _baselines(study_attrs: Mapping[str, Any]) -> list[Reference]:
    """The study's ``baselines:`` as the driver scored them (nas.baselines: same split, its estimate)."""
    out = []
    for b in study_attrs.get("baselines") or []:
        values = {k: float(v) for k, v in (b.get("objectives") or {}).items() if v is not None}
        for key in ("lut", "ff", "dsp", "latency_cycles", "latency_ns"):
            if key in (b.get("estimate") or {}):
                values.setdefault(key, float(b["estimate"][key]))
        out.append(Reference(b.get("name", "baseline"), "baselines", values,
                             f"baseline {b.get('path', '')}: scored on the study's validation split, "
                             f"resources estimated with its trained weights ({(b.get('estimate') or {}).get('producer', '')})"))
    return out


def _place(design, objectives, part: str, clock_ns: float, notes: list[str]) -> Reference:
    values = dict(design.metrics)
    values.update(design.resources)
    how = [design.source] if design.source else []
    missing = [m for m, _ in objectives if m not in values]
    if missing and design.spec is not None:
        import estimators
        try:
            est = estimators.estimate(design.spec, part=part, clock_ns=clock_ns)
        except Exception as exc:  # an estimator refusing a reference must not break the report
            notes.append(f"reference {design.name!r}: cannot estimate ({exc})")
        else:
            for m in missing:
                if hasattr(est, m):
                    values[m] = float(getattr(est, m))
            values.setdefault("n_params", float(design.spec.n_params))
            how.append(f"resources estimated by {est.producer} on {part} at {clock_ns:g} ns (untrained weights)")
    if "latency_ns" not in values and "latency_cycles" in values:
        values["latency_ns"] = values["latency_cycles"] * clock_ns
    return Reference(design.name, design.group, values, "; ".join(how))


class RunSource:
    """An opened study: the storage and references are read once, trials on every :meth:`load`."""

    def __init__(self, where: str, study: str | None = None, *, bundles: Sequence[str | Path] = (),
                 references: Sequence[str | Path] = ()):
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        target = resolve_target(where)
        storage = open_readonly(target.url)
        try:
            names = study_names(storage)
        except Exception as exc:
            raise FatalError(f"cannot read studies from {target.url}: {str(exc).splitlines()[0]}") from None
        if not names:
            raise NotARun(f"{target.url} holds no study yet; start one with `qnas run STUDY.yaml`")
        if study is None:
            if len(names) > 1:
                raise SeveralStudies(target.url, names)
            study = names[0]
        elif study not in names:
            raise FatalError(f"no study {study!r} in {target.url}; it holds: {', '.join(names)}")
        self.url, self.bundles = target.url, list(bundles)
        self.study = optuna.load_study(study_name=study, storage=storage)
        attrs = self.study.user_attrs
        metrics = attrs.get("objectives") or [f"objective_{i}" for i in range(len(self.study.directions))]
        directions = attrs.get("directions") or [d.name.lower() for d in self.study.directions]
        self.objectives = [(m, d) for m, d in zip(metrics, directions)]
        self.run_dir = Path(attrs["run_dir"]) if attrs.get("run_dir") else target.run_dir
        from estimators import DEFAULT_PART, get_part
        self.part = get_part(attrs.get("part") or DEFAULT_PART).name
        self.clock_ns = float(attrs.get("clock_ns") or get_part(self.part).default_clock_ns)
        self.notes: list[str] = []
        if "objectives" not in attrs:
            self.notes.append(f"study {study!r} was not written by `qnas run` (no qnas attributes); "
                              "showing what Optuna has")
        self.references, why = load_references(attrs, self.run_dir, references, self.objectives, self.part,
                                               self.clock_ns)
        self.notes += why

    def signature(self) -> list:
        """Cheap fingerprint of what the views show: trials started/finished, latest finish, exports."""
        trials = self.study.get_trials(deepcopy=False)
        latest = max((t.datetime_complete for t in trials if t.datetime_complete), default=None)
        exported = sum(k.startswith(("export/", "synthesis/")) for k in self.study.user_attrs)
        return [len(trials), sum(t.state.is_finished() for t in trials), latest.isoformat() if latest else "",
                exported]

    def load(self) -> RunData:
        from nas.config import Objective
        from nas.results_table import trial_row
        from nas.study import pareto_trial_numbers
        s = self.study
        attrs = s.user_attrs  # read again: bundles exported since the study was opened
        trials = s.get_trials(deepcopy=False)
        pareto = pareto_trial_numbers(s) if any(t.state.name == "COMPLETE" for t in trials) else []
        pareto_set = set(pareto)
        first_of: dict[str, int] = {}
        objs = [Objective(m, d) for m, d in self.objectives]
        rows = []
        for t in sorted(trials, key=lambda t: t.number):
            row = trial_row(t, objs)
            spec = json.loads(row["spec"]) if row.get("spec") else None
            row["category"] = _category(t, row["feasible"], pareto_set)
            fp = row.get("fingerprint")
            if fp and t.state.name == "COMPLETE":
                first = first_of.setdefault(fp, t.number)
                row["duplicate_of"] = first if first != t.number else None
            row["layers"] = _layers(spec, t.user_attrs)
            row["strategy"] = row.get("strategy") or (spec or {}).get("strategy")
            row["spec_dict"] = spec
            row["datetime_complete"] = t.datetime_complete.isoformat() if t.datetime_complete else None
            row["violated"] = [k for k, v in dict(t.constraints).items() if v > 0]
            rows.append(row)
        synthesis, why = load_synthesis(_bundle_dirs(attrs, self.bundles, self.run_dir), s.study_name)
        return RunData(s.study_name, self.url, self.run_dir, self.objectives, self.part, self.clock_ns,
                       _limits(trials, self.part), rows, pareto, self.references, synthesis, self.notes + why, s)


def load_run(where: str, study: str | None = None, *, bundles: Sequence[str | Path] = (),
             references: Sequence[str | Path] = ()) -> RunData:
    """Read a run (directory, .db or URL) into :class:`RunData`; raises NotARun / SeveralStudies."""
    return RunSource(where, study, bundles=bundles, references=references).load()
