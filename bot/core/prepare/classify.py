"""What a line or message is worth to a postmortem: chatter, routine, or key (must keep)."""

from __future__ import annotations

import re

_CHANGE = re.compile(
    r"(?i)\b(?:deploy(?:s|ed|ing|ment)?|rollbacks?|roll(?:ed|ing)?[ -]back|releas(?:e|ed|es|ing)"
    r"|revert(?:s|ed|ing)?|hotfix(?:es)?|rollout)\b"
)
_KEY = re.compile(
    r"(?i)\b(?:errors?|exceptions?|fatal|panic(?:ked)?|traceback|critical|crit|fail(?:s|ed|ure|ing)?"
    r"|crash(?:ed|es|ing)?|oom(?:killed)?|unhandled|timed out|timeouts?|outage"
    r"|alert(?:s|ing|ed)?|firing|fired|triggered|resolved|recovered|pag(?:e|ed|ing)|pagerduty|opsgenie)\b"
)
_METRIC = re.compile(
    r"(?i)\bp(?:50|75|90|95|99|999)\b|latency|\bcpu\b|memory|\bmem\b|heap|\b[45]xx\b|error[ _-]?rate"
    r"|spik(?:e|es|ed|ing)|saturat|timeout|timed out|\bqps\b|\brps\b|throughput|%"
)
_DIGIT = re.compile(r"\d")
# Whole messages made only of these words (plus emoji and mentions) carry no information.
_CHATTER_WORDS = frozenset(
    {
        "+1", "+100", "ack", "acked", "ty", "thx", "thanks", "thank", "you", "ta", "cheers", "looking", "look", "into",
        "it", "on", "checking", "check", "lgtm", "same", "ok", "okay", "k", "kk", "yep", "yes", "yeah", "yup", "nope",
        "cool", "nice", "great", "np", "sure", "got", "will", "do", "me", "too", "here", "👍", "👀", "🙏", "🙌", "✅", "💯",
        "🔥", "^", "^^", "this", "agreed", "noted", "roger",
    }
)
_EMOJI_CODE = re.compile(r":[a-z0-9_+'-]+:")
_MENTION = re.compile(r"@[\w.-]+")


def is_change(text: str) -> bool:
    """Deploys, rollbacks, releases: never folded into templates (the versions matter)."""
    return bool(_CHANGE.search(text))


def is_metric_spike(text: str) -> bool:
    return bool(_DIGIT.search(text) and _METRIC.search(text))


def is_key(text: str) -> bool:
    """Errors, alerts, pages, deploys/rollbacks/releases and metric spikes: always worth keeping."""
    return bool(_KEY.search(text) or _CHANGE.search(text) or is_metric_spike(text))


def is_chatter(text: str) -> bool:
    """'+1', 'looking', 'thanks @bob', emoji-only: acknowledgements with no content."""
    text = _MENTION.sub(" ", _EMOJI_CODE.sub(" ", text.lower()))
    words = [w.strip(".,!?:;()\"'") for w in text.split()]
    words = [w for w in words if w]
    if not words:
        return True
    if len(words) > 6:
        return False
    return all(w in _CHATTER_WORDS or not any(ch.isalnum() for ch in w) for w in words)
