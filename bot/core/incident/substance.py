"""Does an incident say anything? Links, mentions, emoji and punctuation alone give the model nothing to analyse."""

from __future__ import annotations

import re

from bot.core.incident.model import Incident
from bot.errors import InputError

# The threshold: at least MIN_WORDS words (2+ characters, one a letter), or MIN_IDEOGRAPHS characters of a script
# written without spaces (Chinese, Japanese, Thai). "db down" is too little to analyse; "checkout returns 500s" is
# enough.
MIN_WORDS = 3
MIN_IDEOGRAPHS = 6

_NOISE = re.compile(
    r"<[^>\s]*>"  # Slack markup: <@U123>, <#C1|x>, <https://…|label>
    r"|\b(?:https?|ftp)://\S+|\bwww\.\S+"  # bare links
    r"|:[a-z0-9_+'-]+:"  # emoji shortcodes such as :fire:
    r"|@\w+",  # resolved mentions
    re.IGNORECASE,
)
_CHUNK = 16384
_WORD = re.compile(r"\w*[^\W\d_]\w*")
_IDEOGRAPH = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def substance(text: str) -> tuple[int, int]:
    """(words, ideographs) left once links, mentions and emoji are set aside."""
    plain = _NOISE.sub(" ", text)
    return sum(1 for w in _WORD.findall(plain) if len(w) >= 2), len(_IDEOGRAPH.findall(plain))


def require_content(incident: Incident, where: str) -> None:
    """Raise InputError when the incident has too little text for an analysis (see MIN_WORDS)."""
    words = ideographs = 0
    for msg in incident.messages:
        for part in (msg.text, *(a.text for a in msg.attachments if a.text)):
            # In chunks, so a 50 MB log is judged by its first lines rather than scanned whole.
            for start in range(0, len(part), _CHUNK):
                w, n = substance(part[start : start + _CHUNK])
                words, ideographs = words + w, ideographs + n
                if words >= MIN_WORDS or ideographs >= MIN_IDEOGRAPHS:
                    return
    raise InputError(
        f"{where} has no incident content to analyse ({words} word{'s' if words != 1 else ''} besides links, "
        f"mentions and emoji; at least {MIN_WORDS} are needed)",
        "pass the incident's messages, logs or notes, not just a link or a reaction",
    )
