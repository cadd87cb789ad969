"""The output folder: one run at a time, checks before changes, atomic writes that leave the old file or the new
one and never a truncated one (a full disk is simulated with RLIMIT_FSIZE in a child process)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.outputs import OutputDir, OutputError, write_atomic

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("report.md", "summary.mp3", "run.json")


def test_a_second_holder_is_refused_until_the_first_leaves(tmp_path: Path) -> None:
    with OutputDir(tmp_path, NAMES), pytest.raises(OutputError, match=r"another run is writing to .* — fix: wait for"):
        OutputDir(tmp_path, NAMES).__enter__()
    with OutputDir(tmp_path, NAMES) as again:
        again.write("run.json", "{}")
    assert (tmp_path / "run.json").read_text() == "{}"


def test_entering_clears_the_previous_runs_files_and_temp_leftovers(tmp_path: Path) -> None:
    for name in (*NAMES, ".summary.mp3.abc.tmp", "notes.txt"):
        (tmp_path / name).write_text("old")
    with OutputDir(tmp_path, NAMES):
        pass
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == ["notes.txt"]


def test_a_blocked_name_is_refused_before_anything_changes(tmp_path: Path) -> None:
    (tmp_path / "run.json").mkdir()
    (tmp_path / "report.md").write_text("earlier report")
    with pytest.raises(OutputError, match=r"run\.json is a folder.* — fix: remove or rename"), OutputDir(tmp_path, NAMES):
        pass
    assert (tmp_path / "report.md").read_text() == "earlier report"
    with OutputDir(tmp_path, ()):  # the refused run released the lock
        pass


def test_symlinked_output_is_replaced_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.md"
    target.write_text("someone else's file")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "report.md").symlink_to(target)
    with OutputDir(tmp_path / "out", NAMES) as out:
        out.write("report.md", "new report")
    assert target.read_text() == "someone else's file"
    assert (tmp_path / "out" / "report.md").read_text() == "new report"


def test_failed_atomic_write_keeps_the_old_file_and_no_temp(tmp_path: Path) -> None:
    (tmp_path / "report.md").mkdir()  # os.replace onto a folder fails after the temp file is written
    with pytest.raises(IsADirectoryError):
        write_atomic(tmp_path / "report.md", b"x" * 1000)
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_new_files_get_the_umask_mode_not_mkstemps_0600(tmp_path: Path) -> None:
    write_atomic(tmp_path / "run.json", b"{}")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "run.json").stat().st_mode & 0o777 == 0o666 & ~umask


_CHILD = """
import sys
from pathlib import Path
from bot.cli.outputs import OutputDir, OutputError
out = OutputDir(Path(sys.argv[1]), ())
with out:
    try:
        out.write("summary.mp3", b"\\xff" * 200_000)
    except OutputError as exc:
        print(exc)
"""


def test_disk_full_leaves_the_previous_file_whole(tmp_path: Path) -> None:
    (tmp_path / "summary.mp3").write_bytes(b"previous whole mp3")

    def limit() -> None:  # 64 KB: the 200 KB write fails part way with EFBIG, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))

    done = subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path)], cwd=ROOT, preexec_fn=limit,
                          capture_output=True, text=True, timeout=60, check=True)
    assert "summary.mp3: File too large — fix: free disk space" in done.stdout, done.stderr
    assert (tmp_path / "summary.mp3").read_bytes() == b"previous whole mp3"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".postmortem.lock", "summary.mp3"]
