"""One worker's share of a study: claim a budget slot and a candidate, then let the driver run it.

Every worker (the one process of a SQLite run, or one of many on PostgreSQL/MySQL/journal)
goes through :meth:`Claimer.claim` before each trial. Inside the study's claim lock it

1. fails trials whose worker stopped beating and queues their candidates again
   (:mod:`nas._heartbeat`),
2. counts the budget in the storage - finished trials that count, plus trials running
   anywhere - so the last slot goes to exactly one worker,
3. asks Optuna for a trial (a queued retry first), starts its heartbeat and draws its
   candidate, so the next worker's sampler already sees it (TPE's constant liar) and the
   next worker's fingerprint check finds it.

A candidate whose network another worker is training right now is not trained twice: the
trial waits for that one and then takes its weights (``weights_from``), as a single run does.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from dataclasses import dataclass
from typing import Callable, Sequence

from qnas.errors import FatalError
from qnas.spec import ModelSpec

from ._claim import claim_lock, worker_id
from ._heartbeat import TrialHeartbeat, fail_stale_trials
from ._trial import network_key
from .storage_url import StorageURL, connection_problem, is_connection_error

__all__ = ["BudgetState", "Claimed", "Claimer", "budget_state", "replaced_numbers"]


def replaced_numbers(trials: Sequence) -> set[int]:
    """Trials whose candidate was queued again (after Ctrl-C or a lost worker)."""
    out: set[int] = set()
    for t in trials:
        origin = t.user_attrs.get("retry_of")
        if origin is not None:
            out.add(int(origin))
        out.update(int(n) for n in t.system_attrs.get("retry_history", ()))
    return out


def counts_toward_total(trial, replaced: set[int]) -> bool:
    """Finished, and not a trial whose candidate runs again (interrupted, or lost and retried),
    nor a further checkpoint of a training (``checkpoint_of``: an extra design, not a candidate)."""
    return (trial.state.is_finished() and not trial.user_attrs.get("interrupted") and trial.number not in replaced
            and "checkpoint_of" not in trial.user_attrs)


@dataclass(frozen=True)
class BudgetState:
    counted: int
    running: int
    waiting: int


def budget_state(trials: Sequence) -> BudgetState:
    replaced = replaced_numbers(trials)
    counted = sum(counts_toward_total(t, replaced) for t in trials)
    running = sum(t.state.name == "RUNNING" for t in trials)
    waiting = sum(t.state.name == "WAITING" for t in trials)
    return BudgetState(counted, running, waiting)


@dataclass
class Claimed:
    trial: object
    heartbeat: object  # a context manager; entered already
    spec: ModelSpec | None
    draw_error: Exception | None
    blocker: object | None  # FrozenTrial training the same network elsewhere

    def release(self) -> None:
        """Stop the trial's heartbeat (after Optuna was told its fate)."""
        self.heartbeat.__exit__(None, None, None)


class Claimer:
    """Claims trials for this worker; knows the storage, the budget and the heartbeat settings."""

    def __init__(self, study, storage: StorageURL, optuna_storage, runner, n_total: int, *,
                 heartbeat_s: int | None, grace_s: int, retry_callback, check_identity: Callable,
                 echo: Callable[[str], None], poll_s: float = 1.0, reconnect_s: float = 120.0):
        self.study = study
        self.storage = storage
        self.optuna_storage = optuna_storage
        self.runner = runner
        self.n_total = n_total
        self.heartbeat_s = heartbeat_s
        self.grace_s = grace_s
        self.retry_callback = retry_callback
        self.check_identity = check_identity
        self.echo = echo
        self.poll_s = poll_s
        self.reconnect_s = reconnect_s
        self.me = worker_id()

    def lock(self):
        return claim_lock(self.storage, self.optuna_storage, self.study.study_name)

    def _fail_stale(self) -> None:
        if self.heartbeat_s is None:
            return
        for number in fail_stale_trials(self.study, self.storage, self.optuna_storage, self.grace_s,
                                        self.retry_callback):
            self.echo(f"qnas: trial {number} lost its worker (no heartbeat for {self.grace_s} s); marked "
                      "failed, its candidate is queued again")

    def claim(self) -> tuple[Claimed | None, BudgetState]:
        """A claimed trial, or None when the budget is taken (finished or running elsewhere)."""
        with self.lock():
            self._fail_stale()
            self.check_identity(self.study)
            trials = self.study.get_trials(deepcopy=False)
            state = budget_state(trials)
            if state.counted + state.running >= self.n_total:
                return None, state
            with warnings.catch_warnings():  # Optuna: "heartbeat is supposed to be used with optimize"
                warnings.simplefilter("ignore", UserWarning)
                trial = self.study.ask()
            # If the server goes away from here to the first beat, the trial is left RUNNING without
            # a heartbeat; fail_stale_trials gives such orphans a grace period of their own.
            trial.set_user_attr("worker", self.me)
            heartbeat = (TrialHeartbeat(self.storage, self.optuna_storage, trial._trial_id, self.heartbeat_s)
                         if self.heartbeat_s is not None else contextlib.nullcontext())
            heartbeat.__enter__()
            try:
                spec, error, blocker = None, None, None
                try:
                    spec = self.runner.draw(trial)
                except Exception as exc:  # the driver tells Optuna the trial's fate from it
                    error = exc
                # A family that learns the precision trains every draw anew: a point drawn again
                # (TPE and random draws repeat in a small space) trains from another seed, so a
                # repeat adds a new front instead of waiting to copy the first one.
                if spec is not None and self.runner.learns_precision:
                    repeat = sum(t.number < trial.number and t.params == trial.params
                                 and "checkpoint_of" not in t.user_attrs and t.state.name in ("COMPLETE", "RUNNING")
                                 for t in trials)
                    if repeat:
                        spec = self.runner.repeat(trial, spec, repeat)
                elif spec is not None:
                    self.runner.learn(trials)
                    key = network_key(spec)
                    blocker = next((t for t in trials if t.state.name == "RUNNING" and t.number != trial.number
                                    and t.user_attrs.get("network_key") == key
                                    and key not in self.runner.networks), None)
            except BaseException:  # nobody will release it: a beating orphan would hold its slot forever
                heartbeat.__exit__(None, None, None)
                raise
            return Claimed(trial, heartbeat, spec, error, blocker), state

    def wait_for(self, blocker, number: int) -> None:
        """Wait while another worker trains the same network, then learn its weights."""
        from optuna.trial import TrialState
        self.echo(f"qnas: trial {number} has the network trial {blocker.number} is training on "
                  f"{blocker.user_attrs.get('worker', 'another worker')}; waiting to reuse its weights")
        while True:
            time.sleep(self.poll_s)
            with self.lock():
                self._fail_stale()
                current = self.optuna_storage.get_trial(blocker._trial_id)
            if current.state != TrialState.RUNNING:
                break
        self.runner.learn(self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))

    def idle(self) -> None:
        """The budget is taken but trials still run elsewhere: wait, in case one is lost."""
        time.sleep(max(self.poll_s, 0.2))

    def wait_for_server(self, exc: BaseException, resume_command: str) -> None:
        """After a lost connection: wait for the server to come back, else stop with the fix."""
        problem = connection_problem(exc, self.storage)
        deadline = time.monotonic() + self.reconnect_s
        self.echo(f"qnas: lost the connection to {self.storage.redacted}; retrying for "
                  f"{self.reconnect_s:.0f} s")
        while time.monotonic() < deadline:
            time.sleep(min(2.0, self.reconnect_s))
            try:
                self.study.get_trials(deepcopy=False)
            except Exception as again:  # still away
                if not is_connection_error(again):
                    raise
                continue
            self.echo(f"qnas: reconnected to {self.storage.redacted}")
            return
        message = str(problem) if problem else f"lost the connection to {self.storage.redacted}"
        raise FatalError(f"{message}. The finished trials are kept; when the server is back, continue "
                         f"with: {resume_command}") from exc
