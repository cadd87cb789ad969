"""One ticket per test of a thread, whoever asks, however often, and from whichever run of the thread (Regenerate,
`again`, a retried run): a local claim first, then the backend (which itself looks for a ticket carrying the key
before creating one)."""

from __future__ import annotations

from bot import metrics
from bot.core.plan import TestSpec
from bot.tickets.claims import TicketClaims, TicketClaimState, Where, spec_identity
from bot.tickets.model import Ticket, TicketBackend, TicketContent, idempotency_key


def where_of(channel: str, thread: str, spec: TestSpec) -> Where:
    return Where(channel, thread, spec_identity(spec.name, spec.type))


class TicketService:
    def __init__(self, backend: TicketBackend, claims: TicketClaims) -> None:
        self.backend = backend
        self.claims = claims

    @staticmethod
    def key(where: Where) -> str:
        return idempotency_key("slack-thread", where.channel, where.thread, where.test)

    async def create_once(self, where: Where, content: TicketContent) -> Ticket | None:
        """The ticket, made now or earlier; None while another click is still making it.
        Raises TicketError (the claim is released: the next click starts clean)."""
        claim = await self.claims.claim(where, self.backend.name, self.key(where))
        if claim.state is TicketClaimState.DONE and claim.url and claim.key:
            return Ticket(claim.url, claim.key)
        if claim.state is TicketClaimState.BUSY:
            return None
        try:
            ticket = await self.backend.create(content, claim.idem or self.key(where))
        except BaseException as exc:
            await self.claims.release(where)
            if isinstance(exc, Exception):  # not a click cancelled by shutdown
                metrics.ticket_filed(self.backend.name, ok=False)
            raise
        metrics.ticket_filed(self.backend.name, ok=True)
        await self.claims.done(where, ticket.url, ticket.key)
        return ticket

    async def made(self, channel: str, thread: str, tests: list[TestSpec]) -> dict[int, Ticket]:
        """Test index (in ``tests``, one run's plan) → the thread's ticket for that test, by whichever run made it."""
        found = await self.claims.made(channel, thread)
        out: dict[int, Ticket] = {}
        for index, spec in enumerate(tests):
            if (made := found.get(where_of(channel, thread, spec).test)) is not None:
                out[index] = Ticket(*made)
        return out
