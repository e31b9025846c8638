"""Locks that make many workers on one study behave like one careful worker.

Two kinds:

* :class:`SQLiteRunLock` - SQLite is the embedded, one-process storage. A run holds an
  advisory lock on ``<db>.lock`` for its whole life, so a second ``qnas run`` (or a
  ``--resume`` while the first is live) is refused with a message naming the live run,
  instead of training every candidate again or failing the live run's trial. The kernel
  drops the lock when the process dies, so a crashed run never blocks a resume.
* :func:`claim_lock` - on a shared storage, the short critical section in which a worker
  fails stale trials, counts the budget, asks for a trial and draws its candidate is
  serialized across all workers: PostgreSQL ``pg_advisory_lock``, MySQL ``GET_LOCK``, and
  for a journal file an ``flock`` beside it. So the budget is met exactly (no worker asks
  past it) and every worker sees the candidates the others are training (no duplicate).
  Server-side locks die with the worker's connection, so a killed worker blocks nobody.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Iterator

from qnas.errors import FatalError

from .storage_url import StorageURL

__all__ = ["SQLiteRunLock", "claim_lock", "worker_id"]


def worker_id() -> str:
    """``host:pid`` of this process, recorded on every trial it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


class SQLiteRunLock:
    """Exclusive advisory lock on ``<db>.lock`` held while a run uses a SQLite study."""

    def __init__(self, db_path: Path, what: str = "qnas run"):
        self.path = Path(str(db_path) + ".lock")
        self.what = what
        self._fh = None

    def acquire(self) -> "SQLiteRunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            holder = _holder(fh.read())
            fh.close()
            db = str(self.path)[:-len(".lock")]
            raise FatalError(
                f"the study storage {db} is in use by a live run ({holder}); a SQLite study serves one "
                "process at a time. Wait for that run to finish (or stop it, then continue with --resume), "
                "or run several workers on a shared storage: --storage postgresql://... or "
                "journal:///<shared path>.log (README: 'Many workers')") from None
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"worker": worker_id(), "since": time.strftime("%Y-%m-%d %H:%M:%S"),
                             "what": self.what}))
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.seek(0)
                self._fh.truncate()
            self._fh.close()  # closing drops the flock
            self._fh = None

    def __enter__(self) -> "SQLiteRunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _holder(text: str) -> str:
    try:
        data = json.loads(text)
        return f"{data['what']} by {data['worker']} since {data['since']}"
    except (ValueError, KeyError, TypeError):
        return "another process"


def _lock_key(study_name: str) -> int:
    """A signed 64-bit key for ``pg_advisory_lock``, the same in every worker of a study."""
    digest = hashlib.sha256(f"qnas:{study_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def claim_lock(storage: StorageURL, optuna_storage, study_name: str, timeout_s: float = 600) -> Iterator[None]:
    """Hold the study's cross-worker claim lock (no-op for SQLite, which one run owns)."""
    if storage.kind == "sqlite":
        yield
        return
    if storage.kind == "journal":
        path = Path(str(storage.journal_path) + ".claim")
        with open(path, "a") as fh:
            _flock_with_timeout(fh, timeout_s, path)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    import sqlalchemy
    engine = optuna_storage.engine
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sqlalchemy.text(f"SET lock_timeout = '{int(timeout_s * 1000)}ms'"))
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": _lock_key(study_name)})
            release = sqlalchemy.text("SELECT pg_advisory_unlock(:k)").bindparams(k=_lock_key(study_name))
        elif engine.dialect.name in ("mysql", "mariadb"):
            name = f"qnas:{study_name}"[:64]
            got = conn.execute(sqlalchemy.text("SELECT GET_LOCK(:n, :t)"), {"n": name, "t": int(timeout_s)}).scalar()
            if got != 1:
                raise FatalError(f"waited {timeout_s:.0f} s for the claim lock of study {study_name!r} on "
                                 f"{storage.redacted}; another worker holds it - is one stuck?")
            release = sqlalchemy.text("SELECT RELEASE_LOCK(:n)").bindparams(n=name)
        else:  # another SQLAlchemy dialect: no server lock; Optuna's own transactions only
            release = None
        conn.commit()
        try:
            yield
        finally:
            if release is not None:
                with contextlib.suppress(Exception):  # a dead connection has released it already
                    conn.execute(release)
                    conn.commit()


def _flock_with_timeout(fh, timeout_s: float, path: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise FatalError(f"waited {timeout_s:.0f} s for the claim lock {path}; another worker holds it "
                                 "- is one stuck? (the shared filesystem must support flock)") from None
            time.sleep(0.05)
