"""A throwaway PostgreSQL server for the worker tests: its own cluster, port and socket dir.

The tests never depend on a server the machine happens to run: each session runs
``initdb`` into a temporary directory and starts ``postgres`` on 127.0.0.1 at a free port
(as the ``postgres`` user when the tests run as root, which PostgreSQL refuses). The user
``qnas`` has a password (SCRAM over TCP), so wrong credentials are really refused.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

USER, PASSWORD = "qnas", "qnas-test-pw"


def find_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="qnas-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sock"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.as_user = None
        if os.geteuid() == 0:  # postgres refuses to run as root
            self.as_user = "postgres"
            uid, gid = pwd.getpwnam("postgres").pw_uid, pwd.getpwnam("postgres").pw_gid
            os.chown(self.root, uid, gid)
        self.sockets.mkdir()
        if self.as_user:
            os.chown(self.sockets, pwd.getpwnam("postgres").pw_uid, pwd.getpwnam("postgres").pw_gid)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        env = {**os.environ, "PGPASSWORD": PASSWORD}
        # cwd: the postgres user may not enter the checkout (a CI clone under /root is 0700)
        return subprocess.run(cmd, check=check, capture_output=True, text=True, env=env, timeout=300,
                              cwd=self.root)

    def url(self, database: str = "qnas", user: str = USER, password: str = PASSWORD) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> "PostgresServer":
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self.as_user:
            os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, pwd.getpwnam("postgres").pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", USER, f"--pwfile={pwfile}", "--auth-local=trust",
                  "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8")
        self._pg_ctl("start")
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "qnas")
        return self

    def _pg_ctl(self, action: str) -> None:
        options = f"-k {self.sockets} -h 127.0.0.1 -p {self.port} -c fsync=off -c max_connections=200"
        args = ["pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60"]
        if action in ("start", "restart"):
            args += ["-o", options]
        if action in ("stop", "restart"):
            args += ["-m", "fast"]
        result = self._run(*args, action, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl {action} failed: {result.stdout}{result.stderr}\n"
                               f"{self.log.read_text() if self.log.exists() else ''}")

    def stop(self) -> None:
        self._pg_ctl("stop")

    def restart(self) -> None:
        self._pg_ctl("restart")

    def createdb(self, name: str) -> str:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name)
        return self.url(name)

    def close(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
