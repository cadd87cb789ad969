"""Load an incident from a file or stdin. Every way the input can be unusable ends in an InputError whose message
says what is wrong and how to fix it: missing, a folder, too big, binary, undecodable, malformed or oddly shaped
JSON, or text with nothing to analyse."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import BinaryIO

from bot.core.incident.decode import MAX_INPUT_BYTES, decode_incident, too_big
from bot.core.incident.model import NOTES_AUTHOR, Incident, Message
from bot.core.incident.structure import read_text
from bot.core.incident.substance import require_content
from bot.core.redact import redact
from bot.errors import InputError

# JSON intent: an object, or a list that opens with an object, string or nothing. A log whose first line is
# "[2025-11-17 09:00] ERROR …" or "[INFO] …" is text, not broken JSON.
_JSON_START = re.compile(r"\{|\[\s*[{\"\]]")


def incident_from_text(text: str, *, title: str = "incident", source: str = "text") -> Incident:
    """A transcript or a postmortem becomes its rows and sections (bot.core.incident.structure); anything else (a log,
    plain notes) is one message from NOTES_AUTHOR, its timestamps left inside the text."""
    if not text.strip():
        raise InputError("the incident text is empty", "pass a file or stdin with the incident's messages or logs")
    clean, counts = redact(text)
    rows = read_text(clean)
    if rows is None:  # one message, redacted by preparation as any other
        return Incident(messages=[Message(author=NOTES_AUTHOR, text=text.strip())], title=title, source=source)
    return Incident(messages=rows, title=title, source=source, redacted=dict(counts))


def load_incident(path: str) -> Incident:
    """Load from a path or '-' (stdin). JSON is read as Slack data; anything else as plain text."""
    if path == "-":
        where, title = "stdin", "stdin"
        if sys.stdin is None:  # started with stdin closed (`<&-`)
            raise InputError("stdin is closed, so there is no incident to read", "pipe the incident in, or pass a file path")
        data = _read_capped(sys.stdin.buffer, where)
    else:
        file = Path(path)
        where, title = file.name or path, file.stem or "incident"
        data = _read_file(file, path)
    text = decode_incident(data, where)
    looks_json = _JSON_START.match(text.lstrip()) or (path.lower().endswith(".json") and text.strip())
    if looks_json and not _is_json_lines(text):
        incident = _from_json(text, where, title)
    else:
        incident = incident_from_text(text, title=title, source="stdin" if path == "-" else "file")
    require_content(incident, where)
    return incident


def _is_json_lines(text: str) -> bool:
    """Structured logs (one JSON object per line) are text to analyse, not one broken JSON document."""
    lines = [line for line in text.lstrip().splitlines()[:20] if line.strip()]
    if len(lines) < 2:
        return False
    try:
        return all(isinstance(json.loads(line), dict) for line in lines)
    except (ValueError, RecursionError):
        return False


def _read_file(file: Path, path: str) -> bytes:
    if not file.exists():
        raise InputError(f"no such incident file: {path}", "give the path of a text, log or Slack JSON file, or '-' for stdin")
    if file.is_dir():
        raise InputError(f"{path} is a folder, not an incident file", "pass one file (e.g. a Slack export day file inside it)")
    try:
        # Pipes and process substitutions (<(kubectl logs …)) have no size up front: the read itself is capped.
        if file.is_file() and file.stat().st_size > MAX_INPUT_BYTES:
            raise too_big(file.stat().st_size, path)
        with file.open("rb") as fh:
            return _read_capped(fh, path)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}", "check the file's permissions") from None


def _read_capped(stream: BinaryIO, where: str) -> bytes:
    data = stream.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise too_big(len(data), where)
    return data


def _from_json(text: str, where: str, title: str) -> Incident:
    from bot.core.incident.slack_json import incident_from_slack_json

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{where} looks like JSON but does not parse (line {exc.lineno}: {exc.msg})",
            "fix the JSON, or save the incident as plain text",
        ) from None
    except RecursionError:
        raise InputError(f"{where} is JSON nested too deeply to be Slack data", "pass the Slack export as Slack wrote it") from None
    except ValueError:  # an integer of more than 4300 digits, which Python refuses to convert
        raise InputError(f"{where} holds a number too long to be Slack data", "pass the Slack export as Slack wrote it") from None
    return incident_from_slack_json(data, title=title)
