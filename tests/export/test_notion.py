"""The Notion exporter against the REST emulator: create (over 100 blocks), update in place, found again after a
crash, rate limits waited out, and every fault explained with nothing half-made."""

from __future__ import annotations

from typing import Any

import pytest

from bot.export import ExportError, export_key
from bot.export.notion import NotionExporter
from tests.fakes.notion_api import FakeNotion

KEY = export_key("C1", "1700000000.000100")
LONG = "# Report\n\n" + "\n\n".join(f"Paragraph {i} " + "x" * 50 for i in range(150))  # 151 blocks: two batches


def exporter(notion: FakeNotion, token: str | None = None) -> NotionExporter:
    return NotionExporter(token or notion.token, notion.database_id, notion.url, timeout_s=2)


def texts(page: dict[str, Any]) -> str:
    """Every block's text, one line each, nested list items included."""
    def lines(blocks: list[dict[str, Any]]) -> list[str]:
        out = []
        for b in blocks:
            out.append("".join(t["text"]["content"] for t in b[b["type"]].get("rich_text", [])))
            out += lines(b[b["type"]].get("children", []))
        return out
    return "\n".join(lines(page["blocks"]))


async def test_a_long_report_is_one_page_and_regenerate_replaces_its_content() -> None:
    async with FakeNotion() as notion:
        ex = exporter(notion)
        first = await ex.publish(KEY, "Checkout errors", LONG)
        page = notion.pages[first.page_id]
        assert first.created and len(page["blocks"]) == 151 and KEY in page["title"]
        second = await ex.publish(KEY, "Checkout errors v2", "# Report\n\nOnly this now.\n")
        await ex.aclose()
    assert (second.page_id, second.created) == (first.page_id, False)
    assert texts(page) == "Report\nOnly this now." and "v2" in page["title"] and len(notion.pages) == 1


async def test_a_title_property_renamed_between_runs_still_finds_and_updates_the_page() -> None:
    async with FakeNotion() as notion:
        ex = exporter(notion)  # one exporter for the bot's life, as in the Slack app
        first = await ex.publish(KEY, "Checkout errors", "# Report\n\nFirst.\n")
        notion.title_property = "Postmortem"  # a person renames the database's title column
        second = await ex.publish(KEY, "Checkout errors v2", "# Report\n\nSecond.\n")
        await ex.aclose()
    assert (second.page_id, second.created) == (first.page_id, False)
    assert "v2" in notion.pages[first.page_id]["title"] and texts(notion.pages[first.page_id]) == "Report\nSecond."


async def test_a_failed_second_batch_trashes_the_new_page() -> None:
    async with FakeNotion() as notion:
        notion.fail_next("append", 500)
        ex = exporter(notion)
        with pytest.raises(ExportError, match="HTTP 500"):
            await ex.publish(KEY, "t", LONG)
        await ex.aclose()
    assert notion.live_pages() == []


async def test_a_failed_update_leaves_the_page_as_it_was() -> None:
    async with FakeNotion() as notion:
        ex = exporter(notion)
        made = await ex.publish(KEY, "t", "# Report\n\nfirst version\n")
        notion.fail_next("append", 502)
        with pytest.raises(ExportError):
            await ex.publish(KEY, "t", LONG)
        await ex.aclose()
    assert texts(notion.pages[made.page_id]) == "Report\nfirst version"


async def test_a_lost_answer_to_the_creation_finds_the_page_and_makes_it_whole() -> None:
    async with FakeNotion() as notion:
        notion.fail_next("create", applied=True, drop=True)
        ex = exporter(notion)
        page = await ex.publish(KEY, "t", LONG)
        await ex.aclose()
    assert len(notion.live_pages()) == 1 and len(notion.pages[page.page_id]["blocks"]) == 151


async def test_rate_limits_are_waited_out() -> None:
    async with FakeNotion() as notion:
        notion.fail_next("create", 429, headers={"Retry-After": "0"}, times=2)
        ex = exporter(notion)
        await ex.publish(KEY, "t", "# r\n")
        await ex.aclose()
    assert len(notion.live_pages()) == 1


@pytest.mark.parametrize(("setup", "words", "fix"), [
    ("token", "refused the credentials (HTTP 401", "NOTION_TOKEN"),
    ("unshared", "not shared with the integration", "Connections"),
    ("limit", "answered HTTP 429", "Regenerate"),
])
async def test_every_fault_says_what_to_fix_and_makes_nothing(setup: str, words: str, fix: str) -> None:
    async with FakeNotion() as notion:
        ex = exporter(notion, token="wrong" if setup == "token" else None)
        if setup == "unshared":
            ex = NotionExporter(notion.token, "0" * 32, notion.url, timeout_s=2)
        if setup == "limit":
            notion.fail_next("create", 429, headers={"Retry-After": "60"})
        with pytest.raises(ExportError) as err:
            await ex.publish(KEY, "t", "# r\n")
        await ex.aclose()
    assert words in err.value.message and fix in (err.value.fix or "")
    assert notion.live_pages() == []


async def test_whatever_markdown_the_model_wrote_is_accepted() -> None:
    hostile = ("# t\n\n" + "y" * 5000 + "\n\n- a\n  - b\n    - c\n      - d\n\n[x](javascript:alert(1)) [y](https://ok.test)\n\n"
               "```hcl\nresource {}\n```\n\n| a | b |\n|---|---|\n| 1 |\n\n" + " ".join(f"**w{i}**" for i in range(150)))
    async with FakeNotion() as notion:
        ex = exporter(notion)
        page = await ex.publish(KEY, "t", hostile)
        await ex.aclose()
    text = texts(notion.pages[page.page_id])
    assert "y" * 5000 in text.replace("\n", "") and "w0" in text and "w149" in text and "d" in text.split("\n")
