"""The tests/ folder a CLI run owns: replaced each run, but never one the bot did not write."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.outputs import FOLDER_MARK, OutputDir, OutputError


def test_the_owned_folder_is_replaced_by_the_next_run(tmp_path: Path) -> None:
    with OutputDir(tmp_path, ("run.json",), folders=("tests",)) as out:
        out.write_folder("tests", {"load/a.js": "1", "unit/test_b.py": "2"})
    assert (tmp_path / "tests" / FOLDER_MARK).exists() and (tmp_path / "tests/load/a.js").read_text() == "1"
    with OutputDir(tmp_path, ("run.json",), folders=("tests",)):
        assert not (tmp_path / "tests").exists()  # the previous run's skeletons are gone before this one writes


def test_a_folder_the_bot_did_not_write_is_refused_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_mine.py").write_text("keep me")
    with pytest.raises(OutputError, match="did not write") as caught, OutputDir(tmp_path, ("run.json",), folders=("tests",)):
        pass
    assert "different --out" in str(caught.value)
    assert (tmp_path / "tests" / "test_mine.py").read_text() == "keep me"


def test_a_file_in_the_folders_place_is_refused(tmp_path: Path) -> None:
    (tmp_path / "tests").write_text("a file")
    with pytest.raises(OutputError, match="is not a folder"), OutputDir(tmp_path, ("run.json",), folders=("tests",)):
        pass


def test_a_path_outside_the_folder_is_never_written(tmp_path: Path) -> None:
    with OutputDir(tmp_path, (), folders=("tests",)) as out, pytest.raises(OutputError, match="outside"):
        out.write_folder("tests", {"../escape.py": "x"})
    assert not (tmp_path / "escape.py").exists()
