"""Bad incident inputs: every one is refused with exit code 2 and a one-line "cause — fix:" message, never exit 4.

The whole table goes through the loader the CLI calls (in-process, fast); the rows marked ``cli`` — at least one
per class — also go through the real `python -m bot analyze` subprocess, which must stop before the model and
leave a run.json saying why."""

from __future__ import annotations

import json
import os
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.core.incident.decode import MAX_INPUT_BYTES
from bot.core.incident.load import load_incident
from bot.errors import InputError
from tests.e2e.cli_helpers import cli_llm, llm_env, run_cli, run_record
from tests.fakes.fake_llm import FakeLLM


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    async with cli_llm() as fake:
        yield fake


OK = {"user": "U1", "text": "checkout returned 500 errors after the deploy", "ts": "1700000000.000100"}


def thread(*extra: object, wrap: bool = True) -> bytes:
    """A conversations.replies body (or a bare export list): one good message, then the given ones."""
    messages = [OK, *extra]
    return json.dumps({"ok": True, "messages": messages} if wrap else messages).encode()


def with_field(**fields: object) -> bytes:
    return thread({**OK, **fields})


def nested(depth: int) -> bytes:
    return b'{"messages": ' + b"[" * depth + b"]" * depth + b"}"


def noise(n: int, seed: int) -> bytes:
    rng = random.Random(seed)  # fixed seed: the same bytes every run
    return bytes(rng.randrange(256) for _ in range(n))


@dataclass(frozen=True)
class Case:
    id: str
    content: bytes | Callable[[Path], Path]  # file bytes, or a setup returning the path to pass
    needle: str  # must appear in the one-line message and in run.json's error
    cli: bool = False  # also run through the real CLI subprocess
    name: str = "incident.json"


def _missing(tmp: Path) -> Path:
    return tmp / "nowhere.json"


def _folder(tmp: Path) -> Path:
    (tmp / "export").mkdir()
    return tmp / "export"


def _too_big(tmp: Path) -> Path:
    path = tmp / "huge.log"
    with path.open("wb") as fh:  # sparse: 50 MB on paper, no disk used
        fh.truncate(MAX_INPUT_BYTES + 1)
    return path


CASES = [
    # Slack JSON of the wrong shape: the message names the field.
    Case("files-string", thread({**OK, "files": "trace.png"}), "messages[1].files: expected a list of file objects", cli=True),
    Case("files-dict", thread({**OK, "files": {"id": "F1"}}), "messages[1].files: expected a list of file objects, got an object"),
    Case("file-item-string", thread({**OK, "files": ["trace.png"]}), "messages[1].files[0]: expected a file object"),
    Case("file-name-object", thread({**OK, "files": [{"id": "F1", "name": {"x": 1}}]}), "messages[1].files[0].name: expected a string"),
    Case("user-profile-string", with_field(user_profile="bob"), "messages[1].user_profile: expected an object"),
    Case("bot-profile-list", with_field(bot_profile=["x"]), "messages[1].bot_profile: expected an object"),
    Case("ts-1e400-string", with_field(ts="1e400"), "messages[1].ts: expected a Slack timestamp", cli=True),
    Case("ts-1e400-number", b'[{"text": "checkout is down hard", "ts": 1e400}]', "messages[0].ts: expected a Slack timestamp"),
    Case("ts-nan", b'[{"text": "checkout is down hard", "ts": NaN}]', "messages[0].ts: expected a Slack timestamp"),
    Case("ts-word", with_field(ts="yesterday"), "messages[1].ts: expected a Slack timestamp"),
    Case("ts-negative", with_field(ts=-5), "messages[1].ts: expected a Slack timestamp"),
    Case("ts-bool", with_field(ts=True), "messages[1].ts: expected a Slack timestamp such as \"1700000000.000100\", got true/false"),
    Case("ts-object", with_field(ts={"s": 1}), "messages[1].ts: expected a Slack timestamp such as \"1700000000.000100\", got an object"),
    Case("messages-string", b'{"messages": "none"}', "messages: expected a list of message objects"),
    Case("messages-object", b'{"messages": {"0": {}}}', "messages: expected a list of message objects, got an object"),
    Case("messages-number", b'{"messages": 3}', "messages: expected a list of message objects, got a number"),
    Case("message-string", thread("hello"), "messages[1]: expected a message object"),
    Case("message-null", thread(None), "messages[1]: expected a message object, got null"),
    Case("message-list-in-export", thread(["a"], wrap=False), "messages[1]: expected a message object, got a list"),
    Case("text-object", with_field(text={"t": "x"}), "messages[1].text: expected a string"),
    Case("text-list", with_field(text=["x"]), "messages[1].text: expected a string"),
    Case("attachments-string", with_field(attachments="alert"), "messages[1].attachments: expected a list of attachment objects"),
    Case("attachment-field-string", with_field(attachments=[{"fields": ["x"]}]), "messages[1].attachments[0].fields[0]"),
    Case("blocks-string", with_field(blocks="rich"), "messages[1].blocks: expected a list of block objects"),
    Case("block-number", with_field(blocks=[1]), "messages[1].blocks[0]: expected a block object"),
    Case("json-string", b'"checkout is down"', "not Slack data"),
    Case("json-number", b"42", "not Slack data"),
    Case("json-unrelated-object", b'{"hello": 1}', "not Slack data"),
    Case("slack-error-response", b'{"ok": false, "error": "not_in_channel"}', "the Slack response is an error: not_in_channel"),
    Case("empty-list", b"[]", "holds no messages"),
    Case("no-messages", b'{"ok": true, "messages": []}', "holds no messages"),
    # JSON that does not parse, or that Python's parser cannot hold.
    Case("truncated-json", b'{"messages": [', "does not parse"),
    Case("trailing-garbage", thread() + b" and more", "does not parse"),
    Case("deep-nesting", nested(100_000), "nested too deeply", cli=True),
    Case("huge-integer", b'[{"text": "checkout is down", "ts": ' + b"9" * 5000 + b"}]", "number too long"),
    # Binary data is not text.
    Case("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + noise(4000, 1), "binary file", cli=True, name="trace.png"),
    Case("jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + noise(4000, 2), "binary file", name="photo.jpg"),
    Case("nul-filled", b"\x00" * 4096, "binary file", name="incident.txt"),
    Case("random-bytes", noise(8192, 3), "binary file", name="incident.log"),
    Case("elf-program", b"\x7fELF\x02\x01\x01\x00" + noise(4000, 4), "binary file", name="incident"),
    Case("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + noise(4000, 5), "binary file", name="report.pdf"),
    Case("gzip-log", b"\x1f\x8b\x08\x00" + noise(2000, 6), "gzip-compressed", cli=True, name="app.log.gz"),
    Case("zip-export", b"PK\x03\x04" + noise(2000, 7), "zip-compressed", name="export.zip"),
    # Text with nothing to analyse.
    Case("empty-file", b"", "empty", name="incident.txt"),
    Case("whitespace-only", b" \n\t\n   \n", "empty", cli=True, name="incident.txt"),
    Case("url-only", b"https://status.example.com/incidents/123\n", "no incident content", cli=True, name="incident.txt"),
    Case("slack-link-only", b"<https://grafana.example.com/d/abc|dashboard>", "no incident content", name="incident.txt"),
    Case("emoji-shortcodes", b":fire: :rotating_light: :eyes:", "no incident content", cli=True, name="incident.txt"),
    Case("emoji-unicode", "🔥🔥 🚨 👀".encode(), "no incident content", name="incident.txt"),
    Case("punctuation", b"!!! ??? ... --- ***", "no incident content", name="incident.txt"),
    Case("two-words", b"db down", "no incident content", name="incident.txt"),
    Case("mentions-only", "@alice @bob 👋".encode(), "no incident content", name="incident.txt"),
    Case("utf16-emoji-only", "🔥 🔥 https://x.example".encode("utf-16"), "no incident content", name="incident.txt"),
    Case("slack-emoji-thread", json.dumps([{"text": ":fire:"}, {"text": "<@U1> :+1:"}]).encode(), "no incident content"),
    # The path itself is wrong.
    Case("missing-file", _missing, "no such incident file", cli=True),
    Case("folder", _folder, "is a folder", cli=True),
    Case("over-50-mb", _too_big, "over the 50 MB limit", cli=True),
]


def materialise(case: Case, tmp: Path) -> Path:
    if callable(case.content):
        return case.content(tmp)
    path = tmp / case.name
    path.write_bytes(case.content)
    return path


def test_table_is_wide_enough() -> None:
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)
    assert sum(c.cli for c in CASES) >= 10


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_loader_refuses_with_cause_and_fix(case: Case, tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_incident(str(materialise(case, tmp_path)))
    message = str(caught.value)
    assert case.needle in message and " — fix: " in message and "\n" not in message
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("case", [c for c in CASES if c.cli], ids=lambda c: c.id)
async def test_cli_refuses_before_the_model(case: Case, llm: FakeLLM, tmp_path: Path) -> None:
    path = materialise(case, tmp_path)
    out = await run_cli(str(path), "--out", str(tmp_path / "out"), env=llm_env(llm.base_url))
    assert out.code == 2, out.stderr
    assert out.stderr.strip().count("\n") == 0  # only the one error line, no traceback, no progress
    assert out.last_line.startswith("error: ") and case.needle in out.last_line and " — fix: " in out.last_line
    assert llm.requests == []  # the model was never reached
    run = run_record(tmp_path / "out")
    assert run["status"] == "failed" and case.needle in run["error"] and run["prompt_tokens"] is None


@pytest.mark.parametrize(
    ("name", "content", "expect"),
    [
        ("export.json", b"\xef\xbb\xbf" + thread(wrap=False), "checkout returned 500 errors"),
        ("notes.txt", "2025-11-17 09:00 checkout pool exhausted, 500s for 12 minutes".encode("utf-16"), "pool exhausted"),
    ],
    ids=["utf8-bom-slack-export", "utf-16-text"],
)
async def test_cli_reads_other_encodings(llm: FakeLLM, tmp_path: Path, name: str, content: bytes, expect: str) -> None:
    (tmp_path / name).write_bytes(content)
    out = await run_cli(str(tmp_path / name), "--out", str(tmp_path / "out"), "--no-audio", env=llm_env(llm.base_url))
    assert out.code == 0, out.stderr
    assert expect in json.dumps(llm.chat_requests[0], ensure_ascii=False)
    assert run_record(tmp_path / "out")["status"] == "done"


def test_stdin_over_the_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pipes have no size up front: the read itself stops one byte past the cap."""
    read, write = os.pipe()
    os.write(write, b"x " * 40)
    os.close(write)
    monkeypatch.setattr("bot.core.incident.load.MAX_INPUT_BYTES", 50)
    monkeypatch.setattr("bot.core.incident.decode.MAX_INPUT_BYTES", 50)
    with os.fdopen(read, "rb") as pipe, pytest.raises(InputError, match=r"^stdin is .*, over the .* limit"):
        monkeypatch.setattr("sys.stdin", type("Stdin", (), {"buffer": pipe})())
        load_incident("-")
