"""Our own rules: only what the gitleaks list does not cover for chat and log text.

Gitleaks is built to scan repositories with few false alarms, so it wants exact token formats, skips
documented example keys and low-entropy values, and has no personal-data rules. In an incident thread
over-redaction is cheap and a leak is not, so these rules fill those gaps. Each says why it exists.
Patterns start with a literal where possible (the regex engine then jumps between candidates); word
boundaries are checked by a lookbehind placed after that literal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.redact.scan import KeywordIndex

Replace = Callable[[re.Match[str]], tuple[str, str | None]]


def placeholder(kind: str) -> str:
    return f"[REDACTED:{kind}]"


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    # Returns the replacement and the kind counted; a kind of None means "not a secret after all".
    replace: Replace
    # Lower-case substrings: the rule runs only on the lines holding one (see scan.py). Patterns that
    # cannot start with a literal scan every position (~15x slower on a 5 MB log) and need them most.
    hints: tuple[str, ...] = ()
    index: KeywordIndex = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", KeywordIndex([self.hints]))


# Text that is already a placeholder is never redacted again (and so never counted twice).
_DONE = "[REDACTED:"


def whole(kind: str) -> Replace:
    return lambda m: (m.group(), None) if _DONE in m.group() else (placeholder(kind), kind)


def value(kind: str, group: str = "value") -> Replace:
    """Replace only the named group; the key name and separator around it stay readable."""

    def sub(m: re.Match[str]) -> tuple[str, str | None]:
        start, end = m.span(group)
        whole = m.group()
        if m.group(group).startswith(_DONE):
            return whole, None
        base = m.start()
        return whole[: start - base] + placeholder(kind) + whole[end - base :], kind

    return sub


# Values that name a secret rather than hold one: placeholders, variable references, empty markers, a lone "\"
# (a command continued on the next line, where continued.py finds the value).
NOT_A_VALUE = re.compile(
    r"\[REDACTED|\$\{?\w+\}?$|\{\{.*\}\}$|%\w+%$|<[\w -]+>$|\*+$|-+$|\\+$|\(?(?i:true|false|null|none|nil|undefined|n/a)\)?$"
)

_KV_KIND = {"pass": "password", "pwd": "password", "secret": "secret", "token": "token"}


# An unquoted value that is an ordinary word ("token: expired", "Secret: db-creds mounted") is prose, not a
# secret: real values carry a digit, a symbol or mixed case. Quoted values are kept as values whatever they are.
_PLAIN_WORDS = re.compile(r"(?:[A-Z]?[a-z]{2,}|[A-Z]{3,})(?:-[a-z]+)*")


def key_value(m: re.Match[str], delimited: bool = False) -> tuple[str, str | None]:
    """``delimited``: the value's extent is certain (a JSON string, an XML element), so any word counts."""
    found = m.group("value")
    if NOT_A_VALUE.match(found) or (not (delimited or m.groupdict().get("quote")) and _PLAIN_WORDS.fullmatch(found)):
        return m.group(), None
    key = m.group("key").lower()
    kind = next((k for prefix, k in _KV_KIND.items() if prefix in key), "api-key" if "key" in key else "credential")
    return value(kind)(m)


def _phone(m: re.Match[str]) -> tuple[str, str | None]:
    # North American numbers are +1 and exactly ten more digits; elsewhere at least nine digits in all.
    # Shorter runs are counts or status codes ("+1 500 502 503"), not phone numbers.
    number = m.group(0)
    digits = sum(ch.isdigit() for ch in number)
    nanp = number.startswith("+1") and not number[2].isdigit()
    if not (digits == 11 if nanp else digits >= 9):
        return number, None
    return placeholder("phone"), "phone"


def _ipv4(m: re.Match[str]) -> tuple[str, str | None]:
    octets = [int(o) for o in m.group().split(".")]
    # Loopback, "any", broadcast and netmasks identify no one; a number over 255 is a version, not an address.
    if max(octets) > 255 or octets[0] in (0, 127, 255):
        return m.group(), None
    return placeholder("ipv4"), "ipv4"


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


# Issuer prefixes and lengths (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay): with the Luhn
# check they keep epoch milliseconds, order ids and counters from looking like cards.
# 19-digit forms are left out: decimal trace ids (Datadog) are 19 digits and would match one in ten.
_CARD_IIN = re.compile(
    r"4\d{12}(?:\d{3})?|5[1-5]\d{14}|2(?:2[2-9]|[3-6]\d|7[01])\d{13}|3[47]\d{13}"
    r"|6(?:011|5\d\d|4[4-9]\d)\d{12}|35\d{14}|3(?:0[0-5]|[689]\d)\d{11}|62\d{14}"
)


def _card(m: re.Match[str]) -> tuple[str, str | None]:
    number = m.group()
    seps = {ch for ch in number if not ch.isdigit()}
    digits = re.sub(r"\D", "", number)
    if len(seps) > 1 or not _CARD_IIN.fullmatch(digits) or not luhn_ok(digits):
        return number, None
    return placeholder("card-number"), "card-number"


# "sess" alone would send every line about sessions through the rule.
_SESSION_HINTS = ("sessid", "sess_id", "sess-id", "sessionid", "session_id", "session-id")
_FLAGS = ("password", "passwd", "token", "secret", "api-key", "access-token", "auth-token", "client-secret")
KEY_NAMES = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|credentials?|sess(?:ion)?[_-]?id|jsessionid|phpsessid"
    r"|(?:api|access|account|secret|private|signing|encryption|master|client|auth|service)[_-]?key|apikey"
)
# A field that names a secret: a name (maybe a path, "/prod/db/password", or dotted, "db.password") ending in a key name.
SECRET_FIELD = rf"[\w./:-]{{0,60}}?(?:{KEY_NAMES})"

# Run before the gitleaks rules: multi-line blocks, and vendor tokens whose kind should not be taken by
# gitleaks' generic key=value rule.
BEFORE: tuple[Rule, ...] = (
    # Gitleaks' private-key rule needs the END line; truncated pastes are redacted to the end of the base64 body,
    # which inside JSON is split by literal "\n" escapes (doubled when the JSON is itself quoted). The body is runs of
    # base64 and its headers (Proc-Type, DEK-Info): a word followed by ":" or "_" is the text after it ("env:",
    # "DB_PASSWORD"), which must stay, or the name of the next secret is lost with it.
    Rule(
        re.compile(
            r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:.*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
            r"|(?:(?:[ \t]*(?:\r?\n|\\+[nr])[ \t]*|[ \t]+)(?:[A-Za-z0-9+/=]{4,}(?![:\w])|(?:Proc-Type|DEK-Info|Comment):[^\n\\]*))*)",
            re.DOTALL,
        ),
        whole("private-key"),
    ),
    # No gitleaks rule for credentials inside URLs (DSNs, git remotes); the scheme and host stay. The user may
    # be empty (redis://:pw@) and the password may hold "/" or an unencoded "@": it runs to the last "@" before
    # a host. A digits-only part after ":" is a port ("https://wiki:8443/u/a@b"), not a password.
    Rule(
        re.compile(
            r"://(?P<value>[^\s/@:]*:(?!\d{1,5}(?:[/?#\s]|$))[^\s@?#]*(?:@[^\s@/?#]*)*)"
            r"@(?=[\w.\[\]-]+(?::\d+)?(?:[/?#\s\"'`,;)]|$))"
        ),
        value("url-credentials"),
    ),
    # Vendor prefixes: gitleaks wants exact lengths and skips documented example keys; a truncated or
    # example token in a chat still names an account, so any token with the prefix goes (Slack's in any case:
    # "XOXB-…" still authenticates).
    Rule(
        re.compile(r"xox(?<!\wxox)[a-z](?:\.xox[a-z])?-[A-Za-z0-9-]{8,}|xapp(?<!\wxapp)-[A-Za-z0-9-]{8,}", re.IGNORECASE),
        whole("slack-token"),
    ),
    Rule(re.compile(r"gh(?<!\wgh)[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,}"), whole("github-token")),
    Rule(re.compile(r"gl(?<!\wgl)(?:pat|dt|rt|ptt|cbt|imt|agent|oas|soat|ft)-[A-Za-z0-9_.-]{10,}"), whole("gitlab-token")),
    Rule(
        re.compile(r"(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)(?<!\w....)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        whole("aws-key"),
    ),
    Rule(re.compile(r"sk(?<!\wsk)-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_-]{16,}"), whole("openai-key")),
    Rule(
        re.compile(r"[rsp]k(?<!\w[rsp]k)_(?:live|test|prod)_[A-Za-z0-9]{8,}|whsec_[A-Za-z0-9]{16,}"),
        whole("stripe-key"),
        ("k_live_", "k_test_", "k_prod_", "whsec_"),  # a class first: the engine cannot skip ahead alone
    ),
    Rule(re.compile(r"npm(?<!\wnpm)_[A-Za-z0-9]{20,}"), whole("npm-token")),
    Rule(re.compile(r"AIza[A-Za-z0-9_-]{30,}"), whole("google-api-key")),
    Rule(re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/+_-]{8,}"), whole("slack-webhook")),
    Rule(re.compile(r"eyJ(?<!\weyJ)[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), whole("jwt")),
)

# Run after the gitleaks rules: catch-alls and personal data.
AFTER: tuple[Rule, ...] = (
    # Gitleaks matches Authorization only inside a curl command; logs and HTTP dumps carry it bare.
    # With an explicit scheme any value is a credential; without one, only values with a digit,
    # so prose such as "Authorization: required" survives.
    Rule(
        re.compile(
            r"(?i)\bAuthorization[\"']?\s*[:=]\s*[\"']?(?:(?P<scheme>Bearer|Basic|Token|Digest|Bot|Negotiate)\s+)?"
            r"(?!\[REDACTED)(?P<value>(?(scheme)[^\s\"',;]{4,}|(?=[^\s\"',;]*\d)[^\s\"',;]{8,}))"
        ),
        value("auth-header"),
        ("authorization",),
    ),
    Rule(re.compile(r"Bearer(?<!\wBearer)\s+(?P<value>(?=[A-Za-z0-9._~+/-]*\d)[A-Za-z0-9._~+/-]{8,}=*)"), value("bearer-token")),
    # Session cookies are bearer credentials; gitleaks has no cookie rule.
    Rule(re.compile(r"(?i)\b(?:set-)?cookie:[ \t]*(?P<value>(?!\[REDACTED)[^\n]+)"), value("cookie"), ("cookie:",)),
    # Gitleaks' generic rule wants 10+ characters of high entropy; "DB_PASSWORD=hunter2" must go too.
    # The key name may be glued to a prefix (PGPASSWORD, SLACK_SIGNING_SECRET) but must end the key.
    Rule(
        re.compile(
            rf"(?i)(?P<key>{KEY_NAMES})[\"']?\s*(?:=>|:=|[:=])\s*"
            # A "{" or "[" opens a nested object or list (structured.py looks inside), "<<" a heredoc (spanning.toml):
            # neither is the value.
            r"(?P<quote>[\"'])?(?P<value>(?(quote)[^\"'\n]+|(?![{\[]|<<)(?:[^\s\"'&,;]|[&,;](?![\w-]+=|\s|$))+))"
        ),
        key_value,
        ("pass", "pwd", "secret", "token", "key", "credential", *_SESSION_HINTS),
    ),
    # Prose: "the password is hunter2". Only values with a digit or symbol, so "password is wrong" stays.
    Rule(
        re.compile(
            r"(?i)(?:pass(?:word|wd|code|phrase)|pwd)s?\s+(?:is|was|=|:)\s+[\"'`]?(?!<<)"
            r"(?P<value>(?=[^\s\"'`]*?[^A-Za-z\s\"'`.,;:!?])[^\s\"'`]*[^\s\"'`.,;:!?)\]])"
        ),
        value("password"),
        ("pass", "pwd"),
    ),
    # Signed URLs (Azure SAS, S3 and GCS presigned) carry the grant in query parameters.
    Rule(
        re.compile(r"(?i)[?&](?:sig|signature|x-(?:amz|goog)-(?:signature|credential|security-token))=(?P<value>[^&\s#\"']+)"),
        value("signature"),
        ("sig=", "signature=", "-credential=", "-security-token="),
    ),
    # Command-line flags take the value after a space: --password hunter2, PowerShell's -Password hunter2.
    Rule(
        re.compile(rf"-(?<![\w-]-)-?(?P<key>(?i:{'|'.join(_FLAGS)})) +(?P<value>[^\s-]\S*)"),
        key_value,
        tuple(f"-{flag}" for flag in _FLAGS),
    ),
    Rule(re.compile(r"mysql\b[^\n]*?\s-p(?P<value>[^\s-]\S*)"), value("password"), ("mysql",)),
    # Gitleaks' curl-auth-user needs "curl" on the same line; continued commands, wget and httpie do not.
    Rule(
        re.compile(
            r"-(?<![\w-]-)(?:u|-user|-http-user|-auth)[= ]+[\"']?"
            r"(?P<value>(?!\d+:\d+\b|\[REDACTED)[^\s:\"'/]+:[^\s\"']+)"  # not uid:gid (docker run -u 1000:1000)
        ),
        value("basic-auth"),
        ("-u", "--user", "--http-user", "--auth"),
    ),
    # Not git's SSH remotes (git@github.com:org/repo): an account of the host, not a person.
    # RFC 5321 bounds (64-character local part, 63-character labels) keep "x@a.a.a…!" linear, not quadratic.
    Rule(
        re.compile(
            r"\b(?!git@)[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}\b"
        ),
        whole("email"),
        ("@",),
    ),
    # International: "+" not glued to a digit or word (ISO offsets such as +00:00 have colons).
    Rule(
        re.compile(r"\+(?<![\w+]\+)\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}(?![\w:.])"),
        _phone,
    ),
    # US: one consistent separator (so "120 350 1200" latencies and ISO dates do not match); a leading
    # "1-" trunk prefix is part of the number ("1-800-555-0199" was half redacted).
    Rule(re.compile(r"(?:\b1[-. ])?(?:\(\d{3}\)\s?|\b\d{3}([-.]))\d{3}(?(1)\1|[-.])\d{4}\b(?![.:-]\d)"), whole("phone")),
    # Addresses identify people and hosts; a "v" or a fifth part makes it a version string.
    Rule(re.compile(r"\d(?<![\w.]\d)\d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\w]|\.\d)"), _ipv4),
    # Cards: 13-16 digits in one run or in groups split by one kind of separator; checked by _card.
    Rule(re.compile(r"\d(?<![\w.,+-]\d)\d{3}(?:[ -]?\d{2,4}){2,4}\d?(?![\w.,-]?\d)"), _card),
)
