"""Secrets and personal data → typed placeholders such as ``[REDACTED:aws-key]``.

Rules run in order: multi-line private keys first (their base64 body would otherwise trip line
rules), URL credentials before emails (``user:pass@host`` looks like an email), specific token
shapes before the generic ``key=value`` rule (which skips values that are already placeholders).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

PLACEHOLDER = "[REDACTED:{}]"


def _ph(kind: str) -> str:
    return PLACEHOLDER.format(kind)


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    # Returns the replacement and the kind counted; a kind of None means "not a secret after all".
    replace: Callable[[re.Match[str]], tuple[str, str | None]]
    # Lower-case substrings one of which must occur for the rule to run at all. Patterns that cannot
    # start with a literal scan every position (~15x slower on a 5 MB log); the check skips them cheaply.
    hints: tuple[str, ...] = ()


def _whole(kind: str) -> Callable[[re.Match[str]], tuple[str, str | None]]:
    return lambda m: (_ph(kind), kind)


def _keep_prefix(kind: str) -> Callable[[re.Match[str]], tuple[str, str | None]]:
    """Keep group 1 (the key name and separator), replace the rest."""
    return lambda m: (m.group(1) + _ph(kind), kind)


_KV_KINDS = {"password": "password", "passwd": "password", "secret": "secret", "client_secret": "secret"}


def _key_value(m: re.Match[str]) -> tuple[str, str | None]:
    key = m.group("key").lower().replace("-", "_")
    kind = _KV_KINDS.get(key) or ("api-key" if "api" in key else "token")
    return m.group("head") + _ph(kind), kind


def _phone(m: re.Match[str]) -> tuple[str, str | None]:
    # North American numbers are +1 and exactly ten more digits; elsewhere at least nine digits in all.
    # Shorter runs are counts or status codes ("+1 500 502 503"), not phone numbers.
    number = m.group(0)
    digits = sum(ch.isdigit() for ch in number)
    nanp = number.startswith("+1") and not number[2].isdigit()
    if not (digits == 11 if nanp else digits >= 9):
        return number, None
    return _ph("phone"), "phone"


# Patterns start with a literal where possible (the regex engine then jumps between candidates);
# word boundaries are checked by a lookbehind placed after that literal.
_RULES: tuple[_Rule, ...] = (
    # Unterminated blocks (truncated pastes) are redacted through the end of the base64 body.
    _Rule(
        re.compile(
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:.*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s:,-]*)",
            re.DOTALL,
        ),
        _whole("private-key"),
    ),
    # The scheme before "://" and the host after "@" stay.
    _Rule(re.compile(r"://[^\s/@:]+:[^\s/@]+@"), lambda m: (f"://{_ph('url-credentials')}@", "url-credentials")),
    _Rule(
        re.compile(r"xox(?<!\wxox)[a-z](?:\.xox[a-z])?-[A-Za-z0-9-]{8,}|xapp(?<!\wxapp)-[A-Za-z0-9-]{8,}"),
        _whole("slack-token"),
    ),
    _Rule(re.compile(r"gh(?<!\wgh)[pousr]_[A-Za-z0-9]{30,}\b|github_pat_[A-Za-z0-9_]{22,}"), _whole("github-token")),
    _Rule(re.compile(r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)(?<!\w....)[A-Z0-9]{16}\b"), _whole("aws-key")),
    _Rule(
        re.compile(r"(?i)(aws_secret_access_key[\"']?\s*[=:]\s*[\"']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"),
        _keep_prefix("aws-secret"),
        ("aws_secret_access_key",),
    ),
    _Rule(re.compile(r"[sr]k_live_[A-Za-z0-9]{16,}"), _whole("stripe-key")),
    _Rule(re.compile(r"AIza[A-Za-z0-9_-]{35}"), _whole("google-api-key")),
    _Rule(re.compile(r"eyJ(?<!\weyJ)[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), _whole("jwt")),
    # With an explicit scheme any value is a credential; without one, only values with a digit,
    # so prose such as "Authorization: required" survives.
    _Rule(
        re.compile(
            r"(?i)(\bAuthorization[\"']?\s*[:=]\s*[\"']?(?:(?P<scheme>Bearer|Basic|Token|Digest|Bot)\s+)?)"
            r"(?!\[REDACTED)(?(scheme)[^\s\"',;]{4,}|(?=[^\s\"',;]*\d)[^\s\"',;]{8,})"
        ),
        _keep_prefix("auth-header"),
        ("authorization",),
    ),
    _Rule(
        re.compile(r"(Bearer(?<!\wBearer)\s+)(?=[A-Za-z0-9._~+/-]*\d)[A-Za-z0-9._~+/-]{8,}=*"),
        _keep_prefix("bearer-token"),
    ),
    _Rule(
        re.compile(
            r"(?i)(?P<head>\b(?P<key>password|passwd|secret|client_secret|api[_-]?key|apikey"
            r"|access[_-]?token|auth[_-]?token|token)[\"']?\s*[:=]\s*[\"']?)"
            r"(?!\[REDACTED)[^\s\"'&,;]+"
        ),
        _key_value,
        ("pass", "secret", "api", "token"),
    ),
    _Rule(
        re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"), _whole("email"), ("@",)
    ),
    # International: "+" not glued to a digit or word (ISO offsets such as +00:00 have colons).
    _Rule(
        re.compile(r"\+(?<![\w+]\+)\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}(?![\w:.])"),
        _phone,
    ),
    # US: one consistent separator (so "120 350 1200" latencies and ISO dates do not match).
    _Rule(re.compile(r"(?:\(\d{3}\)\s?|\b\d{3}([-.]))\d{3}(?(1)\1|[-.])\d{4}\b(?![.:-]\d)"), _whole("phone")),
)


def redact(text: str) -> tuple[str, Counter[str]]:
    """Replace secrets and personal data with ``[REDACTED:<kind>]``; return the text and counts per kind."""
    counts: Counter[str] = Counter()

    def apply(rule: _Rule) -> Callable[[re.Match[str]], str]:
        def sub(m: re.Match[str]) -> str:
            replacement, kind = rule.replace(m)
            if kind:
                counts[kind] += 1
            return replacement

        return sub

    lowered = text.lower()
    for rule in _RULES:
        if not rule.hints or any(hint in lowered for hint in rule.hints):
            text = rule.pattern.sub(apply(rule), text)
    return text, counts
