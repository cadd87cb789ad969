"""A ticket's state read live from each backend's emulator: open, closed as done, closed as not planned; a ticket
of another repository or site is not claimed; failures are one clear TicketError."""

from __future__ import annotations

import pytest

from bot.tickets import TicketError
from bot.tickets.model import TicketErrorKind
from tests.fakes.github_api import FakeGitHub
from tests.fakes.jira_api import FakeJira
from tests.tickets.conftest import CONTENT, Backend


async def test_states_follow_the_ticket(backend: Backend) -> None:
    made = backend.make()
    ticket = await made.create(CONTENT, "pmb-state")
    assert made.owns(ticket.url)
    assert await made.state(ticket.key) == "open"
    fake = backend.emulator
    if isinstance(fake, FakeGitHub):
        fake.close("acme/shop", 1, "not_planned")
        assert await made.state(ticket.key) == "not_planned"
        fake.reopen("acme/shop", 1)
        assert await made.state(ticket.key) == "open"
        fake.close("acme/shop", 1, "completed")
    else:
        assert isinstance(fake, FakeJira)
        fake.close(ticket.key, "Won't Do")
        assert await made.state(ticket.key) == "not_planned"
        fake.reopen(ticket.key)
        assert await made.state(ticket.key) == "open"
        fake.close(ticket.key, "Done")
    assert await made.state(ticket.key) == "done"
    await made.aclose()


async def test_tickets_elsewhere_are_not_claimed(backend: Backend) -> None:
    made = backend.make()
    assert not made.owns("https://github.com/other/repo/issues/1")
    assert not made.owns("https://elsewhere.atlassian.net/browse/OPS-1")
    await made.aclose()


@pytest.mark.parametrize(("status", "kind"), [(404, TicketErrorKind.NOT_FOUND), (502, TicketErrorKind.UNAVAILABLE), (401, TicketErrorKind.REFUSED)])
async def test_a_state_that_cannot_be_read_is_one_clear_error(backend: Backend, status: int, kind: TicketErrorKind) -> None:
    made = backend.make()
    ticket = await made.create(CONTENT, "pmb-state")
    backend.emulator.fail_next("get", status)
    with pytest.raises(TicketError) as raised:
        await made.state(ticket.key)
    assert raised.value.kind is kind and raised.value.fix
    await made.aclose()


async def test_a_missing_ticket_is_not_found(backend: Backend) -> None:
    made = backend.make()
    with pytest.raises(TicketError) as raised:
        await made.state("#999" if backend.kind == "github" else "OPS-999")
    assert raised.value.kind is TicketErrorKind.NOT_FOUND
    await made.aclose()
