"""Parse `/postmortem <permalink>` arguments: slash commands cannot run in threads, so a link picks one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

from bot.core.mentions import neutralise_mentions

# Slack escapes links in command text as <https://…> or <https://…|label>.
_WRAPPED = re.compile(r"^<([^|>]+)(?:\|[^>]*)?>$")
_PATH = re.compile(r"^/archives/([CGD][A-Z0-9]+)/p(\d{16})$")
_HOSTS = (".slack.com", ".slack-gov.com")

USAGE = (
    "Usage: `/postmortem` in an incident channel analyses its recent history; "
    "`/postmortem <link to any message of a thread>` analyses that thread "
    "(message menu → Copy link). Add `again` after the link to regenerate a finished postmortem. "
    "`/postmortem history [words]` lists past postmortems you can see."
)


class PermalinkError(ValueError):
    """The argument is not a usable permalink; the message says why, for an ephemeral reply."""


@dataclass(frozen=True)
class ThreadRef:
    channel: str
    ts: str  # the linked message's ts; the thread root is looked up from it
    thread_ts: str | None  # present when the link is to a reply


def _to_ts(digits: str) -> str:
    return f"{digits[:10]}.{digits[10:]}"


def parse_permalink(arg: str, team_domain: str | None) -> ThreadRef:
    text = arg.strip()
    wrapped = _WRAPPED.match(text)
    if wrapped:
        text = wrapped.group(1)
    url = urlparse(text)
    host = url.hostname or ""
    if url.scheme != "https" or not host.endswith(_HOSTS):
        # The argument is echoed back; whatever it holds must not ping (Slack escapes @here to <!here> in commands).
        raise PermalinkError(f"`{neutralise_mentions(arg.strip()[:80])}` is not a Slack message link. {USAGE}")
    domain = host.split(".")[0]
    if team_domain and domain != team_domain:
        raise PermalinkError(
            f"That link is from the `{domain}` workspace; this bot only reads threads in `{team_domain}`."
        )
    match = _PATH.match(url.path)
    if not match:
        raise PermalinkError(f"That link does not point at a message. {USAGE}")
    query = parse_qs(url.query)
    thread_ts = query.get("thread_ts", [None])[0]
    if thread_ts is not None and not re.fullmatch(r"\d{10}\.\d{6}", thread_ts):
        raise PermalinkError(f"That link's thread_ts `{thread_ts}` is malformed. {USAGE}")
    return ThreadRef(channel=match.group(1), ts=_to_ts(match.group(2)), thread_ts=thread_ts)
