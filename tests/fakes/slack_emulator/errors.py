"""The error every emulated Web API method raises; rendered as Slack's ok=false body."""

from typing import Any


class SlackError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra  # e.g. response_metadata.messages, like Slack's invalid_blocks

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}
