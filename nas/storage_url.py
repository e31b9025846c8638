"""Storage URLs: which Optuna storage a study lives in, and one clear message when it cannot open.

A study is an ordinary Optuna study; the URL says where:

``sqlite:///runs/x/study.db``
    the embedded default, for one process at a time (a live run holds a lock on it; see
    :mod:`nas._claim`).
``postgresql://user:password@host:5432/db`` (or ``mysql://...``)
    Optuna's RDB storage through SQLAlchemy, for many workers on many machines. Heartbeats
    let a lost worker's trial be failed and retried.
``journal:///shared/path/study.log``
    Optuna's JournalStorage on a shared filesystem (no server needed). Optuna keeps no
    heartbeat there, so qnas writes a lease into the journal (user attribute
    ``heartbeat_at``); the workers' clocks must agree to within the grace period.

Driver names follow SQLAlchemy: ``postgresql://`` uses psycopg2 if installed, else
psycopg 3 (``pip install 'qnas[distributed]'``).
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from qnas.errors import FatalError, ToolNotFound

__all__ = ["StorageURL", "parse_storage_url", "open_storage_url", "connection_problem", "is_connection_error",
           "SCHEMES"]

#: what the user may write before ``://`` (SQLAlchemy dialect[+driver], or journal)
SCHEMES = ("sqlite", "postgresql", "mysql", "mariadb", "journal")
_TYPOS = {"postgres": "postgresql", "psql": "postgresql", "pg": "postgresql", "pgsql": "postgresql",
          "postgre": "postgresql", "sqlite3": "sqlite", "file": "journal"}
#: Python drivers SQLAlchemy knows, by dialect, in the order qnas prefers them
_DRIVERS = {"postgresql": (("psycopg2", "psycopg2"), ("psycopg", "psycopg")),
            "mysql": (("pymysql", "pymysql"), ("mysqldb", "MySQLdb")),
            "mariadb": (("pymysql", "pymysql"), ("mysqldb", "MySQLdb"))}
_INSTALL = {"postgresql": "pip install 'qnas[distributed]' (psycopg 3)",
            "mysql": "pip install pymysql", "mariadb": "pip install pymysql"}
_FORMS = ("sqlite:///path/study.db, postgresql://user:password@host:5432/db, "
          "mysql://user:password@host/db, journal:///shared/path/study.log")
#: seconds to wait for a database server before saying it is unreachable
CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class StorageURL:
    """A checked storage URL: ``url`` as given, ``sqlalchemy_url`` with the driver chosen."""

    url: str
    kind: str  # "sqlite" | "rdb" | "journal"
    sqlalchemy_url: str = ""
    journal_path: Path | None = None

    @property
    def shared(self) -> bool:
        """Whether several processes may work on one study here at once."""
        return self.kind != "sqlite"

    @property
    def redacted(self) -> str:
        """The URL without its password, for messages and logs."""
        return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", self.url)

    @property
    def without_password(self) -> str:
        """The URL to record (bundle provenance): readers authenticate via PGPASSWORD or ~/.pgpass."""
        return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1@", self.url)

    def open(self, *, heartbeat_s: int | None = None, grace_s: int | None = None,
             stale_callback=None):
        """The Optuna storage object (RDB storages get heartbeats and reconnect on their own)."""
        import optuna
        if self.kind == "sqlite":
            from ._storage import open_storage
            return open_storage(self.url)
        if self.kind == "journal":
            from optuna.storages.journal import JournalFileBackend, JournalStorage
            self.journal_path.parent.mkdir(parents=True, exist_ok=True)
            return JournalStorage(JournalFileBackend(str(self.journal_path)))
        engine_kwargs = {"pool_pre_ping": True}  # a restarted server: new connections, no error
        if self.sqlalchemy_url.startswith("postgresql"):
            engine_kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
        elif self.sqlalchemy_url.startswith(("mysql", "mariadb")):
            engine_kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
        from sqlalchemy.exc import IntegrityError, ProgrammingError
        for attempt in range(5):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    return optuna.storages.RDBStorage(
                        self.sqlalchemy_url, engine_kwargs=engine_kwargs, heartbeat_interval=heartbeat_s,
                        grace_period=grace_s, heartbeat_stale_trial_callback=stale_callback)
            except (IntegrityError, ProgrammingError):
                # workers started together on an empty database race to create Optuna's tables;
                # the loser finds them made on the next try
                if attempt == 4:
                    raise
                time.sleep(0.5 + attempt)


def _bad_scheme(url: str, scheme: str) -> FatalError:
    dialect = scheme.split("+", 1)[0].lower()
    guess = _TYPOS.get(dialect) or next(iter(difflib.get_close_matches(dialect, SCHEMES, n=1, cutoff=0.5)), None)
    if guess:
        fixed = guess + url[len(dialect):]
        hint = f"did you mean {fixed!r}?"
    else:
        hint = f"use one of: {_FORMS}"
    return FatalError(f"storage URL {url!r}: unknown scheme {scheme + '://'!r}; {hint}")


def _driver(dialect: str, url: str) -> str:
    for name, module in _DRIVERS[dialect]:
        if importlib.util.find_spec(module) is not None:
            return name
    raise ToolNotFound(f"storage URL {url!r} needs a Python driver for {dialect}; install one: "
                       f"{_INSTALL[dialect]}")


def parse_storage_url(url: str) -> StorageURL:
    """Check a storage URL's form and driver before anything connects or is written."""
    url = url.strip()
    if "://" not in url:
        raise FatalError(f"storage URL {url!r} has no scheme; use one of: {_FORMS} "
                         "(a bare path: sqlite:///<path>.db)")
    scheme, rest = url.split("://", 1)
    dialect, _, driver = scheme.partition("+")
    if dialect not in SCHEMES:
        raise _bad_scheme(url, scheme)
    if dialect == "sqlite":
        if rest and not rest.startswith("/"):
            raise FatalError(f"storage URL {url!r}: a SQLite file takes three slashes; did you mean "
                             f"'sqlite:///{rest}'?")
        return StorageURL(url, "sqlite", url)
    if dialect == "journal":
        path = rest[1:] if rest.startswith("//") else rest  # journal:///abs or journal://rel
        if not path or path.endswith("/"):
            raise FatalError(f"storage URL {url!r} names no journal file; e.g. journal:///shared/runs/x/study.log")
        return StorageURL(url, "journal", journal_path=Path(path))
    parts = urlsplit(url)
    if not parts.hostname and not parts.query:
        raise FatalError(f"storage URL {url!r} names no database host; e.g. "
                         f"{dialect}://user:password@localhost:5432/qnas")
    if not parts.path.strip("/"):
        raise FatalError(f"storage URL {url!r} names no database; add it after the host, e.g. "
                         f"{url.rstrip('/')}/qnas")
    if not driver:
        driver = _driver(dialect, url)
    elif importlib.util.find_spec(dict(_DRIVERS[dialect]).get(driver, driver)) is None:
        raise ToolNotFound(f"storage URL {url!r} asks for the driver {driver!r}, which is not installed; "
                           f"install it, or drop '+{driver}' ({_INSTALL[dialect]})")
    return StorageURL(url, "rdb", f"{dialect}+{driver}://{rest}")


def open_storage_url(url: str):
    """The Optuna storage behind any qnas storage URL, for readers (export, synthesis records)."""
    storage = parse_storage_url(url)
    try:
        return storage.open()
    except Exception as exc:
        problem = connection_problem(exc, storage)
        if problem is None:
            raise
        raise problem from exc


def is_connection_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) means the database server could not be reached."""
    try:
        from sqlalchemy import exc as sa_exc
    except ImportError:  # pragma: no cover - SQLAlchemy comes with Optuna
        return False
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError)):
            return True
        if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def connection_problem(exc: BaseException, storage: StorageURL) -> FatalError | None:
    """One message naming what is wrong with the database behind ``exc`` and the fix, or None."""
    if not is_connection_error(exc):
        return None
    text = str(getattr(exc, "orig", None) or exc)
    where = storage.redacted
    low = text.lower()
    parts = urlsplit(storage.url)
    user = parts.username or "(none given)"
    if "password authentication failed" in low or "no password supplied" in low \
            or "access denied" in low or ("role" in low and "does not exist" in low):
        return FatalError(f"the database server refused user {user!r} for {where}: "
                          f"{_first_line(text)}. Fix the user and password in --storage "
                          "(or in ~/.pgpass / PGPASSWORD), or create the user on the server")
    if "database" in low and ("does not exist" in low or "unknown database" in low):
        db = parts.path.strip("/")
        return FatalError(f"there is no database {db!r} on the server of {where}; create it "
                          f"(e.g. createdb {db}) or fix the database name in --storage")
    return FatalError(f"cannot reach the database server of {where}: {_first_line(text)}. Check that it "
                      "is running and listening on that host and port (README: 'Many workers'), "
                      "or fix --storage")


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else text
