"""Local Slack emulator for end-to-end tests (see README.md)."""

from .errors import SlackError
from .server import Call, SlackEmulator
from .socket_mode import Ack

__all__ = ["Ack", "Call", "SlackEmulator", "SlackError"]
