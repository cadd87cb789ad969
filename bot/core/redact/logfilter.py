"""A logging filter that redacts secrets and personal data from every record a handler emits.

Installed on handlers (not loggers): a logger's filters see only records logged on that very logger,
while a handler's see every record that reaches it, from any library (slack_sdk logs request bodies).
"""

from __future__ import annotations

import logging

from bot.core.redact import redact_text

REDACTED_MARK = "_redacted"  # set on a record once redacted, so a second handler does not pay again


class RedactingFilter(logging.Filter):
    """Rewrites the message (with its args), the traceback text and the stack text; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, REDACTED_MARK, False):
            return True
        setattr(record, REDACTED_MARK, True)
        rendered, formatted = _message(record)
        redacted = redact_text(rendered)
        if redacted != rendered or not formatted:
            # The args are folded into the message: formatting them again would bring the secret back
            # (or, for a bad format, make logging print them raw in its "Logging error" report).
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatters cache the traceback text here and reuse it, so this is what gets written.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


def _message(record: logging.LogRecord) -> tuple[str, bool]:
    """The message with its args, and whether they formatted."""
    try:
        return record.getMessage(), True
    except (TypeError, ValueError, KeyError):
        # A bad format call ("%d" with a string) must neither crash the caller nor lose the args.
        return f"{record.msg} (log arguments did not match the format: {record.args!r})", False


def install(logger: logging.Logger | None = None) -> RedactingFilter:
    """Add one filter to every handler the logger (the root by default) has now; returns it."""
    target = logger or logging.getLogger()
    redacting = RedactingFilter()
    for handler in target.handlers:
        handler.addFilter(redacting)
    return redacting
