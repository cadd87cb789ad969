"""Make every mention in text the bot writes inert, so a postmortem, a digest, a canvas or a ticket never pings.

The model copies what it read, and the thread it read is full of ``<!here>``, ``<@U…>`` and ``@channel``.
Anything Slack could turn into a notification becomes ``@`` + WORD JOINER + a plain name: it reads the same,
but is no longer Slack's syntax nor a bare ``@channel`` a client could linkify. Channel links (``<#C…|name>``)
and dates (``<!date^…>``) notify nobody and are kept. A canvas's own mention (``![](@U123)``) is made inert
the same way. Where the text goes to GitHub, which notifies ``@user`` and ``@org/team``, ``handles=True``
also puts the joiner after every other ``@``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# U+2060 WORD JOINER: invisible, and unlike a zero-width space it allows no line break after the "@".
INERT_AT = "@\u2060"
# Shown for the "<" of a leftover "<@…>" or "<!…>" that is no known mention: the reader still sees it.
INERT_OPEN = "‹"
# Zero-width characters someone (or a model) may have put inside a mention; Slack may strip them.
_ZW = "[\u200b\u200c\u200d\u2060\ufeff]*"
# Slack's control characters may arrive HTML-escaped (copied from an API payload or an export).
_OPEN = rf"(?:<|&lt;){_ZW}"
_CLOSE = r"(?:>|&gt;)"
# Inside a mention: neither bracket, raw or escaped. Stopping at the next "&lt;" keeps each try short, so a line of
# 10,000 unclosed "&lt;@U1|" stays linear instead of rescanning to the end of the line from each one.
_INSIDE = r"(?:[^<>&\n]|&(?!lt;|gt;))"
_LABEL = rf"(?:\|(?P<label>{_INSIDE}*?))?"

# <!here>, <!channel|@channel>, <!everyone>, <!subteam^S123|@oncall>, <!subteam^S123>, <!date^…|…>
_SPECIAL = re.compile(rf"{_OPEN}!{_ZW}(?P<cmd>[a-z]+)(?P<arg>\^(?:(?!\|){_INSIDE})*?)?{_LABEL}{_CLOSE}", re.IGNORECASE)
# <@U123>, <@W123|alice>
_USER = re.compile(rf"{_OPEN}@{_ZW}(?P<id>[UW][A-Z0-9]+){_LABEL}{_CLOSE}", re.IGNORECASE)
# A canvas mention: ![](@U123) or ![alice](@U123); the closing ")" is not needed for a client to try it.
_CANVAS = re.compile(rf"!\[(?P<label>[^\]\n]*)\]\(@{_ZW}(?P<id>[A-Za-z0-9]*)\)?")
# Bare @channel/@here/@everyone, except inside an address (ops@here.com) or a URL path (/@here); anything
# else before the "@" (punctuation, markup such as _italic_) could still let a client read it as a broadcast.
_BROADCAST = re.compile(rf"(?<![^\W_])(?<![@/])@{_ZW}(?P<word>channel|here|everyone)(?![^\W_])", re.IGNORECASE)
# What is left of Slack's mention syntax after the known forms ("<@bot>", "<!here2>"): no known ping, but no
# one can vouch for every client, so its "<" goes. Dates are kept; "<!-- …" is no mention syntax.
_LEFTOVER = re.compile(rf"(?:<|&lt;)(?={_ZW}(?:@|!(?!{_ZW}date\^)){_ZW}\w{_INSIDE}*{_CLOSE})", re.IGNORECASE)
# GitHub: @user, @org/team, also after a word character (GitHub's own rule differs by context; this never misses).
_HANDLE = re.compile(r"@(?=[A-Za-z0-9_-])")

_HARMLESS = {"date"}  # <!date^…> only formats a time


def _special(match: re.Match[str]) -> str:
    cmd = match.group("cmd")
    if cmd.lower() in _HARMLESS:
        return match.group(0)
    label = (match.group("label") or "").strip().lstrip("@")
    if cmd.lower() == "subteam":
        return INERT_AT + (label or (match.group("arg") or "^group").lstrip("^"))
    return INERT_AT + cmd


def neutralise_mentions(text: str, names: Mapping[str, str] | None = None, *, handles: bool = False) -> str:
    """``text`` with every mention made inert. ``names`` (user id → display name) names users; unknown ids
    stay as the label or the bare id. ``handles``: also every bare ``@name`` (for GitHub)."""
    names = names or {}

    def user(match: re.Match[str]) -> str:
        uid = match.group("id").upper()
        label = (match.group("label") or "").strip().lstrip("@")
        return INERT_AT + (names.get(uid) or label or uid)

    # Until nothing changes: a mention nested in another's label (<!subteam^S1|<!channel>>) is only exposed once
    # the inner one is made inert. Each pass removes mention syntax, so this ends; the bound is a safety net.
    for _ in range(8):
        before = text
        text = _SPECIAL.sub(_special, text)
        text = _USER.sub(user, text)
        text = _CANVAS.sub(user, text)
        text = _BROADCAST.sub(lambda m: INERT_AT + m.group("word"), text)
        if text == before:
            break
    text = _LEFTOVER.sub(INERT_OPEN, text)
    return _HANDLE.sub(INERT_AT, text) if handles else text
