"""What both ticket backends do with the shared REST exchange (bot/rest.py): the failures every REST API has in
common (unreachable, timed out, 429, 5xx) turned into a TicketError saying to try again, and a creation whose
answer was lost looked for before it is reported."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.rest import Http, HttpReply, HttpReplyLost
from bot.tickets.model import Ticket, TicketError, TicketErrorKind


def ticket_http(service: str, base_url: str, headers: dict[str, str], timeout_s: float) -> Http:
    """The shared exchange, with an unreachable backend reported as a TicketError."""
    return Http(service, base_url, headers, timeout_s=timeout_s,
                unreachable=lambda message, fix: TicketError(TicketErrorKind.UNAVAILABLE, message, fix))


def transient(service: str, answer: HttpReply) -> TicketError | None:
    """429 and 5xx: the backend is busy or down, not wrong; the same click later should work."""
    if answer.status == 429 or answer.status >= 500:
        wait = answer.headers.get("Retry-After")
        when = f"in {wait} s" if wait and wait.isdigit() else "in a minute"
        return TicketError(TicketErrorKind.UNAVAILABLE, f"{service} answered HTTP {answer.status} ({answer.message()})",
                           f"try again {when}; nothing was created")
    return None


def unavailable(service: str, lost: HttpReplyLost) -> TicketError:
    return TicketError(TicketErrorKind.UNAVAILABLE, f"{lost.why} and no ticket was found afterwards",
                       f"try again in a minute; {service} is slow or unreachable")


async def post_or_find(http: Http, path: str, body: Any, find: Callable[[], Awaitable[Ticket | None]], service: str) -> HttpReply | Ticket:
    """POST a new ticket. A lost answer or a 5xx does not prove nothing was stored, so look for the ticket before
    reporting a failure: the Ticket found, else the server's HttpReply for the caller to check."""
    try:
        answer = await http.request("POST", path, body=body)
    except HttpReplyLost as lost:
        if (again := await find()) is None:
            raise unavailable(service, lost) from None
        return again
    if answer.status >= 500 and (again := await find()) is not None:
        return again
    return answer
