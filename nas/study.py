"""The study driver: a multi-objective Optuna study over a search space, under an FPGA budget.

Trials are driven with Optuna's ask/tell so that every outcome is decided here, by the
exception the trial raised (see :mod:`nas._trial`), and so that Ctrl-C can mark the running
trial failed before the process exits. The study is an ordinary Optuna study in ordinary
storage (SQLite by default), so ``optuna-dashboard`` opens it and ``--resume`` continues it:
trial numbers continue, a trial left RUNNING by a crash is marked FAIL, and a candidate cut
short by Ctrl-C is queued again so that no candidate is lost.
"""

from __future__ import annotations

import contextlib
import json
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from qnas.errors import ConfigError, FatalError, InfeasibleCandidate, QnasError
from qnas.spec import ModelSpec
from search_spaces.warm_start import check_params

from ._claim import SQLiteRunLock
from ._heartbeat import retry_callback
from ._interrupt import CtrlC
from ._progress import Progress, best_feasible_label
from ._storage import check_storage_writable, default_storage, disk_error, ensure_dir, sqlite_path
from ._trial import QKerasTrainer, Trainer, TrialRunner, trained_networks, trainer_for, training_recipe
from ._worker import Claimer, budget_state, replaced_numbers
from .storage_url import StorageURL, connection_problem, is_connection_error, parse_storage_url
from .baselines import enqueue_warm_starts
from .config import StudyConfig
from .constraints import BudgetRejection, estimate_summary
from .datasets import load_dataset
from .results_table import build_table, format_pareto, write_table

__all__ = ["ImpossibleBudget", "OpenedStudy", "StudyInterrupted", "StudyResult", "make_sampler", "open_study",
           "pareto_trial_numbers", "run_study"]

#: stop after this many trials in a row fail (a broken setup, not an unlucky candidate)
MAX_CONSECUTIVE_FAILURES = 5
#: on a shared storage: seconds between a running trial's heartbeats, seconds of silence after
#: which it counts as lost (failed, its candidate queued again), and how often one candidate is retried
DEFAULT_HEARTBEAT_S = 10
DEFAULT_GRACE_S = 60
DEFAULT_MAX_RETRIES = 2


class StudyInterrupted(QnasError):
    """Ctrl-C: the running trial was marked failed; ``resume_command`` continues the study."""

    def __init__(self, message: str, resume_command: str):
        super().__init__(message)
        self.resume_command = resume_command


class ImpossibleBudget(FatalError):
    """The estimator rejected every recent candidate: no candidate of the space fits."""


@dataclass
class StudyResult:
    study_name: str
    storage: str
    run_dir: Path
    table: pd.DataFrame
    pareto: list[int]
    n_run: int
    seconds: float
    csv_path: Path
    parquet_path: Path


def make_sampler(config: StudyConfig, seed: int):
    import optuna
    s = config.sampler
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if s.name == "nsga2":
            return optuna.samplers.NSGAIISampler(population_size=s.population_size, seed=seed)
        if s.name in ("tpe", "motpe"):
            # multivariate+group models the conditional per-layer parameters jointly
            # constant_liar: a worker's sampler treats the trials running elsewhere as already bad,
            # so workers that ask at the same time spread out instead of drawing one candidate
            return optuna.samplers.TPESampler(n_startup_trials=s.n_startup_trials, seed=seed,
                                              multivariate=True, group=True, constant_liar=True)
        return optuna.samplers.RandomSampler(seed=seed)


def _storage_failure(exc: Exception, storage: StorageURL) -> FatalError:
    return disk_error(exc, f"the study storage {storage.redacted}") or connection_problem(exc, storage) \
        or FatalError(f"cannot open the study storage {storage.redacted}: {type(exc).__name__}: "
                      f"{str(exc).splitlines()[0]}; check the URL, or pass --storage sqlite:///<writable path>.db")


def _identity(config: StudyConfig, seed: int) -> dict:
    """What makes earlier trials comparable with new ones: it must not change on --resume or join."""
    b = config.budget
    identity = {"objectives": [o.metric for o in config.objectives], "directions": config.directions,
                "dataset": config.dataset.name, "seed": seed, "search_space": config.search_space_text,
                "budget": {"part": b.part.name, "clock_ns": b.clock_ns, "max_lut": b.max_lut, "max_ff": b.max_ff,
                           "max_dsp": b.max_dsp, "max_bram": b.max_bram, "max_latency_ns": b.max_latency_ns,
                           "max_ii": b.max_ii},
                "training": dict(config.training),
                "pipeline": None if config.pipeline is None else config.pipeline.to_dict()}
    return json.loads(json.dumps(identity, default=str))  # as the storage gives it back


def _short(value, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _identity_check(config: StudyConfig, seed: int, url: str, join: bool) -> Callable:
    identity = _identity(config, seed)

    def check(study) -> None:
        attrs = study.user_attrs
        changed = [k for k in identity if k in attrs and attrs[k] != identity[k]]
        if not changed:
            return
        source = attrs.get("study_file") or "its original study file"
        fix = (f"Start the worker with the study's own file ({source}) and seed"
               if join else "Resume with the original settings")
        raise FatalError(f"study {config.name!r} in {url} was run with "
                         + ", ".join(f"{k}={_short(attrs.get(k))}" for k in changed) + "; now "
                         + ", ".join(f"{k}={_short(identity[k])}" for k in changed)
                         + f": its trials would not be comparable. {fix}, "
                         "or start a new study with another name, --out or --storage")
    return check


def _open_study(config: StudyConfig, storage: StorageURL, optuna_storage, run_dir: Path, resume: bool,
                join: bool, seed: int, sampler_seed: int, check: Callable, echo: Callable[[str], None]):
    """Load the study (checking it is the same study) or create it; nothing is written on a mismatch."""
    import optuna
    url = storage.redacted
    try:
        summaries = {s.study_name: s for s in optuna.get_all_study_summaries(optuna_storage,
                                                                              include_best_trial=False)}
    except Exception as exc:  # SQLAlchemy/driver errors have no common base worth importing
        raise _storage_failure(exc, storage) from exc
    existing = summaries.get(config.name)
    n_existing = existing.n_trials if existing else 0
    if n_existing and not (resume or join):
        raise FatalError(f"study {config.name!r} already has {n_existing} trials in {url}; continue it "
                         "with --resume, or start afresh with another --out (or --storage)")
    if resume and existing is None:
        echo(f"qnas run: nothing to resume: no study {config.name!r} in {url}; starting a new one")
    # A resumed sampler gets a fresh seed derived from the trial count, so it does not replay
    # (and duplicate) the candidates drawn before the interruption; reruns stay reproducible.
    sampler = make_sampler(config, (sampler_seed + n_existing) % 2**32)
    try:
        if existing is not None:
            study = optuna.load_study(study_name=config.name, storage=optuna_storage, sampler=sampler)
            if n_existing:
                check(study)
        else:
            study = optuna.create_study(study_name=config.name, storage=optuna_storage,
                                        directions=config.directions, sampler=sampler, load_if_exists=True)
    except QnasError:
        raise
    except Exception as exc:
        raise _storage_failure(exc, storage) from exc
    if n_existing == 0 or not any(k in study.user_attrs for k in ("objectives", "search_space")):
        # a study without trials (e.g. its data was refused) binds nothing: this run's settings win
        # plus what later stages (export, synthesis) need to read the study without the YAML
        for key, value in {**_identity(config, seed), "part": config.budget.part.name,
                           "clock_ns": config.budget.clock_ns, "run_dir": str(run_dir.resolve()),
                           "study_file": str(Path(config.source).resolve()) if config.source else ""}.items():
            study.set_user_attr(key, value)
    check(study)  # a worker that created the study at the same moment with another file loses here
    return study


def _recover(study, storage: StorageURL, echo: Callable[[str], None]) -> None:
    """Mark trials left RUNNING by a dead run as failed; queue candidates cut short by Ctrl-C again.

    On SQLite this run holds the study's lock, so every RUNNING trial is a dead run's. On a
    shared storage a RUNNING trial may be a live worker's: only those whose heartbeat
    stopped are failed (by the claimer, before each trial), never a live one.
    """
    import optuna
    from optuna.trial import TrialState
    trials = study.get_trials(deepcopy=False)
    if not storage.shared:
        for t in trials:
            if t.state == TrialState.RUNNING:
                live = optuna.trial.Trial(study, t._trial_id)
                live.set_user_attr("reason", "was running when the previous run stopped; marked failed on resume")
                live.set_user_attr("interrupted", True)
                study.tell(t.number, state=TrialState.FAIL)
                echo(f"qnas run: trial {t.number} was left running by the previous run; marked failed")
        trials = study.get_trials(deepcopy=False)
    retried = replaced_numbers(trials)
    for t in trials:
        if t.state == TrialState.FAIL and t.user_attrs.get("interrupted") and t.number not in retried:
            study.enqueue_trial(t.params, user_attrs={"retry_of": t.number})
            echo(f"qnas run: queued the candidate of interrupted trial {t.number} again")


def pareto_trial_numbers(study) -> list[int]:
    """The study's Pareto-optimal feasible trials, one per distinct design (what export takes)."""
    return _distinct_designs(study.best_trials)


def _distinct_designs(trials) -> list[int]:
    """Trial numbers, one per distinct spec and training recipe (a sampler may draw the same
    candidate twice)."""
    first: dict[str, int] = {}
    for t in sorted(trials, key=lambda t: t.number):
        spec_json = t.user_attrs.get("spec")
        recipe = training_recipe(ModelSpec.from_json(spec_json)) if spec_json else ""
        first.setdefault(t.user_attrs.get("fingerprint", str(t.number)) + recipe, t.number)
    return sorted(first.values())



def _impossible_budget_message(config: StudyConfig, n: int, keys: Counter, producer: str,
                               infeasible: Counter | None = None) -> str:
    b = config.budget
    limits = {"lut": f"max_lut={b.max_lut:g}", "ff": f"max_ff={b.max_ff:g}", "dsp": f"max_dsp={b.max_dsp:g}",
              "bram": f"max_bram={b.max_bram:g}", "latency_ns": f"max_latency_ns={b.max_latency_ns}",
              "ii": f"max_ii={b.max_ii}"}
    if infeasible and sum(infeasible.values()) * 2 > n:  # mostly unrealisable, not over budget
        reason, count = infeasible.most_common(1)[0]
        return (f"the last {n} candidates were all rejected before training; {count} of them could not be "
                f"realised: {reason}. Change the search_space key it names (not the budget)")
    named = ", ".join(f"budget.{limits[k]} ({c}/{n})" for k, c in keys.most_common())
    return (f"the budget looks impossible: the last {n} candidates were all rejected before training "
            f"by the estimator ({producer}) on {b.part.name} at {b.clock_ns:g} ns. Violated: "
            f"{named or 'no valid reuse factor / unrealisable candidate'}. Relax those budget limits or "
            "narrow search_space to smaller candidates (fewer/narrower layers, fewer bits, larger reuse).")


def _baselines(config: StudyConfig, dataset, study, run_dir: Path, echo: Callable[[str], None]) -> list[dict]:
    """Score the study's reference models on its data and budget; kept in the study and the run dir."""
    if not config.baselines:
        return []
    from qnas._io import write_json_atomic

    from .baselines import evaluate_baselines

    refs = evaluate_baselines(config.baselines, dataset, config.budget, config.objectives, config.pipeline)
    study.set_user_attr("baselines", refs)
    write_json_atomic(run_dir / "baselines.json", refs)
    echo(f"qnas run: {len(refs)} reference model(s) scored on {dataset.name}: "
         + ", ".join(r["name"] for r in refs))
    return refs


def _run_trial(study, trial, work: Callable[[], list[float]]) -> tuple[str, Exception | None]:
    """Run one trial and tell Optuna its fate: ("complete" | "rejected" | "failed", exception).

    A FatalError is recorded on the trial (FAIL, with its message) and re-raised; Ctrl-C
    (KeyboardInterrupt) passes through untouched for the caller to handle.
    """
    from optuna.trial import TrialState
    import optuna
    try:
        values = work()
    except InfeasibleCandidate as exc:  # BudgetRejection included: pruned, with the reason
        trial.set_user_attr("reason", exc.reason)
        if isinstance(exc, BudgetRejection):
            trial.set_user_attr("rejected_by", "estimator")
            trial.set_user_attr("estimate", estimate_summary(exc.estimate, "pre-training"))
        else:
            trial.set_user_attr("rejected_by", "infeasible")
        _tell(study, trial, state=TrialState.PRUNED)
        return "rejected", exc
    except Exception as exc:  # CandidateFailed, or a bug/TF error: fail it and go on
        if isinstance(exc, optuna.exceptions.UpdateFinishedTrialError) or is_connection_error(exc):
            raise  # not the candidate's fault: the caller decides (another worker took it, server away)
        trial.set_user_attr("reason", f"{type(exc).__name__}: {exc}")
        trial.set_user_attr("traceback", traceback.format_exc())
        _tell(study, trial, state=TrialState.FAIL)
        if isinstance(exc, FatalError):
            raise
        return "failed", exc
    _tell(study, trial, values)
    return "complete", None


def _tell(study, trial, values=None, state=None) -> None:
    """``study.tell``; a trial another worker already failed (declared lost) raises UpdateFinishedTrialError."""
    import optuna
    try:
        study.tell(trial, values, state=state)
    except ValueError:
        if study._storage.get_trial(trial._trial_id).state.is_finished():
            raise optuna.exceptions.UpdateFinishedTrialError(
                f"trial {trial.number} was finished by another worker") from None
        raise


@dataclass
class OpenedStudy:
    """A study ready for trials: storage, lock (SQLite) and the checks a worker repeats."""

    config: StudyConfig
    storage: StorageURL
    optuna_storage: object
    study: object
    run_dir: Path
    n_total: int
    seed: int
    check: Callable
    lock: SQLiteRunLock | None

    def close(self) -> None:
        if self.lock is not None:
            self.lock.release()


def open_study(config: StudyConfig, *, n_trials: int | None = None, storage: str | None = None,
               resume: bool = False, join: bool = False, out: str | Path | None = None,
               seed: int | None = None, worker_index: int | None = None,
               heartbeat_s: int = DEFAULT_HEARTBEAT_S, grace_s: int = DEFAULT_GRACE_S,
               max_retries: int = DEFAULT_MAX_RETRIES, echo: Callable[[str], None] = print) -> OpenedStudy:
    """Check the storage URL, connect, and load (same study) or create the study.

    Every check that can fail on user input runs before anything is written: the URL's
    form and driver, the server, the credentials, the study's identity (objectives,
    search space, budget, training, dataset, seed). ``join`` is a worker joining a study
    others may be running (``qnas worker``); its default run directory is the study's own.
    """
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    seed = config.seed if seed is None else seed
    n_total = n_trials if n_trials is not None else config.n_trials
    if n_total < 1:
        raise ConfigError("n_trials", f"must be at least 1; got {n_total}")
    run_dir = Path(out or config.out or Path("runs") / config.name)
    if not (storage or config.storage):  # the default SQLite file lives in the run directory
        ensure_dir(run_dir, "run directory", "pass --out <a writable directory>")
    url = parse_storage_url(storage or config.storage or default_storage(run_dir))
    lock = None
    if url.kind == "sqlite":
        check_storage_writable(url.url)
        path = sqlite_path(url.url)
        if path is not None:
            lock = SQLiteRunLock(path, "qnas worker" if join else "qnas run").acquire()
    try:
        try:
            optuna_storage = url.open(heartbeat_s=heartbeat_s if url.kind == "rdb" else None,
                                      grace_s=grace_s, stale_callback=retry_callback(max_retries))
        except QnasError:
            raise
        except Exception as exc:
            raise _storage_failure(exc, url) from exc
        if join and not out and not config.out:
            run_dir = _stored_run_dir(optuna_storage, config.name, url) or run_dir
        check = _identity_check(config, seed, url.redacted, join)
        sampler_seed = config.sampler.seed if config.sampler.seed is not None else seed
        # workers draw from different streams, or two started together would draw the same candidates
        sampler_seed += 7919 * (worker_index or 0)
        ensure_dir(run_dir, "run directory", "pass --out <a writable directory>")
        study = _open_study(config, url, optuna_storage, run_dir, resume, join, seed, sampler_seed, check, echo)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return OpenedStudy(config, url, optuna_storage, study, run_dir, n_total, seed, check, lock)


def _stored_run_dir(optuna_storage, name: str, url: StorageURL) -> Path | None:
    import optuna
    try:
        if name not in {s.study_name for s in optuna.get_all_study_summaries(optuna_storage)}:
            return None
        stored = optuna.load_study(study_name=name, storage=optuna_storage).user_attrs.get("run_dir")
    except Exception as exc:
        raise _storage_failure(exc, url) from exc
    return Path(stored) if stored else None


def _add_checkpoint_trials(study, runner: TrialRunner, params, distributions) -> None:
    """Record a training's further checkpoints as finished trials with the same parameters.

    They are designs of the candidate Optuna asked for (same parameters, another point of
    its training), so the samplers see every (accuracy, cost) that candidate reached.
    """
    import optuna
    for extra in runner.take_checkpoints():
        study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions, values=extra.values,
                                                  user_attrs=extra.user_attrs, constraints=extra.constraints))


def _hgq2_echo(echo: Callable[[str], None], progress: bool) -> Callable[[str], None] | None:
    """Where the HGQ2 worker's progress lines go (tqdm-safe when the bar is shown)."""
    if not progress:
        return None
    try:
        from tqdm import tqdm
        return lambda line: tqdm.write(f"  {line}")
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return echo


def run_study(config: StudyConfig, *, n_trials: int | None = None, storage: str | None = None,
              resume: bool = False, out: str | Path | None = None, seed: int | None = None,
              trainer: Trainer | None = None, progress: bool = True,
              echo: Callable[[str], None] = print, join: bool = False, worker_index: int | None = None,
              heartbeat_s: int = DEFAULT_HEARTBEAT_S, grace_s: int = DEFAULT_GRACE_S,
              max_retries: int = DEFAULT_MAX_RETRIES, poll_s: float = 1.0) -> StudyResult:
    """Run (or continue, or join) the study until it holds ``n_trials`` finished trials.

    ``n_trials`` counts every finished trial, rejected ones included, except trials whose
    candidate runs again (interrupted by Ctrl-C, or lost with their worker). Any number of
    processes may run this on one shared storage (``join=True`` for all but the first);
    together they meet the budget exactly. ``trainer`` defaults to QKeras training
    (:mod:`nas.training`); tests pass a cheap one to exercise the driver.
    """
    started = time.perf_counter()
    opened = open_study(config, n_trials=n_trials, storage=storage, resume=resume, join=join, out=out,
                        seed=seed, worker_index=worker_index, heartbeat_s=heartbeat_s, grace_s=grace_s,
                        max_retries=max_retries, echo=echo)
    try:
        return _drive(opened, started, trainer=trainer, progress=progress, echo=echo, resume=resume, join=join,
                      heartbeat_s=heartbeat_s, grace_s=grace_s, max_retries=max_retries, poll_s=poll_s,
                      resume_command=_resume_command(config, out, storage, n_trials))
    finally:
        opened.close()


def _resume_command(config: StudyConfig, out, storage, n_trials) -> str:
    return " ".join(["qnas run", str(config.source or "<study.yaml>"), "--resume"]
                    + ([f"--out {out}"] if out else []) + ([f"--storage {storage}"] if storage else [])
                    + ([f"--trials {n_trials}"] if n_trials is not None else []))


def _drive(opened: OpenedStudy, started: float, *, trainer, progress: bool, echo, resume: bool, join: bool,
           heartbeat_s: int, grace_s: int, max_retries: int, poll_s: float, resume_command: str) -> StudyResult:
    import optuna
    from optuna.trial import TrialState
    config, study, run_dir, n_total, url = opened.config, opened.study, opened.run_dir, opened.n_total, opened.storage
    dataset = load_dataset(config.dataset.name, config.dataset.options, opened.seed)
    space = config.search_space
    if dataset.task != space.task:
        raise ConfigError("search_space.family", f"family {space.family!r} builds {space.task} models, but "
                          f"dataset {dataset.name!r} is an {dataset.task} dataset; choose a matching family")
    space.check_dataset_shape(dataset.n_features,
                              dataset.n_classes if dataset.task == "classification" else dataset.n_features)
    references = _baselines(config, dataset, study, run_dir, echo)
    runner = TrialRunner(config, dataset, trainer or trainer_for(config, opened.seed, echo=_hgq2_echo(echo, progress)), run_dir,
                         trained_networks(study.get_trials(deepcopy=False)))
    claimer = Claimer(study, url, opened.optuna_storage, runner, n_total,
                      heartbeat_s=heartbeat_s if url.shared else None, grace_s=grace_s,
                      retry_callback=retry_callback(max_retries), check_identity=opened.check, echo=echo,
                      poll_s=poll_s)
    shape = (dataset.n_features, dataset.n_classes if dataset.task == "classification" else dataset.n_features)
    first = tuple(check_params(space, p, f"first_trials[{i}]", shape) for i, p in enumerate(config.first_trials))
    enqueue_warm_starts(study, config.warm_start, claimer.lock, echo, first)  # under the claim lock: once per study
    if resume or join:
        with claimer.lock():
            _recover(study, url, echo)
    done = budget_state(study.get_trials(deepcopy=False)).counted

    def write() -> pd.DataFrame:
        table = build_table(study.get_trials(deepcopy=False), config.objectives)
        try:
            write_table(table, run_dir)
        except OSError as exc:
            raise (disk_error(exc, f"the results table in {run_dir}") or exc) from exc
        return table

    who = "qnas worker" if join else "qnas run"
    echo(f"{who}: study {config.name!r}: {done}/{n_total} trials done; storage {url.redacted}")
    echo(f"{who}: {space.describe()}; dataset {dataset.name} ({dataset.n_features} features); "
         f"budget {config.budget.part.name} @ {config.budget.clock_ns:g} ns")
    bar = Progress(n_total, min(done, n_total), config.name, disable=not progress)
    n_run, rejections, failures = 0, 0, 0
    rejected_keys: Counter = Counter()
    infeasible: Counter = Counter()
    producer = ""
    pending = None
    with CtrlC() as ctrl_c:  # Ctrl-C stops the run even where its exception gets swallowed
        try:
            while True:
                ctrl_c.check()
                try:
                    claimed, state = claimer.claim()
                except Exception as exc:
                    if url.shared and is_connection_error(exc):
                        claimer.wait_for_server(exc, resume_command)
                        continue
                    raise
                if claimed is None:
                    if state.running == 0:
                        break
                    claimer.idle()  # the last trials run elsewhere; one may be lost and queued again
                    continue
                pending = trial = claimed.trial
                try:
                    if claimed.blocker is not None:
                        claimer.wait_for(claimed.blocker, trial.number)

                    def work(claimed=claimed, trial=trial) -> list[float]:
                        if claimed.draw_error is not None:
                            raise claimed.draw_error
                        return runner.evaluate(trial, claimed.spec)

                    params, distributions = trial.params, trial.distributions
                    outcome, detail = _run_trial(study, trial, work)
                    if outcome == "complete":
                        _add_checkpoint_trials(study, runner, params, distributions)
                except Exception as exc:
                    if isinstance(exc, optuna.exceptions.UpdateFinishedTrialError):
                        echo(f"{who}: trial {trial.number} was declared lost by another worker (no heartbeat "
                             f"for {grace_s} s); its candidate runs again")
                        pending = None
                        continue
                    if url.shared and is_connection_error(exc):
                        pending = None  # left RUNNING: its heartbeat stops, so it is failed and retried
                        claimer.wait_for_server(exc, resume_command)
                        continue
                    raise
                finally:
                    claimed.release()
                if outcome == "complete":
                    rejections = failures = 0
                elif outcome == "rejected":
                    rejections += 1
                    if isinstance(detail, BudgetRejection):
                        rejected_keys.update(detail.violated)
                        producer = detail.estimate.producer
                    else:
                        infeasible[detail.reason[:300]] += 1
                else:
                    failures += 1
                    rejections = 0
                    last_error = f"{type(detail).__name__}: {detail}"
                pending = None
                n_run += 1
                write()
                trials = study.get_trials(deepcopy=False)
                counts = Counter(t.state.name.lower() for t in trials if t.state.is_finished())
                bar.update(best_feasible_label(trials, config.objectives),
                           {"done": counts.get("complete", 0), "rejected": counts.get("pruned", 0),
                            "failed": counts.get("fail", 0)})
                if rejections >= config.max_consecutive_rejections:
                    raise ImpossibleBudget(_impossible_budget_message(config, rejections, rejected_keys,
                                                                      producer or "estimator", infeasible))
                if failures >= MAX_CONSECUTIVE_FAILURES:
                    raise FatalError(f"{failures} trials in a row failed; the last with {last_error}. "
                                     f"See the 'reason' column of {run_dir / 'results.csv'} and the trial "
                                     "tracebacks (user attribute 'traceback') for the cause")
        except KeyboardInterrupt:
            if pending is not None:
                _interrupted(study, pending)
            bar.close()
            write()
            kept = budget_state(study.get_trials(deepcopy=False)).counted
            raise StudyInterrupted(f"interrupted: {kept}/{n_total} trials are kept in {url.redacted}"
                                   + (f"; trial {pending.number} was marked failed and will run again"
                                      if pending is not None else "")
                                   + f". Continue with: {resume_command}", resume_command) from None
        except Exception as exc:
            bar.close()
            with contextlib.suppress(Exception):  # the table is a view of the study; the error matters more
                write()
            fatal = disk_error(exc, f"the study storage {url.redacted}") or connection_problem(exc, url)
            if fatal is not None and not isinstance(exc, QnasError):
                if is_connection_error(exc):  # the finished trials are in the storage
                    fatal = FatalError(f"{fatal}. The finished trials are kept; when the server is back, "
                                       f"continue with: {resume_command}")
                raise fatal from exc
            raise
    bar.close()
    table = write()
    pareto = pareto_trial_numbers(study)
    seconds = time.perf_counter() - started
    echo(f"\nPareto set ({len(pareto)} feasible trials, objectives "
         f"{', '.join(f'{o.metric} ({o.direction})' for o in config.objectives)} on the validation split):")
    echo(format_pareto(table, pareto, config.objectives))
    for ref in references:
        scores = ", ".join(f"{k} {v:,.4g}" for k, v in ref["objectives"].items() if v is not None)
        test = f"; test accuracy {ref['test']['accuracy']:.4f}" if "accuracy" in ref["test"] else ""
        echo(f"reference {ref['name']} ({ref['architecture']}): {scores}{test}")
    echo(f"\n{who}: {n_run} trials in {seconds:.0f} s; results in {run_dir / 'results.csv'} "
         f"(and .parquet); study {config.name!r} in {url.redacted}")
    return StudyResult(config.name, url.redacted, run_dir, table, pareto, n_run, seconds,
                       run_dir / "results.csv", run_dir / "results.parquet")


def _interrupted(study, trial) -> None:
    """Ctrl-C: queue the candidate again first (the budget never dips), then fail the trial."""
    from optuna.trial import TrialState
    if trial.params:
        study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
    trial.set_user_attr("reason", "interrupted by the user (Ctrl-C)")
    trial.set_user_attr("interrupted", True)
    study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
