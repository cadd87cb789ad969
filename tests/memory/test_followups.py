"""Open follow-ups, on both stores and against the GitHub emulator: tests whose ticket is open (or cannot be read
now), or that never got one, oldest first; closed tickets (done or not planned), imported reviews and postmortems
younger than asked are left out; memory off lists nothing."""

from __future__ import annotations

import time

from bot.core.memory import Signals, TicketState
from bot.memory.followups import DAY_S, open_followups
from bot.memory.index import Entry, MemoryIndex
from bot.memory.recall import Memory
from bot.memory.tickets import TicketStates
from bot.runs.sql import SqlRunStore
from bot.tickets.github import GitHubIssues
from tests.fakes.github_api import FakeGitHub
from tests.tickets.conftest import CONTENT

POOL = Signals(("connection-pool-exhaustion",), ("orders-api",), (), (), "INC-1 orders pool")


def entry(source: str, days_old: float, tests: list[dict[str, str]], channel: str | None = "C1", private: bool = False) -> Entry:
    return Entry(source, source, POOL, "done", "cause", tests, "body", channel=channel, private=private,
                 started_at=time.time() - days_old * DAY_S)


async def test_open_ones_oldest_first_closed_and_imported_left_out(store: SqlRunStore) -> None:
    async with FakeGitHub(repos=["acme/shop"]) as gh:
        backend = GitHubIssues("acme/shop", gh.token, gh.api_url, timeout_s=5)
        open_one, done, dropped = [await backend.create(CONTENT, f"pmb-{n}") for n in range(3)]
        gh.close("acme/shop", 2, "completed")
        gh.close("acme/shop", 3, "not_planned")
        memory = Memory(MemoryIndex(store), TicketStates(backend, cache_s=0), retention_days=365)

        def ticketed(name: str, ticket: object) -> dict[str, str]:
            return {"name": name, "type": "load", "ticket_url": ticket.url, "ticket_key": ticket.key}  # type: ignore[attr-defined]

        await memory.remember(entry("cli:new", 2, [{"name": "Fresh test", "type": "load"}], channel=None))
        await memory.remember(entry("slack:C1/1.1", 30, [ticketed("Pool saturation", open_one), ticketed("Done test", done),
                                                          ticketed("Dropped test", dropped), {"name": "Never filed", "type": "chaos"}]))
        await memory.remember(entry("slack:G2/2.2", 20, [{"name": "Secret test", "type": "load"}], channel="G2", private=True))
        await memory.remember(entry("file:/reviews/old.md", 90, [{"name": "Imported action item", "type": "load"}], channel=None))

        found = await open_followups(memory)
        assert [(f.test.name, f.private) for f in found] == [
            ("Pool saturation", False), ("Never filed", False), ("Secret test", True), ("Fresh test", False)]
        assert found[0].test.state is TicketState.OPEN and found[0].test.ticket_key == open_one.key
        assert found[1].test.ticket_key is None and found[0].age_days(time.time()) == 30
        assert [f.test.name for f in await open_followups(memory, older_than_days=14)] == ["Pool saturation", "Never filed", "Secret test"]

        gh.fail_next("get", 502)  # a ticket that cannot be read now stays listed, with why
        unknown = (await open_followups(memory, older_than_days=25))[0]
        assert unknown.test.state is TicketState.UNKNOWN and "502" in unknown.test.state_note
        gh.close("acme/shop", 1, "completed")
        assert [f.test.name for f in await open_followups(memory, older_than_days=14)] == ["Never filed", "Secret test"]
        await backend.aclose()

    off = Memory(MemoryIndex(store), TicketStates(None), retention_days=0)
    assert await open_followups(off) == []
