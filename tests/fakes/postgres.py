"""A real PostgreSQL server for the tests and benchmarks: Debian's ``postgresql`` package, ``initdb`` + ``pg_ctl`` in
a temporary directory, listening on a free 127.0.0.1 port, durability off (a throwaway cluster starts in about a
second). PostgreSQL refuses to run as root, so under root (CI) it runs as the ``postgres`` user the package creates.

    with PostgresServer() as pg:
        url = pg.new_database()   # a fresh, empty database per test
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from itertools import count
from pathlib import Path
from types import TracebackType

import psycopg

_INSTALL = "install it with `apt-get install -y postgresql` (.ci/run does this on a clean machine)"


def pg_bin_dir() -> Path:
    """The newest installed server's binaries (/usr/lib/postgresql/<version>/bin)."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if not versions:
        raise RuntimeError(f"PostgreSQL server binaries not found under /usr/lib/postgresql: {_INSTALL}")
    return versions[-1].parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self) -> None:
        self.bin = pg_bin_dir()
        self.dir = Path(tempfile.mkdtemp(prefix="pmbot-pg-"))
        self.data = self.dir / "data"
        self.port = 0
        self._user: str | None = None
        self._names = count(1)
        if os.geteuid() == 0:
            self._user = "postgres" if _has_user("postgres") else "nobody"
            shutil.chown(self.dir, user=self._user)

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self._user is not None:
            cmd = ["runuser", "-u", self._user, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = (self.dir / "server.log").read_text(errors="replace")[-2000:] if (self.dir / "server.log").exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n{log}")

    def start(self) -> PostgresServer:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        for attempt in range(3):  # another process may take the free port between the probe and the bind
            self.port = _free_port()
            options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                       " -c full_page_writes=off -c max_connections=200")
            try:
                self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "server.log"), "-w", "-t", "30", "start")
                return self
            except RuntimeError:
                if attempt == 2:
                    raise
        return self

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        """A fresh empty database on this server; its URL."""
        name = f"t{next(self._names)}_{os.getpid()}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]  # the name is ours, not input
        return self.url(name)

    def stop(self) -> None:
        if self.port:
            with contextlib.suppress(RuntimeError):  # already gone; the directory is removed regardless
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
