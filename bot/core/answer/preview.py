"""What of a section may be shown while the model is still writing it (issue 10: streaming text).

A finished section reaches people only after the output redaction and the gate have seen it whole. A preview shows
text earlier, so it shows only what those cannot take back later:
- whole units only (a line, or a sentence of a prose line being written), and the last whole unit waits for the
  next: a secret's redaction can hang on what follows it (YAML ``password:`` with the value on the next line); until
  the redaction of the text so far agrees with the redaction including the next unit, nothing more is shown. A line
  with a table cell, ``=``, ``;`` or a tag in it is not cut at its sentences: its redaction can hang on the end of the
  line, sentences away (``| DB_PASSWORD | my s3cret. more. |`` is a secret only once its cell closes);
- a code block is shown once it is closed: until then the markdown around it reads as code, and the structured
  text in it (JSON, YAML) is where a secret's name can come lines after its value;
- a private key is shown once its END line is written: the redaction ends a key at the first END after its BEGIN,
  however far, and redacts all between as the key (the next unit cannot tell: it is whatever text comes between);
- the text shown is the redaction of everything written so far, so a secret written whole is shown redacted; it is
  redacted as if a Kubernetes Secret's ``kind`` followed, because any ``kind: Secret`` later in the section makes
  every ``data:`` value before it secret, and kubectl writes ``data`` before ``kind`` (its keys are sorted);
- key/value lines outside a code block (JSON, YAML, env) are shown once their run has ended, and a JSON object
  once it is closed: an SSM parameter names its secret (``"Name": "/prod/db/password"``) lines after its value;
- when more text still changes what was already shown, the preview is retracted; so is one the gate calls garbage
  (an echo of the prompt, template tokens, a loop), while a stub (too few words yet) only waits;
- citations the model was never shown are removed, as in the finished section;
- at PREVIEW_LIMIT characters it stops growing;
- each step redacts and judges the whole text so far, so a step waits until the text grew by 1/_GROWTH of what was
  judged: one step per tiny line would be quadratic (a 10,000-character list of short rows took 20 s of the event
  loop), and Slack shows at most one append a second anyway.
The finished section always replaces the preview, so a preview that stops early costs nothing but liveliness.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from bot.core.redact import redact_text
from bot.core.sections import SectionId

# Slack takes 12,000 characters of markdown per streamed message; the heading and the finished section's own
# split (bot/slack/blocks/sections.py) stay well inside that.
PREVIEW_LIMIT = 10_000
# A unit ends at a line end, or at a sentence end followed by a blank (a paragraph is one long line).
_UNIT_END = re.compile(r"[.!?]?\n|[.!?](?=[ \t])")
# Marks a line as structured, not prose: a table cell, key=value, a connection string's "; ", a tag.
_STRUCTURE = re.compile(r"[|=;<]")
_GROWTH = 16
_BRACE = re.compile(r"[{}]")
_FENCE = re.compile(r"(?m)^[ \t]*(?:```|~~~)")  # indented too: a code block in a list item
# A key/value line: a JSON key, or a key without spaces (YAML, env, INI), then ":" or "="; prose ("Blast radius:"),
# bold labels ("**Type:**") and times ("- 08:52 deploy") are not.
_KEY_VALUE = re.compile(r'[ \t]*(?:[-*][ \t]+)?[{\[,]?[ \t]*(?:"[^"\n]{1,100}"|[A-Za-z_$@][\w.$@/-]{0,99})[ \t]*[:=]')
# Appended before redacting a preview, and cut off after: data: values are redacted whatever follows them.
_ASSUME_SECRET = "\n\nkind: Secret\n"
# The redaction's private key: from a BEGIN line (gitleaks' wider form) to the first END line after it (local.py's).
_KEY_BEGIN = re.compile(r"(?i)-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----")
_KEY_END = re.compile(r"-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")


class Verdict(Enum):
    """The gate's view of a section's text so far."""

    CLEAN = "clean"
    STUB = "stub"  # too short yet to say anything: wait for more
    GARBAGE = "garbage"  # the gate will hold it back


@dataclass(frozen=True)
class Show:
    body: str  # the whole body to show so far; it always extends the previous one


@dataclass(frozen=True)
class Retract:
    """Remove what was shown: the finished section will be held back, or later text changed what was shown."""


class Previewer:
    """Feed ``advance`` the open section's text so far (the unfinished line included) after each chunk."""

    def __init__(self, section_id: SectionId, judge: Callable[[SectionId, str], Verdict], cite: Callable[[str], str]) -> None:
        self.id = section_id
        self._judge = judge
        self._cite = cite
        self._cuts = [0]  # where each whole unit of the text so far ends
        self._ready_at = 0  # where the text last judged ends
        self._scanned = 0  # how much of the text so far was searched for unit ends
        self._prose_to = 0  # how much of the line being written is known to be prose; -1: it is structured
        self._body = ""  # what was shown
        self.stopped = False  # no more text will be shown (it may still be retracted)
        self.retracted = False

    @property
    def shown(self) -> bool:
        return bool(self._body)

    def advance(self, so_far: str) -> Show | Retract | None:
        """None when nothing new can be shown."""
        if self.retracted or self.stopped or not self._cut(so_far):
            return None
        ahead, ready_at = self._cuts[-1], self._cuts[-2]  # the last whole unit waits for the next
        if ready_at - self._ready_at <= self._ready_at // _GROWTH:
            return None
        fences = list(_FENCE.finditer(so_far, 0, ready_at))
        if len(fences) % 2:
            ready_at = fences[-1].start()  # a code block still open
            if ready_at <= self._ready_at:
                return None
        ready_at = min(_before_key_values(so_far, ready_at), _before_open_object(so_far, ready_at),
                       _before_open_key(so_far, ready_at))
        if ready_at <= self._ready_at:
            return None
        ready = _redact(so_far[:ready_at])
        if not _redact(so_far[:ahead]).startswith(ready):
            return None  # the next unit changes how this text is redacted: wait for it to settle
        self._ready_at = ready_at
        verdict = self._judge(self.id, ready)
        if verdict is Verdict.GARBAGE:
            return self._retract()
        body = "\n".join(map(self._cite, ready.split("\n"))).strip()
        if verdict is Verdict.STUB or not body or body == self._body:
            return None
        if not body.startswith(self._body):
            return self._retract()  # more text changed what people saw: take it back
        if len(body) > PREVIEW_LIMIT:
            self.stopped = True
            return None
        self._body = body
        return Show(body)

    def _cut(self, so_far: str) -> bool:
        """Record the unit ends new in ``so_far``; True when there are any."""
        start = self._cuts[-1]
        if len(so_far) < start:
            return False
        # From one character back: a sentence end is known only when the blank after it arrives.
        found = [m.end() for m in _UNIT_END.finditer(so_far, max(start, self._scanned, 1) - 1)
                 if self._in_prose(so_far, m) and m.end() > start]
        self._scanned = len(so_far)
        self._cuts += found
        return bool(found)

    def _in_prose(self, so_far: str, unit_end: re.Match[str]) -> bool:
        """Whether the unit end is a line's, or a sentence's of a line that is prose up to it. Each character is
        searched once: a long paragraph stays linear."""
        if unit_end.group().endswith("\n"):
            self._prose_to = unit_end.end()  # a new line: prose so far
            return True
        if self._prose_to >= 0:
            structured = _STRUCTURE.search(so_far, self._prose_to, unit_end.start())
            self._prose_to = -1 if structured else max(self._prose_to, unit_end.start())
        return self._prose_to >= 0

    def _retract(self) -> Retract | None:
        self.retracted = self.stopped = True
        return Retract() if self._body else None


def _redact(text: str) -> str:
    redacted = redact_text(text + _ASSUME_SECRET)
    # The assumed kind line is never a secret itself; were it ever changed, nothing of this text is shown.
    return redacted[: -len(_ASSUME_SECRET)] if redacted.endswith(_ASSUME_SECRET) else ""


def _before_open_key(so_far: str, ready_at: int) -> int:
    """Where the ready text must stop: at the line of the first private key BEGIN with no END after it yet."""
    pos = 0
    while begin := _KEY_BEGIN.search(so_far, pos, ready_at):
        end = _KEY_END.search(so_far, begin.end(), ready_at)
        if end is None:
            return so_far.rfind("\n", 0, begin.start()) + 1
        pos = end.end()
    return ready_at


def _before_key_values(so_far: str, ready_at: int) -> int:
    """Where the ready text must stop: before a run of key/value lines still going on at ``ready_at``."""
    line = so_far.rfind("\n", 0, ready_at) + 1  # the line ``ready_at`` is in, or starts
    if not _KEY_VALUE.match(so_far, line):
        return ready_at
    while line > 0:
        previous = so_far.rfind("\n", 0, line - 1) + 1
        if not _KEY_VALUE.match(so_far, previous):
            break
        line = previous
    return line


def _before_open_object(so_far: str, ready_at: int) -> int:
    """Where the ready text must stop: at the line of the first ``{`` not yet closed."""
    opened: list[int] = []
    for brace in _BRACE.finditer(so_far, 0, ready_at):
        if brace.group() == "{":
            opened.append(brace.start())
        elif opened:
            opened.pop()
    return so_far.rfind("\n", 0, opened[0]) + 1 if opened else ready_at
