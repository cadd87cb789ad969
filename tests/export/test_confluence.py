"""The Confluence exporter against the REST emulator: create, update (Regenerate), found again after a crash, and
every fault explained with nothing half-made."""

from __future__ import annotations

import pytest

from bot.export import ExportError, export_key
from bot.export.confluence import ConfluenceExporter
from tests.fakes.confluence_api import FakeConfluence

REPORT = "# Checkout errors after v2.14\n\n## Root Cause Determination\n\n**Primary:** pool exhausted <script>x</script>\n"
KEY = export_key("C1", "1700000000.000100")


def exporter(wiki: FakeConfluence, **kw: str) -> ConfluenceExporter:
    return ConfluenceExporter(wiki.url, kw.get("space", "OPS"), wiki.email, kw.get("token", wiki.api_token),
                              kw.get("parent"), timeout_s=2)


async def test_creates_a_labelled_page_then_regenerate_updates_the_same_page() -> None:
    async with FakeConfluence(parents=("4242",)) as wiki:
        ex = exporter(wiki, parent="4242")
        first = await ex.publish(KEY, "Checkout errors", REPORT)
        assert first.created and first.url == f"{wiki.url}/spaces/OPS/pages/{first.page_id}"
        page = wiki.pages[first.page_id]
        assert page["labels"] == [KEY] and page["parentId"] == "4242" and KEY in page["title"]
        assert "&lt;script&gt;" in page["body"] and "<strong>Primary:</strong>" in page["body"]
        second = await ex.publish(KEY, "Checkout errors (regenerated)", REPORT.replace("pool", "the pool"))
        await ex.aclose()
    assert (second.page_id, second.created) == (first.page_id, False)
    assert len(wiki.pages) == 1 and page["version"]["number"] == 2 and "the pool" in page["body"]


async def test_a_person_editing_meanwhile_is_not_a_failure() -> None:
    async with FakeConfluence() as wiki:
        ex = exporter(wiki)
        made = await ex.publish(KEY, "t", REPORT)
        wiki.edit_meanwhile(made.page_id)
        wiki.fail_next("update", 409)  # the version read just before the PUT was already stale
        await ex.publish(KEY, "t", "# new text\n")
        await ex.aclose()
    assert "new text" in wiki.pages[made.page_id]["body"]


async def test_a_lost_answer_to_the_creation_finds_the_page_instead_of_making_a_second() -> None:
    async with FakeConfluence() as wiki:
        wiki.fail_next("create", applied=True, drop=True)
        ex = exporter(wiki)
        page = await ex.publish(KEY, "Checkout", REPORT)
        await ex.aclose()
    assert len(wiki.pages) == 1 and wiki.pages[page.page_id]["labels"] == [KEY]


async def test_a_crash_before_the_label_is_found_by_title_on_the_next_attempt() -> None:
    async with FakeConfluence() as wiki:
        ex = exporter(wiki)
        wiki.fail_next("label", 500)
        with pytest.raises(ExportError):
            await ex.publish(KEY, "Checkout", REPORT)
        assert wiki.pages == {}  # taken back: an unlabelled page could be made twice
        await ex.publish(KEY, "Checkout", REPORT)
        await ex.aclose()
    assert len(wiki.pages) == 1


@pytest.mark.parametrize(("setup", "words", "fix"), [
    ("token", "refused the credentials (HTTP 401", "CONFLUENCE_API_TOKEN"),
    ("space", "no space with key NOPE", "CONFLUENCE_SPACE"),
    ("parent", "parent page 777 does not exist", "CONFLUENCE_PARENT_ID"),
    ("busy", "answered HTTP 503", "Regenerate"),
    ("down", "cannot reach Confluence", "URL setting"),
])
async def test_every_fault_says_what_to_fix_and_makes_nothing(setup: str, words: str, fix: str) -> None:
    async with FakeConfluence() as wiki:
        kw = {"token": "wrong"} if setup == "token" else {"space": "NOPE"} if setup == "space" else \
             {"parent": "777"} if setup == "parent" else {}
        ex = exporter(wiki, **kw)
        if setup == "busy":
            wiki.fail_next("create", 503)
        if setup == "down":
            ex = ConfluenceExporter("http://127.0.0.1:9/wiki", "OPS", wiki.email, wiki.api_token, timeout_s=2)
        with pytest.raises(ExportError) as err:
            await ex.publish(KEY, "t", REPORT)
        await ex.aclose()
    assert words in err.value.message and fix in (err.value.fix or "")
    assert wiki.pages == {}


async def test_markdown_the_model_wrote_never_breaks_the_storage_format() -> None:
    hostile = "# t\n\n<ac:structured-macro ac:name=\"html\">x</ac:structured-macro>\n\nA & B < C \x07 done\n\n| a |\n|---|\n| <b> |\n"
    async with FakeConfluence() as wiki:
        ex = exporter(wiki)
        page = await ex.publish(KEY, "t", hostile)
        await ex.aclose()
    body = wiki.pages[page.page_id]["body"]
    assert "<ac:" not in body and "A &amp; B &lt; C" in body


async def test_a_page_a_person_deleted_says_to_restore_or_purge_it_from_the_trash() -> None:
    async with FakeConfluence() as wiki:
        ex = exporter(wiki)
        first = await ex.publish(KEY, "Checkout errors", REPORT)
        wiki.trash(first.page_id)  # deleted in Confluence between runs: its title stays taken
        with pytest.raises(ExportError) as caught:
            await ex.publish(KEY, "Checkout errors", REPORT)
        await ex.aclose()
    assert "trash" in str(caught.value) and "trash" in caught.value.fix and "bot bug" not in caught.value.fix


async def test_a_lone_surrogate_xml_forbids_is_dropped_not_sent() -> None:
    # json.loads gives lone surrogates for "\ud800" in a Slack export or a model's JSON; XML 1.0 has no such character.
    async with FakeConfluence() as wiki:
        ex = exporter(wiki)
        page = await ex.publish(KEY, "t", "# t\n\nbroken \ud800 pair \udfff end\n")
        await ex.aclose()
    assert "broken  pair  end" in wiki.pages[page.page_id]["body"]


async def test_doctor_checks_the_export_with_the_lookups_a_publish_makes() -> None:
    from bot.cli.doctor import check_export
    from bot.settings import load_settings

    async with FakeConfluence() as wiki:
        good = {"export": "confluence", "confluence_url": wiki.url, "confluence_space": "OPS",
                "confluence_email": wiki.email, "confluence_api_token": wiki.api_token}
        assert await check_export(load_settings(**good)) is True
        assert await check_export(load_settings(**{**good, "confluence_api_token": "revoked"})) is False
        assert await check_export(load_settings(**{**good, "confluence_space": "NOPE"})) is False
        assert await check_export(load_settings(**{**good, "confluence_url": None})) is False
        assert wiki.pages == {}
    assert await check_export(load_settings(export="none")) is True
