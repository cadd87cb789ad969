"""Tickets from the test plan: GitHub Issues and Jira Cloud behind one ``TicketBackend`` protocol, each making at
most one ticket per idempotency key. Core code: no Slack import; the Slack button lives in bot/slack/actions/."""

from bot.tickets.factory import make_backend
from bot.tickets.model import Skeleton, Ticket, TicketBackend, TicketContent, TicketError, TicketErrorKind, idempotency_key

__all__ = [
           "Skeleton",
           "Ticket",
           "TicketBackend",
           "TicketContent",
           "TicketError",
           "TicketErrorKind",
           "idempotency_key",
           "make_backend",
]
