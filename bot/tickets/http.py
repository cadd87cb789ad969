"""The HTTP exchange both backends share: one aiohttp session, JSON in and out, and the failures every REST API
has in common (unreachable, timed out, 429, 5xx) turned into a TicketError saying to try again."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.tickets.model import Failure, Ticket, TicketError

DEFAULT_TIMEOUT_S = 20.0


@dataclass
class Answer:
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


class AnswerLost(Exception):
    """The request went out but no answer came back: it may or may not have taken effect."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class Http:
    """A lazily opened session with the backend's base URL, headers and auth."""

    def __init__(self, service: str, base_url: str, headers: dict[str, str], *,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.service = service
        self.base_url = base_url.rstrip("/")
        self._headers = {"User-Agent": "postmortem-bot", "Accept": "application/json", **headers}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def request(self, method: str, path: str, *, params: dict[str, str] | None = None,
                      body: dict[str, Any] | None = None) -> Answer:
        """Send one request. Raises AnswerLost when it went out unanswered; any HTTP status is returned."""
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
                return Answer(response.status, decoded, dict(response.headers))
        except TimeoutError:
            raise AnswerLost(f"{self.service} did not answer within {self._timeout.total:.0f} s") from None
        except aiohttp.ClientConnectorError as exc:
            # Nothing was sent: the server could not be reached at all.
            raise TicketError(Failure.UNAVAILABLE, f"cannot reach {self.service} at {self.base_url} ({exc.os_error})",
                              "check the URL setting and the network, then try again") from None
        except aiohttp.ClientError as exc:
            raise AnswerLost(f"the connection to {self.service} broke ({type(exc).__name__})") from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def transient(service: str, answer: Answer) -> TicketError | None:
    """429 and 5xx: the backend is busy or down, not wrong; the same click later should work."""
    if answer.status == 429 or answer.status >= 500:
        wait = answer.headers.get("Retry-After")
        when = f"in {wait} s" if wait and wait.isdigit() else "in a minute"
        return TicketError(Failure.UNAVAILABLE, f"{service} answered HTTP {answer.status} ({answer.message()})",
                           f"try again {when}; nothing was created")
    return None


def unavailable(service: str, lost: AnswerLost) -> TicketError:
    return TicketError(Failure.UNAVAILABLE, f"{lost.why} and no ticket was found afterwards",
                       f"try again in a minute; {service} is slow or unreachable")


async def post_or_find(http: Http, path: str, body: Any, find: Callable[[], Awaitable[Ticket | None]], service: str) -> Answer | Ticket:
    """POST a new ticket. A lost answer or a 5xx does not prove nothing was stored, so look for the ticket before
    reporting a failure: the Ticket found, else the server's Answer for the caller to check."""
    try:
        answer = await http.request("POST", path, body=body)
    except AnswerLost as lost:
        if (again := await find()) is None:
            raise unavailable(service, lost) from None
        return again
    if answer.status >= 500 and (again := await find()) is not None:
        return again
    return answer
