"""Where a study lives on disk, and the errors a disk can give, turned into one clear message."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from qnas.errors import FatalError

_SQLITE = "sqlite:///"


#: the study of a run directory: SQLite for one process, an Optuna journal for local workers
SQLITE_NAME = "study.db"
JOURNAL_NAME = "study.log"


def run_dir_storage(run_dir: Path) -> str | None:
    """The storage URL of the study already in ``run_dir`` (its study.db or study.log), else None."""
    run_dir = Path(run_dir).resolve()
    if (run_dir / SQLITE_NAME).exists():
        return f"{_SQLITE}{run_dir / SQLITE_NAME}"
    if (run_dir / JOURNAL_NAME).exists():
        return f"journal:///{str(run_dir / JOURNAL_NAME).lstrip('/')}"
    return None


def default_storage(run_dir: Path, workers: int = 1) -> str:
    """Where a run keeps its study when no storage is named.

    The study already in the run directory wins (so ``--resume`` finds it, whichever way it
    was started). A new run by one process uses SQLite (``study.db``); ``workers > 1``
    local processes share an Optuna journal file (``study.log``: JournalFileBackend takes a
    file lock per write, made for several processes on one filesystem, which SQLite is not).
    """
    found = run_dir_storage(run_dir)
    if found is not None:
        return found
    if workers > 1:
        return f"journal:///{str(Path(run_dir).resolve() / JOURNAL_NAME).lstrip('/')}"
    return f"{_SQLITE}{Path(run_dir).resolve() / SQLITE_NAME}"


def sqlite_path(url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL (None for other backends or in-memory)."""
    if not url.startswith(_SQLITE):
        return None
    path = url[len(_SQLITE):].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def open_storage(url: str):
    """An Optuna storage for ``url``; SQLite files get WAL journaling with normal sync.

    Optuna commits every parameter and attribute separately (~50 commits a trial); with
    SQLite's default rollback journal each one is an fsync, which costs more than a
    trial's estimate on a busy disk. WAL + ``synchronous=NORMAL`` keeps every committed
    trial across a crash of the process (only an OS crash or power cut can lose the last
    commits) and lets ``optuna-dashboard`` read while the study writes.
    """
    import optuna
    path = sqlite_path(url)
    if path is None:
        return url

    def connect():
        import sqlite3
        conn = sqlite3.connect(str(path), timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    return optuna.storages.RDBStorage(url, engine_kwargs={"creator": connect})


def ensure_dir(path: Path, what: str, fix: str) -> Path:
    """Create ``path`` (and parents) or stop with a message naming it and the fix."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FatalError(f"cannot create the {what} {path}: {exc.strerror}; {fix}") from None
    if not os.access(path, os.W_OK):
        raise FatalError(f"the {what} {path} is not writable; {fix}")
    return path


def check_storage_writable(url: str) -> None:
    """For SQLite, make the database's folder exist and be writable before Optuna touches it."""
    path = sqlite_path(url)
    if path is None:
        return
    fix = "pass --storage sqlite:///<a writable path>.db (or --out <writable dir>)"
    ensure_dir(path.parent if str(path.parent) else Path("."), "storage directory", fix)
    if path.exists() and not os.access(path, os.W_OK):
        raise FatalError(f"the study storage {path} is read-only; {fix}")


def exception_chain(exc: BaseException, limit: int = 32) -> list[BaseException]:
    """``exc`` and what it was raised from or during (``__cause__``/``__context__``), outermost first.

    Storage errors arrive wrapped: Optuna's StorageInternalError around SQLAlchemy's
    OperationalError around sqlite3's error, the OSError (ENOSPC) at the bottom.
    """
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(chain) < limit:
        chain.append(current)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return chain


def disk_error(exc: BaseException, what: str) -> FatalError | None:
    """A FatalError for a full/read-only disk anywhere in ``exc``'s chain (OSError or storage error)."""
    chain = exception_chain(exc)
    for link in chain:
        text = str(link).lower()
        if isinstance(link, OSError) and link.errno == errno.ENOSPC or "disk is full" in text \
                or "no space left" in text:
            return FatalError(f"the disk is full while writing {what}; free some space, then continue "
                              "the study with --resume (completed trials are kept)")
    for link in chain:
        text = str(link).lower()
        if isinstance(link, OSError) and link.errno in (errno.EROFS, errno.EACCES, errno.EPERM) \
                or "readonly database" in text or "read-only" in text:
            first = str(link).splitlines()[0][:300] if str(link) else type(link).__name__
            return FatalError(f"cannot write {what}: {first}; make it writable or choose another "
                              "--out/--storage, then continue with --resume")
    return None
