"""LOG_FORMAT=json: one JSON object a line, the run's id, channel and thread on every line logged while it runs,
and nothing secret in any field (message, extras, traceback)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.run import Run, RunFacts, Target
from bot.ops import logs
from tests.core.redact.secret_cases import POSITIVE

SECRET = next(case for case in POSITIVE if case.secret == case.text.strip()).secret  # a self-evident token


@pytest.fixture
def json_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logs.make_handler("json", out)
    logger = logging.getLogger("tests.ops.json")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, out
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_each_line_is_one_json_object_with_the_run_it_belongs_to(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = json_log
    current = Run(RunFacts("v1", "m"), target=Target("command", "C042", None, "U1"))

    async def run() -> None:
        logs.bind_run(current)
        logger.info("collecting\nthe thread")  # a newline in the message stays inside its JSON string
        current.id, current.target = 7, replace(current.target, thread_ts="1733471234.000100")  # root posted later: later lines carry it
        await asyncio.to_thread(logger.warning, "from a thread the run started")

    logger.info("before any run")
    await asyncio.create_task(run())
    logger.info("after it, in another task")
    first, collecting, threaded, after = lines(out)
    assert first["message"] == "before any run" and "run_id" not in first
    assert collecting["message"] == "collecting\nthe thread" and collecting["level"] == "INFO" and collecting["logger"] == "tests.ops.json"
    assert (collecting["run_id"], collecting["channel"], collecting["thread_ts"]) == (None, "C042", None)
    assert (threaded["run_id"], threaded["channel"], threaded["thread_ts"]) == (7, "C042", "1733471234.000100")
    assert "run_id" not in after and str(after["time"]).startswith("20")


def test_no_field_carries_a_secret(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = json_log
    logger.info("token %s in the message", SECRET, extra={"body": {"text": f"key={SECRET}"}, "items": [SECRET]})
    try:
        raise RuntimeError(f"the server echoed {SECRET}")
    except RuntimeError:
        logger.exception("request failed")
    logger.info("stack", stack_info=True, extra={"note": SECRET})

    class Carrier:  # an object the JSON encoder would write as its str()
        def __str__(self) -> str:
            return f"carrier of {SECRET}"

    logger.info("object", extra={"obj": Carrier(), "count": 3, "ids": {SECRET}})
    written = out.getvalue()
    assert SECRET not in written
    message, failure, stacked, carried = lines(out)
    assert carried["count"] == 3 and "REDACTED" in str(carried["obj"]) and "REDACTED" in str(carried["ids"])
    assert "REDACTED" in str(message["message"]) and "REDACTED" in str(message["body"]) and "REDACTED" in str(message["items"])
    assert "RuntimeError" in str(failure["exc_info"]) and "REDACTED" in str(failure["exc_info"])
    assert "_redacted" not in message and "stack_info" in stacked


def test_no_key_and_no_extra_named_like_the_bots_own_fields_carries_a_secret(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = json_log
    logger.info("headers", extra={"headers": {f"Bearer {SECRET}": "sent"}})
    logger.info("posted", extra={"channel": SECRET, "thread_ts": f"t={SECRET}"})
    assert SECRET not in out.getvalue()
    keyed, named = lines(out)
    assert "REDACTED" in str(keyed["headers"]) and "REDACTED" in str(named["channel"])


def test_text_format_is_unchanged_and_redacted() -> None:
    out = io.StringIO()
    handler = logs.make_handler("text", out)
    record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "key %s", (SECRET,), None)
    handler.handle(record)
    assert " INFO bot.x: key [REDACTED" in out.getvalue() and SECRET not in out.getvalue()


def test_the_cli_keeps_handlers_someone_else_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    assert before  # pytest's own capture handlers
    logs.configure("json")
    assert root.handlers == before


@pytest.mark.parametrize(("name", "value"), [("LOG_FORMAT", "xml"), ("HEALTH_PORT", "70000"), ("HEALTH_PORT", "http")])
def test_a_bad_ops_setting_stops_the_cli_with_one_line_naming_it(name: str, value: str, tmp_path: Path) -> None:
    env = {**os.environ, name: value, "DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "bot", "runs"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: invalid value for {name}")
