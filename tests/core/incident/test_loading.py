"""What the loader accepts and how it reads it: encodings, logs that look like JSON, control characters, the
smallest incident worth analysing. (Refusals are the table in tests/e2e/test_cli_inputs.py.)"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.core.incident.load import load_incident
from bot.core.incident.substance import MIN_WORDS
from bot.errors import InputError

TEXT = "Le déploiement de checkout a échoué à 09:00 ; la base était indisponible pendant 12 minutes."


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "cp1252"]
)
def test_text_in_common_encodings_reads_back_exactly(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(TEXT.encode(encoding))
    assert load_incident(str(path)).messages[0].text == TEXT


def test_windows_quotes_and_dashes_survive(tmp_path: Path) -> None:
    text = "Deploy failed — the “checkout” service returned 500s for ten minutes."
    (tmp_path / "n.txt").write_bytes(text.encode("cp1252"))
    assert load_incident(str(tmp_path / "n.txt")).messages[0].text == text


@pytest.mark.parametrize("prefix", [b"\xef\xbb\xbf", b"", b"\n\n  "])
def test_slack_json_with_bom_or_leading_space_is_slack_data(tmp_path: Path, prefix: bytes) -> None:
    body = json.dumps({"messages": [{"user": "U1", "text": "checkout is returning 500s"}]}).encode()
    (tmp_path / "t.json").write_bytes(prefix + body)
    incident = load_incident(str(tmp_path / "t.json"))
    assert incident.source == "slack-json" and incident.messages[0].text == "checkout is returning 500s"


@pytest.mark.parametrize(
    "first_line",
    ["[2025-11-17 09:00:01] ERROR checkout pool exhausted", "[INFO] checkout-api started on :8080", "[ 12.345] oom-killer invoked"],
)
def test_logs_starting_with_a_bracket_are_text_not_broken_json(tmp_path: Path, first_line: str) -> None:
    (tmp_path / "app.log").write_text(first_line + "\nsecond line of the log\n")
    incident = load_incident(str(tmp_path / "app.log"))
    assert incident.source == "file" and incident.messages[0].text.startswith(first_line)


def test_json_lines_logs_are_text_not_broken_json(tmp_path: Path) -> None:
    lines = [{"level": "error", "ts": "2025-11-17T09:00:01Z", "msg": "checkout pool exhausted"},
             {"level": "info", "ts": "2025-11-17T09:03:00Z", "msg": "rolled back v2.31"}]
    (tmp_path / "app.json").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    incident = load_incident(str(tmp_path / "app.json"))
    assert incident.source == "file" and "rolled back v2.31" in incident.messages[0].text


def test_closed_stdin_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", None)
    with pytest.raises(InputError, match=r"stdin is closed.* — fix: pipe the incident in"):
        load_incident("-")


def test_stray_control_characters_are_dropped_but_ansi_colours_and_tabs_kept(tmp_path: Path) -> None:
    line = b"\x1b[31mERROR\x1b[0m\tcheckout pool exhausted at 09:00\n"
    (tmp_path / "a.log").write_bytes(line * 30 + b"last line\x00\x07 of the log")
    text = load_incident(str(tmp_path / "a.log")).messages[0].text
    assert text == (line * 30).decode() + "last line of the log"


@pytest.mark.parametrize(
    "text",
    ["checkout returns 500s", "payments down :fire: since 09:00", "数据库主节点宕机了", "<@U1> db failover failed https://x.example"],
)
def test_smallest_incidents_worth_analysing_are_accepted(tmp_path: Path, text: str) -> None:
    (tmp_path / "n.txt").write_text(text)
    assert load_incident(str(tmp_path / "n.txt")).messages


def test_threshold_counts_words_across_messages(tmp_path: Path) -> None:
    """Three one-word messages make an incident; the same minus one word does not."""
    words = ["checkout", "down", "rollback"][:MIN_WORDS]
    (tmp_path / "ok.json").write_text(json.dumps([{"text": w} for w in words]))
    assert len(load_incident(str(tmp_path / "ok.json")).messages) == MIN_WORDS
    (tmp_path / "short.json").write_text(json.dumps([{"text": w} for w in words[:-1]]))
    with pytest.raises(InputError, match="no incident content"):
        load_incident(str(tmp_path / "short.json"))


def test_attachment_text_counts_as_content(tmp_path: Path) -> None:
    data = [{"text": ":eyes:", "files": [{"id": "F1", "name": "trace.txt", "preview": "Traceback: pool exhausted"}]}]
    (tmp_path / "t.json").write_text(json.dumps(data))
    assert load_incident(str(tmp_path / "t.json")).messages[0].attachments[0].name == "trace.txt"


def test_process_substitution_pipe_is_read() -> None:
    """`analyze <(kubectl logs …)` passes a pipe path, which is not a regular file."""
    read, write = os.pipe()
    os.write(write, b"ERROR checkout pool exhausted at 09:00\n")
    os.close(write)
    try:
        assert "pool exhausted" in load_incident(f"/dev/fd/{read}").messages[0].text
    finally:
        os.close(read)
