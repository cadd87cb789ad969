"""Read the text files attached to an incident's messages. A file that cannot be read is never passed off
as content: it is reported as "name (reason)" for Incident.unread_files."""

from __future__ import annotations

import asyncio
import codecs
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

_TEXT_TYPES = {
    "text", "log", "txt", "json", "yaml", "yml", "csv", "xml", "md", "markdown",
    "shell", "python", "javascript", "go", "java", "sql", "diff",
}
# Slack's `mode` for files the bot cannot have: deleted, or past a free workspace's history limit.
_UNAVAILABLE_MODES = {"tombstone": "deleted", "hidden_by_limit": "hidden by the workspace's plan limit"}
# Valid UTF-8 with a stray bad byte here and there (a mangled log line) is still text; more is not.
_MAX_BAD_BYTE_RATIO = 0.001
_SNIFF = 8192


class Unreadable(Exception):
    """Why one file could not be read; the message is the short reason shown to people."""


@dataclass
class FileTexts:
    texts: dict[str, str] = field(default_factory=dict)  # file id -> text
    unread: list[str] = field(default_factory=list)  # "name (reason)"


def is_text_file(f: Mapping[str, Any]) -> bool:
    mimetype = str(f.get("mimetype", ""))
    return mimetype.startswith("text/") or f.get("mode") == "snippet" or str(f.get("filetype", "")).lower() in _TEXT_TYPES


def file_name(f: Mapping[str, Any]) -> str:
    return str(f.get("name") or f.get("title") or f.get("id") or "file")


def decode_text(data: bytes, *, cut: bool) -> str:
    """Bytes → text, or Unreadable. ``cut``: the bytes were truncated, so the last character may be split."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if b"\x00" in data[:_SNIFF]:
        raise Unreadable("binary, not text")
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    try:
        return decoder.decode(data, final=not cut)
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        if text.count("\ufffd") > max(1, len(data) * _MAX_BAD_BYTE_RATIO):
            raise Unreadable("not UTF-8 text") from None
        return text


class FileReader:
    """Downloads ``url_private`` with the bot token, at most ``max_bytes`` per file, ``timeout_s`` per file."""

    def __init__(self, token: str, max_bytes: int, timeout_s: float) -> None:
        self.token = token
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def read(self, files: Iterable[Mapping[str, Any]]) -> FileTexts:
        out = FileTexts()
        wanted: list[Mapping[str, Any]] = []
        for f in files:
            mode = str(f.get("mode", ""))
            if mode in _UNAVAILABLE_MODES:
                out.unread.append(f"{file_name(f)} ({_UNAVAILABLE_MODES[mode]})")
            elif not is_text_file(f):
                out.unread.append(f"{file_name(f)} (not a text file)")
            elif not f.get("url_private"):
                out.unread.append(f"{file_name(f)} (no download link)")
            else:
                wanted.append(f)
        if not wanted:
            return out
        headers = {"Authorization": f"Bearer {self.token}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            results = await asyncio.gather(*(self._read_one(session, f) for f in wanted), return_exceptions=True)
        for f, result in zip(wanted, results, strict=True):
            if isinstance(result, str):
                out.texts[str(f["id"])] = result
            elif isinstance(result, Unreadable):
                log.info("could not read %s: %s", file_name(f), result)
                out.unread.append(f"{file_name(f)} ({result})")
            else:
                raise result
        return out

    async def _read_one(self, session: aiohttp.ClientSession, f: Mapping[str, Any]) -> str:
        try:
            async with asyncio.timeout(self.timeout_s):
                data, cut = await self._fetch(session, f)
        except TimeoutError:
            raise Unreadable(f"download timed out after {self.timeout_s:g} s") from None
        except aiohttp.ClientError as exc:
            raise Unreadable(f"download failed: {type(exc).__name__}") from None
        text = decode_text(data, cut=cut)
        return text + f"\n[… file cut at {self.max_bytes} bytes]" if cut else text

    async def _fetch(self, session: aiohttp.ClientSession, f: Mapping[str, Any]) -> tuple[bytes, bool]:
        async with session.get(str(f["url_private"])) as resp:
            if resp.status >= 400:
                raise Unreadable(_status_reason(resp.status))
            declared = str(f.get("mimetype", ""))
            if resp.content_type == "text/html" and declared != "text/html":
                # Slack answers 200 with its sign-in page when the token may not read files.
                raise Unreadable("Slack sent a sign-in page; the bot token needs the files:read scope")
            # read(n) returns only what is buffered, so read chunks until max_bytes + 1 or EOF.
            data = bytearray()
            async for chunk in resp.content.iter_chunked(1 << 16):
                data += chunk
                if len(data) > self.max_bytes:
                    return bytes(data[: self.max_bytes]), True
            return bytes(data), False


def _status_reason(status: int) -> str:
    if status in (401, 403):
        return f"HTTP {status}: access denied"
    if status == 404:
        return "HTTP 404: not found, deleted?"
    if status == 429:
        return "HTTP 429: rate limited"
    return f"HTTP {status}: Slack server error" if status >= 500 else f"HTTP {status}: download refused"
