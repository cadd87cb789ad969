"""Which parts of a posted text Slack would turn into a notification.

Written independently of the bot's own neutraliser, so tests judge its output instead of repeating it.
Conservative: HTML-escaped forms count as live (a markdown block may unescape them before parsing) and
case does not matter; a zero-width character after the "@" breaks a mention, as in Slack.
"""

from __future__ import annotations

import re

_LIVE = re.compile(
    r"(?:<|&lt;)(?:!(?:channel|here|everyone|subteam\^)[^>]*|@[UW][A-Z0-9]*[^>]*)(?:>|&gt;)"
    r"|(?<![\w@])@(?:channel|here|everyone)\b",
    re.IGNORECASE,
)


def live_mentions(text: str) -> list[str]:
    return _LIVE.findall(text)
