"""RedactingFilter on a real handler: what reaches the stream has no secrets, whatever the call shape."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.core.redact.logfilter import RedactingFilter, install

_TOKEN = "xoxb-" + "2489562301-4915847102355-a1B2c3D4e5F6g7H8i9J0k1L2"


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A private logger whose only handler carries the filter, as the root handler will."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(f"test.logfilter.{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    install(logger)
    yield logger, stream
    logger.removeHandler(handler)


def test_secret_in_args_is_redacted(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.info("posting with %s to %s", _TOKEN, "ops@acme.io")
    assert stream.getvalue() == "INFO posting with [REDACTED:slack-token] to [REDACTED:email]\n"


def test_secret_in_message_and_in_a_child_logger_record(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.getChild("slack").warning("DB_PASSWORD=hunter2 in env")  # propagates to the filtered handler
    assert stream.getvalue() == "WARNING DB_PASSWORD=[REDACTED:password] in env\n"


def test_traceback_text_is_redacted(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    try:
        raise ValueError(f"invalid_auth for {_TOKEN}")
    except ValueError:
        logger.exception("post failed")
    out = stream.getvalue()
    assert _TOKEN not in out
    assert "ValueError: invalid_auth for [REDACTED:slack-token]" in out and out.startswith("ERROR post failed\n")


def test_stack_info_is_redacted() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None, sinfo=f"Stack: token={_TOKEN}")
    RedactingFilter().filter(record)
    assert record.stack_info == "Stack: token=[REDACTED:slack-token]"


def test_bad_format_args_neither_crash_nor_leak(logged: tuple[logging.Logger, io.StringIO], capsys: pytest.CaptureFixture[str]) -> None:
    logger, stream = logged
    logger.info("count %d", f"password={'hunter2'}")
    out = stream.getvalue()
    assert "hunter2" not in out and "hunter2" not in capsys.readouterr().err  # no raw "Logging error" dump
    assert out.startswith("INFO count %d (log arguments did not match the format:")


def test_non_string_message_is_redacted(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.info({"url": "postgres://app:Sup3rS3cret@db:5432/x"})
    assert "Sup3rS3cret" not in stream.getvalue() and "[REDACTED:url-credentials]" in stream.getvalue()


def test_clean_record_keeps_its_args_for_lazy_formatting() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "took %d ms on %s", (1500, "checkout-7d9f8b6c4-x2x9q"), None)
    assert RedactingFilter().filter(record) is True
    assert (record.msg, record.args) == ("took %d ms on %s", (1500, "checkout-7d9f8b6c4-x2x9q"))


def test_two_filtered_handlers_redact_once_and_both_get_the_redacted_text() -> None:
    streams = [io.StringIO(), io.StringIO()]
    logger = logging.getLogger("test.logfilter.two")
    logger.propagate = False
    handlers = [logging.StreamHandler(s) for s in streams]
    for handler in handlers:
        logger.addHandler(handler)
    install(logger)
    try:
        logger.error("token %s", _TOKEN)
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
    assert [s.getvalue() for s in streams] == ["token [REDACTED:slack-token]\n"] * 2
