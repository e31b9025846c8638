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

from ._interrupt import CtrlC
from ._progress import Progress, best_feasible_label
from ._storage import check_storage_writable, default_storage, disk_error, ensure_dir, open_storage
from ._trial import QKerasTrainer, Trainer, TrialRunner, trained_networks, trainer_for, training_recipe
from .config import StudyConfig
from .constraints import BudgetRejection, estimate_summary
from .datasets import load_dataset
from .results_table import build_table, format_pareto, write_table

__all__ = ["ImpossibleBudget", "StudyInterrupted", "StudyResult", "make_sampler", "run_study"]

#: stop after this many trials in a row fail (a broken setup, not an unlucky candidate)
MAX_CONSECUTIVE_FAILURES = 5


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
            return optuna.samplers.TPESampler(n_startup_trials=s.n_startup_trials, seed=seed,
                                              multivariate=True, group=True)
        return optuna.samplers.RandomSampler(seed=seed)


def _storage_failure(exc: Exception, url: str) -> FatalError:
    return disk_error(exc, f"the study storage {url}") or FatalError(
        f"cannot open the study storage {url}: {type(exc).__name__}: {str(exc).splitlines()[0]}; "
        "check the URL, or pass --storage sqlite:///<writable path>.db")


def _open_study(config: StudyConfig, url: str, run_dir: Path, resume: bool, seed: int,
                sampler_seed: int, echo: Callable[[str], None]):
    import optuna
    try:
        storage = open_storage(url)
        summaries = {s.study_name: s for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
    except Exception as exc:  # SQLAlchemy/driver errors have no common base worth importing
        raise _storage_failure(exc, url) from exc
    existing = summaries.get(config.name)
    n_existing = existing.n_trials if existing else 0
    if n_existing and not resume:
        raise FatalError(f"study {config.name!r} already has {n_existing} trials in {url}; continue it "
                         "with --resume, or start afresh with another --out (or --storage)")
    if resume and existing is None:
        echo(f"qnas run: nothing to resume: no study {config.name!r} in {url}; starting a new one")
    # A resumed sampler gets a fresh seed derived from the trial count, so it does not replay
    # (and duplicate) the candidates drawn before the interruption; reruns stay reproducible.
    sampler = make_sampler(config, sampler_seed + n_existing)
    try:
        study = optuna.create_study(study_name=config.name, storage=storage, directions=config.directions,
                                    sampler=sampler, load_if_exists=True)
    except Exception as exc:
        raise _storage_failure(exc, url) from exc
    # What makes earlier trials comparable with new ones must not change on --resume.
    identity = {"objectives": [o.metric for o in config.objectives], "directions": config.directions,
                "dataset": config.dataset.name, "seed": seed}
    stored = {k: study.user_attrs[k] for k in identity if k in study.user_attrs}
    if not stored or n_existing == 0:  # a study without trials (e.g. its data was refused) binds nothing
        # plus what later stages (export, synthesis) need to read the study without the YAML
        for key, value in {**identity, "part": config.budget.part.name, "clock_ns": config.budget.clock_ns,
                           "run_dir": str(run_dir.resolve()), "study_file": str(config.source or "")}.items():
            study.set_user_attr(key, value)
    else:
        changed = [k for k in identity if stored.get(k) != identity[k]]
        if changed:
            raise FatalError(f"study {config.name!r} in {url} was run with "
                             + ", ".join(f"{k}={stored.get(k)!r}" for k in changed) + "; now "
                             + ", ".join(f"{k}={identity[k]!r}" for k in changed)
                             + ": its trials would not be comparable. Resume with the original settings, "
                             "or start a new study with another --out/--storage")
    return study


def _recover(study, echo: Callable[[str], None]) -> None:
    """Mark trials left RUNNING as failed; queue candidates cut short by Ctrl-C again."""
    import optuna
    from optuna.trial import TrialState
    trials = study.get_trials(deepcopy=False)
    for t in trials:
        if t.state == TrialState.RUNNING:
            live = optuna.trial.Trial(study, t._trial_id)
            live.set_user_attr("reason", "was running when the previous run stopped; marked failed on resume")
            live.set_user_attr("interrupted", True)
            study.tell(t.number, state=TrialState.FAIL)
            echo(f"qnas run: trial {t.number} was left running by the previous run; marked failed")
    trials = study.get_trials(deepcopy=False)
    retried = {t.user_attrs.get("retry_of") for t in trials}
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


def _counts_toward_total(trial) -> bool:
    """Finished trials Optuna asked for; a training's further checkpoints are extra designs."""
    return (trial.state.is_finished() and not trial.user_attrs.get("interrupted")
            and "checkpoint_of" not in trial.user_attrs)


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

    refs = evaluate_baselines(config.baselines, dataset, config.budget, config.objectives)
    study.set_user_attr("baselines", refs)
    write_json_atomic(run_dir / "baselines.json", refs)
    echo(f"qnas run: {len(refs)} reference model(s) scored on {dataset.name}: "
         + ", ".join(r["name"] for r in refs))
    return refs


def _run_trial(study, runner: TrialRunner, trial) -> tuple[str, Exception | None]:
    """Run one trial and tell Optuna its fate: ("complete" | "rejected" | "failed", exception).

    A FatalError is recorded on the trial (FAIL, with its message) and re-raised; Ctrl-C
    (KeyboardInterrupt) passes through untouched for the caller to handle.
    """
    from optuna.trial import TrialState
    try:
        values = runner.run(trial)
    except InfeasibleCandidate as exc:  # BudgetRejection included: pruned, with the reason
        trial.set_user_attr("reason", exc.reason)
        if isinstance(exc, BudgetRejection):
            trial.set_user_attr("rejected_by", "estimator")
            trial.set_user_attr("estimate", estimate_summary(exc.estimate, "pre-training"))
        else:
            trial.set_user_attr("rejected_by", "infeasible")
        study.tell(trial, state=TrialState.PRUNED)
        return "rejected", exc
    except Exception as exc:  # CandidateFailed, or a bug/TF error: fail it and go on
        trial.set_user_attr("reason", f"{type(exc).__name__}: {exc}")
        trial.set_user_attr("traceback", traceback.format_exc())
        study.tell(trial, state=TrialState.FAIL)
        if isinstance(exc, FatalError):
            raise
        return "failed", exc
    params, distributions = trial.params, trial.distributions
    study.tell(trial, values)
    _add_checkpoint_trials(study, runner, params, distributions)
    return "complete", None


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
              echo: Callable[[str], None] = print) -> StudyResult:
    """Run (or continue) the study until it holds ``n_trials`` finished trials.

    ``n_trials`` counts every finished trial, rejected ones included, except trials that
    were interrupted (their candidate is run again). ``trainer`` defaults to QKeras
    training (:mod:`nas.training`); tests pass a cheap one to exercise the driver.
    """
    import optuna
    from optuna.trial import TrialState
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = time.perf_counter()
    seed = config.seed if seed is None else seed
    n_total = n_trials if n_trials is not None else config.n_trials
    if n_total < 1:
        raise ConfigError("n_trials", f"must be at least 1; got {n_total}")
    run_dir = ensure_dir(Path(out or config.out or Path("runs") / config.name), "run directory",
                         "pass --out <a writable directory>")
    url = storage or config.storage or default_storage(run_dir)
    check_storage_writable(url)
    sampler_seed = config.sampler.seed if config.sampler.seed is not None else seed
    study = _open_study(config, url, run_dir, resume, seed, sampler_seed, echo)
    if resume:
        _recover(study, echo)
    dataset = load_dataset(config.dataset.name, config.dataset.options, seed)
    space = config.search_space
    if dataset.task != space.task:
        raise ConfigError("search_space.family", f"family {space.family!r} builds {space.task} models, but "
                          f"dataset {dataset.name!r} is an {dataset.task} dataset; choose a matching family")
    space.check_dataset_shape(dataset.n_features,
                              dataset.n_classes if dataset.task == "classification" else dataset.n_features)
    references = _baselines(config, dataset, study, run_dir, echo)
    if config.warm_start and not study.get_trials(deepcopy=False):
        for ref, params in config.warm_start:
            study.enqueue_trial(params, user_attrs={"warm_start": str(ref.path)})
            echo(f"qnas run: warm start: the first trial is {ref.name} ({ref.spec.architecture})")
    runner = TrialRunner(config, dataset, trainer or trainer_for(config, seed, echo=_hgq2_echo(echo, progress)), run_dir,
                         trained_networks(study.get_trials(deepcopy=False)))
    done = sum(_counts_toward_total(t) for t in study.get_trials(deepcopy=False))
    resume_command = " ".join(
        ["qnas run", str(config.source or "<study.yaml>"), "--resume"]
        + ([f"--out {out}"] if out else []) + ([f"--storage {storage}"] if storage else [])
        + ([f"--trials {n_trials}"] if n_trials is not None else []))

    def write() -> pd.DataFrame:
        table = build_table(study.get_trials(deepcopy=False), config.objectives)
        try:
            write_table(table, run_dir)
        except OSError as exc:
            raise (disk_error(exc, f"the results table in {run_dir}") or exc) from exc
        return table

    echo(f"qnas run: study {config.name!r}: {done}/{n_total} trials done; storage {url}")
    echo(f"qnas run: {space.describe()}; dataset {dataset.name} ({dataset.n_features} features); "
         f"budget {config.budget.part.name} @ {config.budget.clock_ns:g} ns")
    bar = Progress(n_total, min(done, n_total), config.name, disable=not progress)
    n_run, rejections, failures = 0, 0, 0
    rejected_keys: Counter = Counter()
    infeasible: Counter = Counter()
    producer = ""
    pending = None
    with CtrlC() as ctrl_c:  # Ctrl-C stops the run even where its exception gets swallowed
        try:
            while done + n_run < n_total:
                pending = trial = study.ask()
                outcome, detail = _run_trial(study, runner, trial)
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
                ctrl_c.check()
        except KeyboardInterrupt:
            if pending is not None:
                pending.set_user_attr("reason", "interrupted by the user (Ctrl-C)")
                pending.set_user_attr("interrupted", True)
                study.tell(pending, state=TrialState.FAIL, skip_if_finished=True)
            bar.close()
            write()
            kept = sum(_counts_toward_total(t) for t in study.get_trials(deepcopy=False))
            raise StudyInterrupted(f"interrupted: {kept}/{n_total} trials are kept in {url}"
                                   + (f"; trial {pending.number} was marked failed and will run again"
                                      if pending is not None else "")
                                   + f". Continue with: {resume_command}", resume_command) from None
        except Exception as exc:
            bar.close()
            with contextlib.suppress(Exception):  # the table is a view of the study; the error matters more
                write()
            fatal = disk_error(exc, f"the study storage {url}")
            if fatal is not None and not isinstance(exc, QnasError):
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
    echo(f"\nqnas run: {n_run} trials in {seconds:.0f} s; results in {run_dir / 'results.csv'} "
         f"(and .parquet); study {config.name!r} in {url}")
    return StudyResult(config.name, url, run_dir, table, pareto, n_run, seconds,
                       run_dir / "results.csv", run_dir / "results.parquet")
