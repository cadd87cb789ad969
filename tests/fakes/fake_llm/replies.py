"""Scripted replies for the fake LLM server, and the builders tests use to make them."""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from aiohttp import web

from tests.fakes.sample_reports import sample_report

# The decoded request body, stashed by the recording middleware for the handlers.
BODY = web.RequestKey("fake_llm_body", object)

ReplyKind = Literal["text", "status", "stall", "empty", "invalid_json", "reset"]


@dataclass
class Reply:
    kind: ReplyKind
    text: str = ""
    chunk_chars: int = 4  # one chunk ≈ one token
    tokens_per_s: float | None = None  # None = as fast as possible
    status: int = 200
    message: str | None = None  # error message for kind="status"; None = what the server says
    times: int = 1  # how many requests this reply answers before the next one is used
    gate: asyncio.Event | None = None
    gate_at: int | str | None = None  # character offset, or the first occurrence of this marker
    finish: str = "stop"  # finish_reason / done_reason: "length" = cut at max tokens
    prompt_tokens: int | None = None  # the usage figure to report; None = the fake's own count
    retry_after: str | None = None  # Retry-After header for kind="status"
    render: Callable[[Any], str] | None = None  # builds ``text`` from the request body (a reply that quotes the prompt)


def text(
    content: str,
    *,
    chunk_chars: int = 4,
    tokens_per_s: float | None = None,
    gate: asyncio.Event | None = None,
    gate_at: int | str | None = None,
    times: int = 1,
    finish: str = "stop",
    prompt_tokens: int | None = None,
) -> Reply:
    return Reply(
        "text", content, chunk_chars, tokens_per_s, gate=gate, gate_at=gate_at, times=times, finish=finish,
        prompt_tokens=prompt_tokens,
    )


def json_reply(answer: Any, **kwargs: Any) -> Reply:
    """A structured-output answer: ``answer`` serialised as JSON (a string is sent as it is, valid or not)."""
    return text(answer if isinstance(answer, str) else json.dumps(answer), **kwargs)


def cut(content: str) -> Reply:
    """An answer stopped by max tokens: finish_reason / done_reason "length"."""
    return text(content, finish="length")


def broken_template(content: str, prompt_tokens: int = 9) -> Reply:
    """What a server with a broken chat template reports: the prompt counted as a handful of tokens."""
    return text(content, prompt_tokens=prompt_tokens)


def template_spam(content: str, tokens: tuple[str, ...] = ("<|im_end|>", "<|im_start|>assistant\n"), *, chunk_chars: int = 3) -> Reply:
    """``content`` with chat-template tokens after every line, streamed in chunks small enough to split them."""
    lines = content.split("\n")
    spammed = "\n".join(f"{line}{tokens[i % len(tokens)]}" for i, line in enumerate(lines))
    return text(spammed, chunk_chars=chunk_chars)


def status(code: int, message: str | None = None, *, times: int = 1, retry_after: str | None = None,
           gate: asyncio.Event | None = None) -> Reply:
    """An HTTP error with the server's body shape, e.g. status(404) → "model 'x' not found"; with ``gate``, sent
    only once the test sets it (``llm.at_gate`` is set meanwhile)."""
    return Reply("status", status=code, message=message, times=times, retry_after=retry_after, gate=gate)


def stall(before: str = "") -> Reply:
    """Send headers and ``before``, then hang until the fake shuts down."""
    return Reply("stall", before)


def reset(before: str, *, chunk_chars: int = 4) -> Reply:
    """Send ``before`` in chunks, then drop the connection without ending the response."""
    return Reply("reset", before, chunk_chars)


def empty() -> Reply:
    """A well-formed stream that carries no content."""
    return Reply("empty")


def invalid_json(before: str = "") -> Reply:
    """Send ``before`` as normal chunks, then a line that is not JSON."""
    return Reply("invalid_json", before)


def for_request(reply: Reply, body: Any) -> Reply:
    """``reply`` with its text built from this request's body, when it is a rendered reply."""
    return reply if reply.render is None else replace(reply, text=reply.render(body), render=None)


def pieces(reply: Reply) -> list[str | None]:
    """The reply's text in chunks, with None marking where to wait for the gate."""
    if reply.kind == "empty":
        return []
    size = max(1, reply.chunk_chars)

    def chunks(s: str) -> list[str | None]:
        return [s[i : i + size] for i in range(0, len(s), size)]

    if reply.gate is None or reply.gate_at is None:
        return chunks(reply.text)
    at = reply.text.index(reply.gate_at) if isinstance(reply.gate_at, str) else reply.gate_at
    return [*chunks(reply.text[:at]), None, *chunks(reply.text[at:])]


def count_tokens(text: str, chars_per_token: float = 4.0) -> int:
    """The fake's tokenizer: about 4 characters a token by default, so tests can aim at a context size."""
    return math.ceil(len(text) / chars_per_token)


def prompt_tokens(messages: Any, chars_per_token: float = 4.0) -> int:
    return count_tokens("".join(str(m.get("content", "")) for m in messages or [] if isinstance(m, dict)), chars_per_token)


def status_message(code: int, model: str) -> str:
    """What Ollama says for the statuses tests script most."""
    messages = {
        401: "unauthorized",
        404: f"model '{model}' not found",
        503: "server busy, please try again.  maximum pending requests exceeded",
    }
    return messages.get(code, f"error {code}")


# --- Small-model misbehaviour ---------------------------------------------------------------------------------

# In the bot's user prompt each requested heading is followed by a one-line hint of what the section should hold.
_HINTED_HEADING = re.compile(r"^(## [^\n]+)\n([^\n#][^\n]*)$", re.MULTILINE)


def user_prompt(body: Any) -> str:
    messages = body.get("messages") if isinstance(body, dict) else None
    return "\n".join(str(m.get("content", "")) for m in messages or [] if isinstance(m, dict) and m.get("role") == "user")


def echo_prompt(*, times: int = 1) -> Reply:
    """A model that answers with the request's own format hints as section bodies: every "## Heading" of the
    prompt, followed by the hint the prompt gave for it, copied word for word."""

    def render(body: Any) -> str:
        pairs = _HINTED_HEADING.findall(user_prompt(body))
        if not pairs:
            raise ValueError("echo_prompt(): the request's user prompt has no '## Heading' + hint lines to echo")
        return "\n\n".join(f"{heading}\n\n{hint}" for heading, hint in pairs) + "\n"

    return Reply("text", times=times, render=render)


def looping(sentence: str, times: int, *, heading: str = "## Incident Timeline & Blast Radius") -> Reply:
    """A model stuck on one sentence: a heading, then ``sentence`` ``times`` times over."""
    return text(f"{heading}\n\n" + " ".join([sentence.strip()] * times) + "\n")


def repeated_headings(times: int, report: str | None = None) -> Reply:
    """A model that writes the whole report (default ``sample_report()``) ``times`` times in one answer."""
    return text("\n".join([report or sample_report()] * times))
