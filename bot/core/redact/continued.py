"""Commands continued over lines (``mysql -u root \\`` then ``-pSECRET``) are redacted as the one line they are.

Every line rule (a flag and its value, ``curl -u``, ``mysql -p``) needs both on one line, and a shell, cmd (``^``) or
PowerShell (`` ` ``) continuation puts them on two. Each continued command is joined (each line break and its
indentation becomes one space), redacted whole, and each secret found is put back where it was in the lines, so the
layout stays: the model and the reader see the command as written, and a preview of text typed so far grows only.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

# A line ending in "\" (shell), or in " ^" (cmd) or " `" (PowerShell), with nothing after it (as the shells want):
# a space before "^" and "`", so that a code fence ("```") or a caret in prose does not join lines.
_JOINT = re.compile(r"(?:\\|(?<=[ \t])[\^`])\r?\n[ \t]*")
# The same, as two patterns that each start with a rare character: Python's engine then skips ahead to it.
# (The space before "^" or "`" is checked apart: a look-behind first would stop the skipping.)
_JOINTS_FAST = (re.compile(r"\\\r?\n[ \t]*"), re.compile(r"[\^`]\r?\n[ \t]*"))
_JOINT_HINTS = ("\\\n", "\\\r\n", " ^\n", "\t^\n", " `\n", "\t`\n", " ^\r\n", " `\r\n")
_PLACEHOLDER = re.compile(r"(\[REDACTED:[\w.-]+\])")
# Longer continued commands, or ones with more secrets, are not re-aligned piece by piece (the literal match below
# could backtrack): the joined, redacted command replaces them.
_ALIGNED_UP_TO = 8192
_SECRETS_ALIGNED = 16

Redact = Callable[[str, Counter[str]], str]


def redact_continued(text: str, counts: Counter[str], redact: Redact) -> str:
    """``text`` with the secrets of each continued command replaced; ``redact`` is the whole redaction."""
    if not any(hint in text for hint in _JOINT_HINTS):  # the common case, at the speed of str.find
        return text
    out: list[str] = []
    last = 0
    for start, end in _commands(text):
        out += [text[last:start], _redact_command(text[start:end], counts, redact)]
        last = end
    return "".join(out) + text[last:] if out else text


def _commands(text: str) -> list[tuple[int, int]]:
    """[start, end) of each continued command: from the start of its first line to the end of the line that ends it."""
    commands: list[tuple[int, int]] = []
    start = reach = -1
    joints = [m for p in _JOINTS_FAST for m in p.finditer(text)
              if m.group()[0] == "\\" or text[m.start() - 1 : m.start()] in (" ", "\t")]
    for joint in sorted(joints, key=lambda m: m.start()):
        line = text.rfind("\n", 0, joint.start()) + 1
        if start == -1 or line > reach:  # not on the line the previous joint continued onto: a new command
            if start != -1:
                commands.append((start, _line_end(text, reach)))
            start = line
        reach = joint.end()
    if start != -1:
        commands.append((start, _line_end(text, reach)))
    return commands


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end == -1 else end


def _redact_command(lines: str, counts: Counter[str], redact: Redact) -> str:
    joined, where = _join(lines)
    found: Counter[str] = Counter()
    redacted = redact(joined, found)
    if redacted == joined:
        return lines
    counts.update(found)
    spans = _secret_spans(joined, redacted)
    if spans is None:  # cannot say where each secret was: the command is shown joined, redacted
        return redacted
    out: list[str] = []
    last = 0
    for (start, end), label in spans:
        begin, finish = where[start], where[end - 1] + 1
        out += [lines[last:begin], label]
        last = finish
    return "".join(out) + lines[last:]


def _join(lines: str) -> tuple[str, list[int]]:
    """The command on one line, and for each of its characters the offset it came from in ``lines``."""
    parts: list[str] = []
    where: list[int] = []
    last = 0
    for joint in _JOINT.finditer(lines):
        parts += [lines[last : joint.start()], " "]
        where += [*range(last, joint.start()), joint.start()]
        last = joint.end()
    parts.append(lines[last:])
    where += range(last, len(lines))
    return "".join(parts), where


def _secret_spans(joined: str, redacted: str) -> list[tuple[tuple[int, int], str]] | None:
    """Where in ``joined`` each placeholder of ``redacted`` stands: the text between placeholders is unchanged, so
    it is matched literally and the secrets are what lies between. None when that cannot be told."""
    pieces = _PLACEHOLDER.split(redacted)
    if len(joined) > _ALIGNED_UP_TO or len(pieces) > 2 * _SECRETS_ALIGNED + 1:
        return None
    kept, labels = pieces[0::2], pieces[1::2]
    pattern = "(.+?)".join(re.escape(piece) for piece in kept)
    m = re.fullmatch(pattern, joined, re.DOTALL)
    if m is None:
        return None
    return [(m.span(i + 1), label) for i, label in enumerate(labels)]
