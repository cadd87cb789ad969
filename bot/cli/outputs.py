"""An output folder for one run at a time: a lock against a concurrent run, stale outputs cleared at the start,
and every file written atomically (a temp file in the same folder, fsynced, then os.replace), so a reader never
sees a half-written report, a truncated MP3 or a 0-byte run.json — only the previous whole file or the new one."""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

import filelock

from bot.errors import InputError

LOCK_NAME = ".postmortem.lock"
# Inside a folder the run owns: proof that the bot wrote it, so clearing it never deletes someone's own tests/.
FOLDER_MARK = ".postmortem-bot"
# Disk full, over quota, or over the file size limit (RLIMIT_FSIZE): the fix is room, not another folder.
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


class OutputError(InputError):
    """The output folder or a file in it cannot be used (exit code 2, like any bad argument)."""


@functools.cache
def _file_mode() -> int:
    # mkstemp creates 0600 files; outputs should get the mode any new file gets here (0644 under umask 022).
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step; on failure the temp file is removed and ``path`` is untouched."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), _file_mode())
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class OutputDir:
    """``with OutputDir(path, names) as out: out.write("report.md", text)``. Entering creates the folder, takes
    the lock, checks every output name can be written and removes the previous run's files."""

    def __init__(self, path: Path, names: tuple[str, ...], folders: tuple[str, ...] = ()) -> None:
        self.path = path
        self.names = names
        # Sub-folders the run owns whole (tests/): replaced each run, but only ever one the bot wrote (FOLDER_MARK).
        self.folders = folders
        self._lock = filelock.FileLock(path / LOCK_NAME, timeout=0)

    def __enter__(self) -> Self:
        self._create()
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise OutputError(
                f"another run is writing to {self.path}", "wait for it to finish, or pass a different --out folder"
            ) from None
        except OSError as exc:
            raise self._error(exc, self.path / LOCK_NAME) from None
        try:
            self._check_and_clear()
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._lock.release()

    def write(self, name: str, data: str | bytes) -> Path:
        path = self.path / name
        try:
            write_atomic(path, data.encode("utf-8") if isinstance(data, str) else data)
        except OSError as exc:
            raise self._error(exc, path) from None
        return path

    def write_folder(self, folder: str, files: dict[str, str]) -> None:
        """Write ``folder`` (one of ``folders``) as these files (relative paths), each atomically, marked as ours."""
        root = self.path / folder
        try:
            root.mkdir(exist_ok=True)
            write_atomic(root / FOLDER_MARK, b"Written by postmortem-bot: replaced by every run into this folder.\n")
            for relative, text in files.items():
                target = root / relative
                if root.resolve() not in target.resolve().parents:  # names are ASCII slugs; never write outside
                    raise OutputError(f"refusing to write {relative} outside {root}", "report this as a bug")
                target.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(target, text.encode("utf-8"))
        except OSError as exc:
            raise self._error(exc, Path(exc.filename or root)) from None

    def rename(self, name: str, new_name: str) -> None:
        try:
            os.replace(self.path / name, self.path / new_name)
        except OSError as exc:
            raise self._error(exc, self.path / new_name) from None

    def _create(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise OutputError(f"{self.path} exists and is not a folder", "pass a folder as --out") from None
        except OSError as exc:
            raise self._error(exc, self.path) from None

    def _check_and_clear(self) -> None:
        """All checks first, so a refusal leaves the folder as it was; then the previous run's files go."""
        for name in self.names:
            path = self.path / name
            if path.is_dir() and not path.is_symlink():
                raise OutputError(f"{path} is a folder, so the run could not write its {name}", f"remove or rename {path}")
        for folder in self.folders:
            path = self.path / folder
            if path.is_symlink() or (path.exists() and not path.is_dir()):
                raise OutputError(f"{path} is not a folder, so the run could not write its {folder}/", f"remove or rename {path}")
            if path.is_dir() and not (path / FOLDER_MARK).exists() and any(path.iterdir()):
                raise OutputError(f"{path} holds files postmortem-bot did not write, and the run would replace it",
                                  "pass a different --out folder, or move that folder away")
        try:
            # Proves the folder is writable before any model time is spent.
            write_atomic(self.path / ".write-test", b"")
            (self.path / ".write-test").unlink()
            for name in self.names:
                (self.path / name).unlink(missing_ok=True)
                # Temp files of a run that was killed (SIGKILL, power loss) before it could clean up.
                for stale in self.path.glob(f".{name}.*.tmp"):
                    stale.unlink(missing_ok=True)
            for folder in self.folders:
                if (self.path / folder).is_dir():
                    shutil.rmtree(self.path / folder)
        except OSError as exc:
            raise self._error(exc, Path(exc.filename or self.path)) from None

    def _error(self, exc: OSError, path: Path) -> OutputError:
        reason = exc.strerror or str(exc)
        if exc.errno in _NO_ROOM:
            return OutputError(f"cannot write {path}: {reason}", f"free disk space where {self.path} is, or pass another --out")
        return OutputError(f"cannot write {path}: {reason}", "pass a writable --out folder")
