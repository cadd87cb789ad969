from bot.core.sections import Section, SectionId
from bot.slack.blocks.sections import MARKDOWN_LIMIT, section_messages, split_paragraphs


def test_split_keeps_every_character_and_respects_the_limit() -> None:
    text = "intro\n\n" + "x" * 30_000 + "\n\n" + "\n".join(f"line {i}" for i in range(2000))
    parts = split_paragraphs(text, 11_000)
    assert all(len(p) <= 11_000 for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


def test_split_prefers_paragraph_boundaries() -> None:
    assert split_paragraphs("aaa\n\nbbb\n\nccc", 8) == ["aaa\n\nbbb", "ccc"]


def test_a_short_section_is_one_markdown_message_with_a_fallback_text() -> None:
    [msg] = section_messages(Section(SectionId.ROOT_CAUSE, "Root Cause Determination", "**Primary:** pool"), block_id="pm1-x")
    assert msg.blocks == [{"type": "markdown", "text": "## Root Cause Determination\n\n**Primary:** pool", "block_id": "pm1-x.0"}]
    assert msg.text.startswith("Root Cause Determination: ")


def test_a_long_section_is_split_under_slacks_markdown_limit() -> None:
    body = "\n\n".join("para " + "y" * 3000 for _ in range(10))
    messages = section_messages(Section(SectionId.TEST_SUITE, "Recommended Test Suite", body))
    assert len(messages) == 4  # three 3,005-character paragraphs fit in 11,000
    assert all(len(m.blocks[0]["text"]) <= 12_000 and len(m.blocks[0]["text"]) <= MARKDOWN_LIMIT + 100 for m in messages)
    assert messages[1].blocks[0]["text"].startswith("## Recommended Test Suite (2/4)")
