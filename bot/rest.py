"""The JSON-over-HTTP exchange every REST backend shares (tickets: GitHub, Jira; export: Confluence, Notion): one
lazily opened aiohttp session, JSON in and out, and the two ways a request can fail without an HTTP status —
nothing sent (the backend's own "unreachable" error) or sent and unanswered (HttpReplyLost: it may have taken effect)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

DEFAULT_TIMEOUT_S = 20.0
# Builds the backend's own error (message, fix) for a server that could not be reached: nothing was sent.
Unreachable = Callable[[str, str], Exception]


@dataclass
class HttpReply:
    status: int
    body: Any  # the decoded JSON, or the text when the body is not JSON
    headers: dict[str, str]

    def message(self) -> str:
        """The server's own explanation, short (GitHub: message; Jira: errorMessages and errors)."""
        body = self.body
        if isinstance(body, dict):
            parts = [str(body["message"])] if body.get("message") else []
            parts += [str(m) for m in body.get("errorMessages") or []]
            parts += [f"{k}: {v}" for k, v in (body.get("errors") or {}).items()] if isinstance(body.get("errors"), dict) else []
            if parts:
                return "; ".join(parts)[:300]
        return str(body or "")[:200] or f"HTTP {self.status}"


class HttpReplyLost(Exception):
    """The request went out but no answer came back: it may or may not have taken effect."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class Http:
    """A lazily opened session with the backend's base URL, headers and auth."""

    def __init__(self, service: str, base_url: str, headers: dict[str, str], *,
                 unreachable: Unreachable, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.service = service
        self._unreachable = unreachable
        self.base_url = base_url.rstrip("/")
        self._headers = {"User-Agent": "postmortem-bot", "Accept": "application/json", **headers}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def request(self, method: str, path: str, *, params: dict[str, str] | None = None,
                      body: Any = None) -> HttpReply:
        """Send one request. Raises HttpReplyLost when it went out unanswered; any HTTP status is returned."""
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        try:
            async with self._session.request(method, url, params=params, json=body) as response:
                text = await response.text()
                try:
                    decoded: Any = json.loads(text) if text else None
                except json.JSONDecodeError:
                    decoded = text
                return HttpReply(response.status, decoded, dict(response.headers))
        except TimeoutError:
            raise HttpReplyLost(f"{self.service} did not answer within {self._timeout.total:.0f} s") from None
        except aiohttp.ClientConnectorError as exc:
            # Nothing was sent: the server could not be reached at all.
            raise self._unreachable(f"cannot reach {self.service} at {self.base_url} ({exc.os_error})",
                                    "check the URL setting and the network, then try again") from None
        except aiohttp.ClientError as exc:
            raise HttpReplyLost(f"the connection to {self.service} broke ({type(exc).__name__})") from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
