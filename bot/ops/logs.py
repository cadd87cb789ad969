"""Logging set-up for every command: text (the default) or one JSON object a line (``LOG_FORMAT=json``).

Every record passes the redaction filter (bot/core/redact/logfilter.py) on its way to the handler. A JSON line also
carries the record's extra fields and its traceback as fields of their own, so those are redacted here as well;
lines logged while a run is in progress carry its run id, channel and thread (``bind_run``).
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import Any, Protocol, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from bot.core.redact import logfilter, redact_text

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Fields only the formatter writes (the message was redacted by the filter). The run's ids are redacted like any
# extra: a caller's ``extra={"channel": …}`` takes their place, and redaction leaves real ids as they are.
_OWN_FIELDS = frozenset({"time", "level", "logger", "message"})


class _Where(Protocol):
    @property
    def channel(self) -> str: ...

    @property
    def thread_ts(self) -> str | None: ...


class RunFields(Protocol):
    """What a log line says about the run it belongs to (bot.core.run.Run has these). Read when each line is
    written, so a thread the run opens later (a bare `/postmortem` posts its root first) shows from then on."""

    @property
    def id(self) -> int | None: ...

    @property
    def target(self) -> _Where: ...


_current_run: ContextVar[RunFields | None] = ContextVar("postmortem_run", default=None)


def bind_run(run: RunFields) -> None:
    """Attach ``run`` to every line logged from here on in this task and the tasks and threads it starts (asyncio
    copies the context into each): call it at the start of the task that works on the run."""
    _current_run.set(run)


class RunContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        run = _current_run.get()
        if run is not None:
            record.run_id, record.channel, record.thread_ts = run.id, run.target.channel, run.target.thread_ts
        return True


class RedactingJsonFormatter(JsonFormatter):
    """One JSON object a line. The message was redacted by the handler's filter; every other field that is not
    the bot's own (extras, the traceback, the stack) is redacted here."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            reserved_attrs=[*RESERVED_ATTRS, "taskName", logfilter.REDACTED_MARK],
        )

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: value if key in _OWN_FIELDS else _redacted(value) for key, value in log_data.items()}


def _redacted(value: Any) -> Any:
    """Strings redacted, containers item by item; any other object as its redacted text, since the JSON encoder
    would otherwise write its str() after this point, unredacted."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    if isinstance(value, dict):
        return {redact_text(str(key)): _redacted(item) for key, item in value.items()}  # a key can be the secret
    return redact_text(value if isinstance(value, str) else str(value))


def make_handler(log_format: str, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing to stderr (or ``stream``) in ``log_format`` ("text" or "json"), redacted, with the run's fields."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingJsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RunContextFilter())
    handler.addFilter(logfilter.RedactingFilter())
    return handler


def configure(log_format: str, *, verbose: bool = False) -> None:
    """Like ``logging.basicConfig``: a program (or pytest) that already gave the root logger handlers keeps them,
    and they get the redaction filter; otherwise the root logger writes to stderr in ``log_format``."""
    root = logging.getLogger()
    if root.handlers:
        logfilter.install(root)
        return
    root.addHandler(make_handler(log_format))
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
