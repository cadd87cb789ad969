"""Escaping for each target language. Every value in a TestSpec came from the model, so templates may only print
it through one of these filters; ``guard`` (the environment's ``finalize``) refuses any other string, so a template
that forgets a filter fails loudly in the tests instead of emitting a name that closes a string or a comment."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any


class Escaped(str):
    """Text already made safe for the language it is printed in."""

    __slots__ = ()


# Line terminators of Python, JavaScript and YAML, and every other control character: a comment is one line.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u0085]+")


def comment(text: Any) -> Escaped:
    """One line for a ``#`` or ``//`` comment (never a block comment, so ``*/`` is plain text)."""
    return Escaped(_BREAKS.sub(" ", str(text)).strip())


def py(value: Any) -> Escaped:
    """A Python literal: ``repr`` of str/int/float/bool/None, lists and dicts of them, always valid source."""
    _check_plain(value)
    return Escaped(repr(value))


def js(value: Any) -> Escaped:
    """A JavaScript (and JSON) literal. ASCII-only, so U+2028 and friends are escapes, not line breaks."""
    return Escaped(json.dumps(value, ensure_ascii=True))


def yaml(value: Any) -> Escaped:
    """A YAML flow scalar: a JSON string is a YAML double-quoted scalar (escapes ``#``, ``:``, quotes, breaks).
    Astral characters are written as themselves: PyYAML reads ``\\ud83d\\ude00`` as two lone surrogates."""
    if not isinstance(value, str):
        return Escaped(json.dumps(value))
    out = json.dumps(value, ensure_ascii=False)
    # json leaves U+2028/2029 and C1 controls raw; YAML calls them breaks or non-printable: escape those.
    return Escaped(re.sub(r"[\u0080-\u009f\u2028\u2029\ufeff]", lambda m: f"\\u{ord(m.group(0)):04x}", out))


def ident(text: Any) -> Escaped:
    """An ASCII identifier part (function, file and resource names): letters, digits and _ only."""
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return Escaped(re.sub(r"[^a-z0-9]+", "_", folded).strip("_")[:50] or "test")


def dns_name(text: Any) -> Escaped:
    """A Kubernetes object name (RFC 1123 label): lower-case letters, digits and -, at most 63."""
    return Escaped(ident(text).replace("_", "-")[:63].strip("-") or "test")


def guard(value: Any) -> Any:
    """Jinja's ``finalize``: numbers and escaped text print; a raw string means a template forgot its filter."""
    if isinstance(value, str) and not isinstance(value, Escaped):
        raise TypeError(f"unescaped text in a skeleton template: {value[:40]!r}; print it through py, js, yaml or comment")
    return value


def _check_plain(value: Any) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _check_plain(k)
            _check_plain(v)
    elif isinstance(value, list | tuple):
        for v in value:
            _check_plain(v)
    elif not isinstance(value, str | int | float | bool | type(None)):
        raise TypeError(f"{type(value).__name__} has no safe Python literal")


FILTERS = {"comment": comment, "py": py, "js": js, "yaml": yaml, "ident": ident, "dns_name": dns_name}
