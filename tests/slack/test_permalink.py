import pytest

from bot.slack.inbound.permalink import PermalinkError, ThreadRef, parse_permalink
from tests.fakes.slack_emulator.mentions import live_mentions


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("https://acme.slack.com/archives/C0123ABC/p1700000000123456", ThreadRef("C0123ABC", "1700000000.123456", None)),
        ("<https://acme.slack.com/archives/C0123ABC/p1700000000123456>", ThreadRef("C0123ABC", "1700000000.123456", None)),
        (
            "<https://acme.slack.com/archives/G0PRIV/p1700000000123456?thread_ts=1700000000.000100&cid=G0PRIV|link>",
            ThreadRef("G0PRIV", "1700000000.123456", "1700000000.000100"),
        ),
        ("https://acme.slack-gov.com/archives/C1/p1700000000123456", ThreadRef("C1", "1700000000.123456", None)),
    ],
)
def test_valid_links(arg: str, expected: ThreadRef) -> None:
    assert parse_permalink(arg, "acme") == expected


@pytest.mark.parametrize(
    ("arg", "words"),
    [
        ("hello", "not a Slack message link"),
        ("http://acme.slack.com/archives/C1/p1700000000123456", "not a Slack message link"),
        ("https://evil.example.com/archives/C1/p1700000000123456", "not a Slack message link"),
        ("https://other.slack.com/archives/C1/p1700000000123456", "`other` workspace"),
        ("https://acme.slack.com/archives/C1", "does not point at a message"),
        ("https://acme.slack.com/archives/C1/p17000000", "does not point at a message"),
        ("https://acme.slack.com/archives/C1/p1700000000123456?thread_ts=abc", "malformed"),
    ],
)
def test_bad_links_say_why(arg: str, words: str) -> None:
    with pytest.raises(PermalinkError, match=words):
        parse_permalink(arg, "acme")


@pytest.mark.parametrize("arg", ["<!channel>", "<!here|here>", "@everyone", "<@U0123|alice>", "<!subteam^S1|@oncall>"])
def test_a_mention_given_as_the_link_is_not_echoed_live(arg: str) -> None:
    with pytest.raises(PermalinkError) as info:
        parse_permalink(arg, "acme")
    assert live_mentions(str(info.value)) == []
