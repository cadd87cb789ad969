"""The report exported to the team's wiki, end to end: the real BotApp over Socket Mode, the Slack emulator, and the
Confluence or Notion emulator. A finished run makes one page, links it in the thread and from the canvas; Regenerate
updates the same page; a wiki that refuses is explained in the closing line with its fix, nothing half-made, and
the next Regenerate makes the page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bot.core.run import RunState
from bot.slack.blocks.closing import REGENERATE_ACTION
from tests.e2e.conftest import Stack, finished_short_thread
from tests.fakes.confluence_api import FakeConfluence
from tests.fakes.fake_llm import text
from tests.fakes.fake_llm.gated_report import gate_passing_report
from tests.fakes.notion_api import FakeNotion


@asynccontextmanager
async def wiki(kind: str) -> AsyncIterator[tuple[FakeConfluence | FakeNotion, dict[str, Any]]]:
    if kind == "confluence":
        async with FakeConfluence(spaces={"OPS": "98304"}) as conf:
            yield conf, {"export": "confluence", "confluence_url": conf.url, "confluence_space": "OPS",
                         "confluence_email": conf.email, "confluence_api_token": conf.api_token}
    else:
        async with FakeNotion() as notion:
            yield notion, {"export": "notion", "notion_token": notion.token, "notion_database_id": notion.database_id,
                           "notion_api_url": notion.url}


def pages(fake: FakeConfluence | FakeNotion) -> list[dict[str, Any]]:
    return list(fake.pages.values()) if isinstance(fake, FakeConfluence) else fake.live_pages()


def page_text(fake: FakeConfluence | FakeNotion, page: dict[str, Any]) -> str:
    if isinstance(fake, FakeConfluence):
        return str(page["body"])
    return "\n".join("".join(t["text"]["content"] for t in b[b["type"]].get("rich_text", [])) for b in page["blocks"])


def texts(stack: Stack, root: str) -> list[str]:
    return [str(m.get("text", "")) for m in stack.slack.thread(stack.channel, root)]


def replies(stack: Stack, root: str, start: str) -> list[str]:
    return [t for t in texts(stack, root) if t.startswith(start)]


async def regenerate(stack: Stack, root: str, previous: int) -> None:
    slack, store = stack.slack, stack.bot.store
    assert store is not None

    def closings() -> list[dict[str, Any]]:
        return [m for m in slack.thread(stack.channel, root) if any(b.get("type") == "context_actions" for b in m.get("blocks") or [])]
    before = len(closings())
    slack.click(stack.alice, stack.channel, closings()[-1]["ts"], REGENERATE_ACTION)
    # The run is recorded done before its 👀 goes: a new closing line and no 👀 mean the store says done.
    await slack.wait_for(lambda s: len(closings()) > before and "eyes" not in s.reactions_on(stack.channel, root), timeout=30)
    latest = await store.latest_for_thread(stack.channel, root)
    assert latest is not None and latest.id != previous and latest.status is RunState.DONE


@pytest.mark.parametrize("kind", ["confluence", "notion"])
async def test_the_report_goes_to_the_wiki_is_linked_and_regenerate_updates_the_same_page(stack_factory: Any, kind: str) -> None:
    async with wiki(kind) as (fake, settings):
        stack: Stack = await stack_factory(tts_engine="none", **settings)
        root = await finished_short_thread(stack)
        [page] = pages(fake)
        assert "Root Cause Determination" in page_text(fake, page) and "Recommended Test Suite" in page_text(fake, page)
        name = "Confluence" if kind == "confluence" else "Notion"
        [link] = replies(stack, root, f":notebook: The report is in {name}:")
        [canvas] = stack.slack.workspace.canvases.values()
        assert f"Also in {name}" in canvas["markdown"]
        url = link.split("<", 1)[1].split("|", 1)[0]
        assert url in canvas["markdown"]

        first = await stack.bot.store.latest_for_thread(stack.channel, root)  # type: ignore[union-attr]
        assert first is not None
        await regenerate(stack, root, first.id)
        assert [p["id"] for p in pages(fake)] == [page["id"]]
        [updated] = replies(stack, root, f":notebook: The report is in {name} (updated):")
        assert url in updated
        if isinstance(fake, FakeConfluence):
            assert page["version"]["number"] == 2


@pytest.mark.parametrize("kind", ["confluence", "notion"])
async def test_markdown_nested_past_the_parsers_limit_reaches_the_page_whole(stack_factory: Any, kind: str) -> None:
    words = [f"{w}{n}" for n, w in enumerate(("canary", "pool", "replica", "drain", "quota", "budget",
                                                                "alert", "probe", "retry", "backoff") * 3)]
    deep = "\n".join("  " * i + f"- step{i} {word}" for i, word in enumerate(words))
    answer = gate_passing_report().replace("## Recommended Test Suite", f"{deep}\n\nClosing note.\n\n## Recommended Test Suite")
    async with wiki(kind) as (fake, settings):
        stack: Stack = await stack_factory(tts_engine="none", **settings)
        stack.llm.script(text(answer))
        root = await finished_short_thread(stack)
        [page] = pages(fake)
        body = page_text(fake, page) if kind == "confluence" else notion_page_text(page["blocks"])
    missing = [f"step{i} " for i in range(30) if f"step{i} " not in body]
    assert missing == [] and "Closing note." in body and "Retry storm" in body and root


def notion_page_text(blocks: list[dict[str, Any]]) -> str:
    return "\n".join("".join(t["text"]["content"] for t in b[b["type"]].get("rich_text", []))
                     + "\n" + notion_page_text(b[b["type"]].get("children", [])) for b in blocks)


async def test_a_refusing_wiki_is_explained_with_its_fix_and_regenerate_makes_the_page(stack_factory: Any) -> None:
    async with wiki("notion") as (fake, settings):
        assert isinstance(fake, FakeNotion)
        stack: Stack = await stack_factory(tts_engine="none", **settings)
        fake.fail_next("create", 503)
        root = await finished_short_thread(stack)
        assert pages(fake) == []
        [closing] = [t for t in texts(stack, root) if "Postmortem done" in t]
        assert "not exported to Notion: Notion answered HTTP 503" in closing and "press Regenerate" in closing
        assert not replies(stack, root, ":notebook:")

        first = await stack.bot.store.latest_for_thread(stack.channel, root)  # type: ignore[union-attr]
        assert first is not None
        await regenerate(stack, root, first.id)
        assert len(pages(fake)) == 1 and len(replies(stack, root, ":notebook: The report is in Notion:")) == 1


async def test_a_missing_export_setting_stops_the_bot_at_start_naming_it(stack_factory: Any) -> None:
    from bot.errors import ConfigError
    with pytest.raises(ConfigError, match="EXPORT=confluence needs CONFLUENCE_URL"):
        await stack_factory(tts_engine="none", export="confluence")
