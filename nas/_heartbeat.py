"""Heartbeats: a worker that dies mid-trial has its trial failed and its candidate retried.

Optuna's RDB storage keeps heartbeats and fails stale trials, but only inside
``study.optimize``; the qnas driver uses ask/tell (the raised exception decides a trial's
fate, see :mod:`nas.study`), so it does the two steps itself with Optuna's own pieces:
``storage.record_heartbeat`` from a thread while a trial runs, and
``optuna.storages.fail_stale_trials`` before each new trial, whose callback
(``RetryHeartbeatStaleTrialCallback``) queues the candidate again, at most ``max_retries``
times. Optuna's JournalStorage has no heartbeat, so there the lease is a trial user
attribute (``heartbeat_at``, seconds since the epoch) that the same thread renews; the
workers' clocks must then agree to well within the grace period.
"""

from __future__ import annotations

import threading
import time
import warnings

from .storage_url import StorageURL

__all__ = ["TrialHeartbeat", "fail_stale_trials", "retry_callback", "LEASE_ATTR"]

LEASE_ATTR = "heartbeat_at"


def retry_callback(max_retries: int):
    """Optuna's stale-trial callback: queue the lost candidate again, ``max_retries`` times at most."""
    import optuna
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retries)


class TrialHeartbeat:
    """While active, renews the running trial's heartbeat every ``interval_s`` from a thread.

    The first beat is written at once (inside the claim lock), so no other worker can
    mistake a just-started trial for a lost one. Errors (a database restarting) are
    swallowed: the next beat tries again, and the trial's own storage calls report them.
    """

    def __init__(self, storage: StorageURL, optuna_storage, trial_id: int, interval_s: float):
        self._storage = storage
        self._optuna_storage = optuna_storage
        self._trial_id = trial_id
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        if self._storage.kind == "journal":
            self._optuna_storage.set_trial_user_attr(self._trial_id, LEASE_ATTR, time.time())
        else:
            self._optuna_storage.record_heartbeat(self._trial_id)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.beat()
            except Exception:  # finished meanwhile, or the server is away: try again next time
                continue

    def __enter__(self) -> "TrialHeartbeat":
        self.beat()
        self._thread = threading.Thread(target=self._loop, name=f"qnas-heartbeat-{self._trial_id}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._interval + 5)


def _start_the_clock_of_unbeaten(optuna_storage, running: dict[int, int]) -> None:
    """Give every RUNNING trial that has no heartbeat row one beat now, on the server's clock.

    Optuna judges staleness from heartbeat rows only, so a trial whose first beat never
    landed (its worker lost the server between ``ask`` and that beat, or died there) would stay
    RUNNING forever and hold a budget slot: every worker would wait for it. A claimed trial gets
    its first beat inside the claim lock, which this runs under too, so a trial still without a
    row here is such an orphan; one beat starts its grace period, and if no worker renews it,
    Optuna fails it after ``grace_s`` and the retry callback queues its candidate again.
    """
    import sqlalchemy
    from optuna.storages._rdb.models import TrialHeartbeatModel  # Optuna's schema: trial_heartbeats

    table = TrialHeartbeatModel.__table__
    with optuna_storage.engine.connect() as conn:
        beaten = {row[0] for row in conn.execute(
            sqlalchemy.select(table.c.trial_id).where(table.c.trial_id.in_(list(running))))}
    for trial_id in running.keys() - beaten:
        optuna_storage.record_heartbeat(trial_id)


def fail_stale_trials(study, storage: StorageURL, optuna_storage, grace_s: float, callback) -> list[int]:
    """Fail the running trials whose worker stopped beating; returns their numbers."""
    import optuna
    from optuna.trial import TrialState
    running = {t._trial_id: t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    if not running:
        return []
    if storage.kind == "rdb":
        _start_the_clock_of_unbeaten(optuna_storage, running)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
        after = {t._trial_id for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
        return sorted(n for tid, n in running.items() if tid not in after)
    if storage.kind != "journal":
        return []
    failed = []
    now = time.time()
    for t in study.get_trials(deepcopy=True, states=(TrialState.RUNNING,)):
        beat = t.user_attrs.get(LEASE_ATTR)
        if beat is None:  # died before its first beat: judge it by its start
            beat = t.datetime_start.timestamp() if t.datetime_start else now
        if now - float(beat) <= grace_s:
            continue
        try:
            changed = optuna_storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
        if changed:
            failed.append(t.number)
            callback(study, optuna_storage.get_trial(t._trial_id))
    return failed
