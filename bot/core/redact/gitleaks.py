"""The gitleaks rule list (``gitleaks.toml``, copied verbatim) as Python rules, applied line by line.

Gitleaks rules carry ``keywords``: a rule runs only on lines that contain one of them, which is what
keeps ~200 rules cheap on a 10k-line log. Its semantics are kept: the secret is the first non-empty
capture group, a rule's ``entropy`` is a floor the secret must exceed, and the global and per-rule
allowlists (regexes on the secret, match or line; stopwords in the secret) drop findings.
Rules restricted to file paths (``path =``) are skipped: an incident has no repository paths.
The rules run on RE2 (``google-re2``), the engine they were written for, so no line can make them backtrack.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast

import re2  # no stubs (mypy override in pyproject.toml); its use is typed through `re` below

from bot.core.redact.local import SECRET_FIELD
from bot.core.redact.scan import KeywordIndex, rewrite_lines

DATA_FILE = Path(__file__).with_name("gitleaks.toml")
# ~100 rules start "any 0-50 key-name characters, then the keyword". Searched as written, Python's
# engine retries that run at every position (~100 µs a line); searched from the keyword on, the
# secret is the same and the skipped key-name prefix is added back for "match" allowlists.
_KEY_PREFIX = r"(?i)[\w.-]{0,50}?"
_KEY_PREFIX_BEFORE = re.compile(r"[\w.-]{1,50}$")

# Go's RE2 syntax that Python's `re` spells differently.
_POSIX_CLASSES = {
    "[:alnum:]": "0-9A-Za-z", "[:alpha:]": "A-Za-z", "[:digit:]": "0-9", "[:lower:]": "a-z",
    "[:upper:]": "A-Z", "[:xdigit:]": "0-9A-Fa-f", "[:space:]": r"\s", "[:punct:]": r"!-/:-@\[-`{-~",
}


def _scoped_flags(pattern: str) -> str:
    """Go's ``X(?i)Y`` sets the flag up to the end of the enclosing group: Python only allows global
    flags at the start, so the rest of the group becomes ``(?i:Y)`` (reopened after each ``|``)."""
    out: list[str] = []
    scopes: list[list[str]] = [[]]  # per open group, the inline flags opened in its current alternative
    i, in_class = 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            literal = 2 if pattern[i + 1 : i + 2] == "]" else 3 if pattern[i + 1 : i + 3] == "^]" else 0
            if literal:  # "]" first in a class is a literal, not its end
                out.append(pattern[i : i + literal])
                i += literal
                continue
        elif ch == "(":
            flag = re.match(r"\(\?([a-z]+)\)", pattern[i:])
            if flag and i > 0:
                out.append(f"(?{flag.group(1)}:")
                scopes[-1].append(flag.group(1))
                i += flag.end()
                continue
            scopes.append([])
        elif ch == "|":  # Go keeps the flags for the following alternatives too
            flags = scopes[-1]
            out.append(")" * len(flags) + "|" + "".join(f"(?{f}:" for f in flags))
            i += 1
            continue
        elif ch == ")" and len(scopes) > 1:
            out.append(")" * len(scopes.pop()))
        out.append(ch)
        i += 1
    return "".join(out) + ")" * len(scopes[0])


# gitleaks ends most tokens at a delimiter of source code (quote, space, ';'). In chat and logs a token is as often
# followed by punctuation or a file extension ("SG.….log", "(ghp_…)", "xoxb-…,"), so those end a token too.
_CODE_END = r"""(?:[\x60'"\s;]|\\[nr]|$)"""
_TEXT_END = r"""(?:[\x60'"\s;.,:!?)\]}>|/]|\\[nr]|$)"""


# The list is written for Go's RE2, which runs in linear time; Python's backtracking engine took seconds on
# hostile lines ("okta1"*400, "sumoa-"*1700, a long base64 blob after "cohere:") and holds the GIL meanwhile.
# So the rules run on RE2 itself; `re` is the fallback only for a pattern RE2 rejects.
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a rejected pattern falls back quietly instead of logging to stderr



def compile_rule(pattern: str) -> re.Pattern[str]:
    """A gitleaks pattern (with chat-text token ends) on RE2, or on `re` when RE2 rejects it.

    RE2's pattern and match objects offer the part of `re`'s interface used here (search, finditer, span,
    group, start, re.groups), so they are typed as `re`'s.
    """
    try:
        return cast(re.Pattern[str], re2.compile(pattern.replace(_CODE_END, _TEXT_END), _RE2_OPTIONS))
    except re2.error:
        return re.compile(to_python_regex(pattern))


def to_python_regex(pattern: str) -> str:
    pattern = pattern.replace(_CODE_END, _TEXT_END)
    for posix, chars in _POSIX_CLASSES.items():
        pattern = pattern.replace(posix, chars)
    return _scoped_flags(pattern.replace(r"\z", r"\Z"))


def shannon_entropy(data: str) -> float:
    if not data:
        return 0.0
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in Counter(data).values())


@dataclass(frozen=True)
class Allowlist:
    regexes: tuple[re.Pattern[str], ...] = ()
    stopwords: tuple[str, ...] = ()
    target: str = "secret"  # what the regexes test: "secret", "match" or "line"
    require_all: bool = False  # condition = "AND"

    def allows(self, secret: str, match: str, line: str) -> bool:
        subject = {"match": match, "line": line}.get(self.target, secret)
        checks = []
        if self.regexes:
            checks.append(any(r.search(subject) for r in self.regexes))
        if self.stopwords:
            lowered = secret.lower()
            checks.append(any(word in lowered for word in self.stopwords))
        return bool(checks) and (all(checks) if self.require_all else any(checks))


@dataclass(frozen=True)
class GitleaksRule:
    id: str
    regex: re.Pattern[str]
    keywords: tuple[str, ...]
    entropy: float = 0.0
    secret_group: int = 0
    allowlists: tuple[Allowlist, ...] = field(default=())
    key_prefix: bool = False  # the regex was stripped of _KEY_PREFIX

    def secret_span(self, m: re.Match[str]) -> tuple[int, int]:
        if self.secret_group:
            return m.span(self.secret_group)
        for group in range(1, (m.re.groups or 0) + 1):
            if m.group(group):
                return m.span(group)
        return m.span()

    def _match_text(self, m: re.Match[str], line: str) -> str:
        if not self.key_prefix:
            return m.group()
        before = _KEY_PREFIX_BEFORE.search(line, max(0, m.start() - 50), m.start())
        return (before.group() if before else "") + m.group()

    def redact_line(self, line: str, placeholder: Callable[[str], str], counts: Counter[str], allow: Sequence[Allowlist]) -> str:
        pieces: list[str] = []
        last = 0
        for m in self.regex.finditer(line):
            start, end = self.secret_span(m)
            secret = line[start:end]
            if start < last or secret.startswith("[REDACTED") or shannon_entropy(secret) <= self.entropy:
                continue
            if any(a.allows(secret, self._match_text(m, line), line) for a in (*allow, *self.allowlists)):
                continue
            pieces += [line[last:start], placeholder(self.id)]
            last = end
            counts[self.id] += 1
        return "".join(pieces) + line[last:] if pieces else line


def _allowlist(data: dict[str, Any]) -> Allowlist:
    return Allowlist(
        regexes=tuple(compile_rule(r) for r in data.get("regexes", ())),
        stopwords=tuple(w.lower() for w in data.get("stopwords", ())),
        target=data.get("regexTarget", "secret"),
        require_all=data.get("condition", "OR").upper() == "AND",
    )


def _strip_key_prefix(pattern: str) -> str:
    return "(?i)" + pattern.removeprefix(_KEY_PREFIX) if pattern.startswith(_KEY_PREFIX) else pattern


@dataclass(frozen=True)
class Gitleaks:
    rules: tuple[GitleaksRule, ...]
    global_allow: tuple[Allowlist, ...]
    index: KeywordIndex


class RuleFileError(RuntimeError):
    """The rule data file does not load; the message says which rule and how to fix it."""


def _rule(data: dict[str, Any]) -> GitleaksRule:
    return GitleaksRule(
        id=data["id"],
        # Our own tables (spanning.toml) name "a field naming a secret" once, as local.py knows it.
        regex=compile_rule(_strip_key_prefix(data["regex"].replace("{secret_name}", f"(?:{SECRET_FIELD})"))),
        keywords=tuple(k.lower() for k in data.get("keywords", ())),
        entropy=float(data.get("entropy", 0.0)),
        secret_group=int(data.get("secretGroup", 0)),
        # Path-only allowlists (e.g. a README of a library) cannot apply to chat text.
        allowlists=tuple(_allowlist(a) for a in data.get("allowlists", ()) if a.get("regexes") or a.get("stopwords")),
        key_prefix=data["regex"].startswith(_KEY_PREFIX),
    )


@cache
def load(path: Path = DATA_FILE) -> Gitleaks:
    """The rules, the global allowlists and the keyword index; built once per process (~0.2 s)."""
    upstream = "from upstream gitleaks (config/gitleaks.toml) or " if path == DATA_FILE else ""
    fix = f"restore {path.name} {upstream}from git"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleFileError(f"redaction rules {path} are not valid TOML ({exc}): {fix}") from None
    rules: list[GitleaksRule] = []
    for raw in data.get("rules", ()):
        if "regex" not in raw or "path" in raw:
            continue
        try:
            rules.append(_rule(raw))
        except (re.error, re2.error, KeyError, TypeError, ValueError) as exc:
            raise RuleFileError(f"redaction rule {raw.get('id', '?')!r} in {path} does not load ({exc}): {fix}") from None
    # The catch-all runs last on a line, so a provider's own rule names what it finds.
    rules.sort(key=lambda rule: rule.id == "generic-api-key")
    glob = data.get("allowlist", {})
    global_allow = (_allowlist({"regexes": glob.get("regexes", ()), "stopwords": glob.get("stopwords", ())}),)
    return Gitleaks(tuple(rules), global_allow, KeywordIndex([r.keywords for r in rules]))


def redact_gitleaks(text: str, lowered: str, placeholder: Callable[[str], str], counts: Counter[str]) -> str:
    """Apply every gitleaks rule to the lines holding its keywords; ``lowered`` is ``text`` lower-cased, same length."""
    gl = load()

    def rewrite(line: str, idxs: list[int]) -> str:
        for idx in idxs:
            line = gl.rules[idx].redact_line(line, placeholder, counts, gl.global_allow)
        return line

    return rewrite_lines(text, gl.index.lines(lowered), rewrite)
