"""One hook, many subscribers: each event reaches every subscriber, in the order they were given."""

from __future__ import annotations

from bot.core.events import DigestReady, Event, Subscribers


async def test_subscribers_see_each_event_in_order_and_none_is_skipped() -> None:
    seen: list[tuple[str, Event]] = []

    def note(name: str):  # type: ignore[no-untyped-def]
        async def subscriber(event: Event) -> None:
            seen.append((name, event))
        return subscriber

    emit = Subscribers(note("recorder"), None, note("delivery"))
    await emit(DigestReady("a"))
    await emit(DigestReady("b"))
    assert seen == [("recorder", DigestReady("a")), ("delivery", DigestReady("a")),
                    ("recorder", DigestReady("b")), ("delivery", DigestReady("b"))]
