"""Domain errors. Each carries a plain-language cause, a fix, and a CLI exit code."""

from __future__ import annotations


class PostmortemError(Exception):
    """Base error: ``str(err)`` is one line, cause then fix."""

    exit_code = 4

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} — fix: {self.fix}" if self.fix else self.message


class InputError(PostmortemError):
    """The incident input is unusable (missing file, empty, bad JSON)."""

    exit_code = 2


class ConfigError(PostmortemError):
    """A setting has a bad value."""

    exit_code = 2


class LLMUnavailable(PostmortemError):
    """The LLM server cannot be reached or does not answer usefully."""

    exit_code = 3


class ModelNotFound(LLMUnavailable):
    """The configured model is not pulled on the server."""


class LLMBusy(LLMUnavailable):
    """The server kept answering 429/503 after our retries, or asked for a wait long enough to go elsewhere."""

    def __init__(self, message: str, fix: str | None = None, *, retry_after_s: float | None = None) -> None:
        super().__init__(message, fix)
        self.retry_after_s = retry_after_s  # how long the server asked us to stay away, when it said


class LLMTimeout(PostmortemError):
    """The model stalled past LLM_TIMEOUT_S."""


class EmptyOutput(PostmortemError):
    """The model answered with no text."""


class NarrationError(PostmortemError):
    """No TTS engine could produce audio."""
