"""One ticket per (run, test), whoever asks and however often: a local claim first, then the backend (which
itself looks for a ticket carrying the key before creating one)."""

from __future__ import annotations

from bot.runs.tickets import ClaimState, TicketClaims
from bot.tickets.model import Ticket, TicketBackend, TicketContent, idempotency_key


class TicketService:
    def __init__(self, backend: TicketBackend, claims: TicketClaims) -> None:
        self.backend = backend
        self.claims = claims

    @staticmethod
    def key(channel: str, run_id: int, index: int) -> str:
        return idempotency_key("slack", channel, run_id, index)

    async def create_once(self, channel: str, run_id: int, index: int, content: TicketContent) -> Ticket | None:
        """The ticket, made now or earlier; None while another click is still making it.
        Raises TicketError (the claim is released: the next click starts clean)."""
        claim = await self.claims.claim(run_id, index, self.backend.name)
        if claim.state is ClaimState.DONE and claim.url and claim.key:
            return Ticket(claim.url, claim.key)
        if claim.state is ClaimState.BUSY:
            return None
        try:
            ticket = await self.backend.create(content, self.key(channel, run_id, index))
        except BaseException:
            await self.claims.release(run_id, index)
            raise
        await self.claims.done(run_id, index, ticket.url, ticket.key)
        return ticket

    async def made(self, run_id: int) -> dict[int, Ticket]:
        return {index: Ticket(url, key) for index, (url, key) in (await self.claims.made(run_id)).items()}
