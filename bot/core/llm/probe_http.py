"""Small JSON requests to a model server's side endpoints (/api/*, /props, /v1/models, /tokenize)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from bot.errors import LLMUnavailable

# These endpoints answer from memory or disk; waiting longer than this means the server is not healthy.
PROBE_TIMEOUT_S = 15.0


async def get_json(session: aiohttp.ClientSession, method: str, url: str, body: Any = None) -> Any:
    """The decoded JSON body, or None when the answer is not a 200 JSON document (the endpoint is not there).

    401/403 raise: the server (or a proxy in front of it) refused us, and every later request would fail the same way.
    """
    async with session.request(method, url, json=body, timeout=aiohttp.ClientTimeout(total=PROBE_TIMEOUT_S)) as resp:
        if resp.status in (401, 403):
            raise LLMUnavailable(
                f"the LLM server rejected our credentials ({resp.status})",
                "set LLM_API_KEY, or user:password@ in LLM_BASE_URL for a basic-auth proxy, to what the server accepts",
            )
        if resp.status != 200:
            return None
        try:
            return json.loads((await resp.read()).decode("utf-8", "replace"))
        except ValueError:
            return None


def positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None
