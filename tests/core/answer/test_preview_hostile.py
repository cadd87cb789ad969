"""Hostile text against the preview of the section being typed (review of issue 10's streaming): secrets whose
redaction hangs on text further ahead than one unit, a model that writes many tiny lines."""

from __future__ import annotations

import pytest

from bot.core.answer.model import Answer
from bot.core.answer.preview import Previewer, Show, Verdict
from bot.core.answer.stream import AnswerStream
from bot.core.events import Event, SectionPreview
from bot.core.redact import redact_text
from bot.core.run import RunFacts
from bot.core.sections import SECTION_TITLES, SectionId
from tests.core.answer.test_preview import AFTER, BEFORE, clean, typed
from tests.core.gate.reports import incident_text, prompt_text
from tests.core.redact.secret_cases import POSITIVE

# base64 of postgres://admin:hunter2@db-primary:5432/app: a value no key=value rule knows as secret by its name.
DB_URL = "cG9zdGdyZXM6Ly9hZG1pbjpodW50ZXIyQGRiLXByaW1hcnk6NTQzMi9hcHA="


def test_kubectl_secret_data_is_never_shown_before_its_kind() -> None:
    """`kubectl get secret -o yaml` sorts its keys: data comes before kind. The value must never reach a preview,
    not even for the moment until the ``kind: Secret`` line retracts it."""
    manifest = f"apiVersion: v1\ndata:\n  DATABASE_URL: {DB_URL}\n  region: ZXUtd2VzdC0x\nkind: Secret\nmetadata:\n  name: db\n"
    shown, retracts = typed(BEFORE + "```\n" + manifest + "```\n" + AFTER)
    assert shown and not [body for body in shown if DB_URL in body]
    assert retracts == 0
    # The JSON form (kubectl -o json) likewise.
    as_json = f'{{"apiVersion": "v1",\n "data": {{"DATABASE_URL": "{DB_URL}"}},\n "kind": "Secret"}}\n'
    shown, _ = typed(BEFORE + as_json + AFTER)
    assert shown and not [body for body in shown if DB_URL in body]


def shown_at_every_boundary(text: str) -> list[str]:
    """Every body a preview of ``text`` can show, however the stream is chunked. A step's body depends only on the
    text up to the last unit end (a line break, or the blank after a sentence end): the unit ends found do not depend
    on the chunks, and the earlier steps only hold a step back (growth, a body already shown), never change what it
    shows. So a fresh preview fed the text up to each unit end shows all a chunked stream can (verified once against
    every character position of the planted line below: the same bodies)."""
    ends = [p for p in range(1, len(text) + 1) if text[p - 1] == "\n" or (text[p - 1] in " \t" and text[p - 2] in ".!?")]
    steps = [Previewer(SectionId.TIMELINE, clean, lambda line: line).advance(text[:end]) for end in [*ends, len(text)]]
    return [step.body for step in steps if isinstance(step, Show)]


@pytest.mark.parametrize("joint", [" ", "\n"], ids=["one-line", "line-by-line"])
def test_no_planted_secret_is_shown_at_any_chunk_boundary(joint: str) -> None:
    """The end-to-end test's answer: every secret form in one prose line ("Seen: …"), streamed in chunks. Run
    together, a truncated private key's BEGIN is ended by a later form's END line, and the finished section redacts
    all between as the key, forms whose own rules miss them run together (a YAML pair on a line that goes on, a table
    whose header line holds other cells) included: a preview that showed them, the next unit being no END, leaked
    them to Slack at some chunk boundaries. Nothing the finished section removes may ever be shown."""
    text = BEFORE + "Seen: " + joint.join(case.text for case in POSITIVE) + " <!channel>\n" + AFTER
    final = redact_text(text)
    removed = [case for case in POSITIVE if case.secret in text and case.secret not in final]
    assert len(removed) == len(POSITIVE)  # every form is a secret the finished section removes
    shown = shown_at_every_boundary(text)
    assert shown and "Seen: DB_PASSWORD=[REDACTED:password]" in shown[-1]  # the preview follows the line
    assert [case.id for case in removed if any(case.secret in body for body in shown)] == []


def test_text_between_a_private_key_and_its_end_lines_later_is_never_shown() -> None:
    """The redaction ends a key at the first END line after its BEGIN, however far: all between is the key's (a
    paste cut mid-key, then more of the thread, then another key's end). The next unit alone cannot tell."""
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx7Zq9c3T4s8Xw1b2C3d4\n"
    between = "".join(f"pool note {i}: the replica db-{i} lagged by {i} s.\n" for i in range(6))
    text = BEFORE + key + between + "-----END RSA PRIVATE KEY-----\n" + AFTER
    assert "pool note" not in redact_text(text)
    shown, retracts = typed(text)
    assert not [body for body in shown if "pool note" in body or "MIIE" in body] and retracts == 0
    assert shown[-1].startswith(BEFORE + "[REDACTED:private-key]") and "After that the rollback" in shown[-1]


@pytest.mark.parametrize("line", [
    "| DB_PASSWORD | my s3cret. and more. words |",  # the cell closes sentences later
    "found <password>my s3cret. and more. words</password> in the logs",  # so does the tag
])
def test_a_line_whose_secret_ends_sentences_later_is_not_shown_sentence_by_sentence(line: str) -> None:
    """A paragraph is shown sentence by sentence, but a table cell or a tag is a secret only once it closes: the
    next sentence alone does not tell, so such a line is shown once whole."""
    text = BEFORE + line + "\n" + AFTER
    assert "s3cret" not in redact_text(text)
    shown, retracts = typed(text)
    assert not [body for body in shown if "s3cret" in body] and retracts == 0
    assert "After that the rollback" in shown[-1]


def test_a_section_of_many_tiny_lines_is_judged_a_bounded_number_of_times() -> None:
    """Each judgement redacts and gates the whole text so far: one per tiny line (a 10,000-character table or list
    of 4-character rows) is quadratic and blocks the bot's event loop for tens of seconds."""
    judged: list[int] = []

    def judge(section_id: SectionId, text: str) -> Verdict:
        judged.append(len(text))
        return Verdict.CLEAN

    text = "".join(f"- {i % 10}\n" for i in range(2500))
    preview = Previewer(SectionId.TIMELINE, judge, lambda line: line)
    shown = ""
    for end in range(4, len(text) + 1, 4):
        step = preview.advance(text[:end])
        if isinstance(step, Show):
            shown = step.body
    assert sum(judged) < 40 * len(text), "the work grows with the text, not with its square"
    assert len(shown) > len(text) * 0.9  # and the preview still follows the text
    assert typed("a\nb\nc\nd\n", clean)[0] == ["a", "a\nb", "a\nb\nc"]  # short texts still go line by line


@pytest.mark.parametrize("indent", ["", "    "], ids=["top", "in-a-list-item"])
def test_a_code_block_is_shown_only_once_it_is_closed(indent: str) -> None:
    """An SSM parameter printed as JSON names its secret after the value: in a code block, nothing of it shows
    until the block is whole (and redacted whole); an open fence would also turn the rest of the preview into code."""
    ssm = '```\n{"Parameter": {\n "Value": "s3cr3t-Value-42",\n "Type": "SecureString",\n "Version": 3,\n ' \
          '"Name": "/prod/db/password"}}\n```\n'
    ssm = ("- The parameter:\n" if indent else "") + "".join(indent + line for line in ssm.splitlines(keepends=True))
    shown, retracts = typed(BEFORE + ssm + AFTER)
    assert not [body for body in shown if "s3cr3t" in body] and retracts == 0
    assert all(body.count("```") % 2 == 0 for body in shown)
    assert "[REDACTED" in shown[-1] and "After that the rollback" in shown[-1]


def test_key_value_lines_and_json_objects_outside_a_code_block_are_shown_once_ended() -> None:
    """The same SSM JSON written without a fence: its value must not be shown before the line naming it a password."""
    ssm = '{"Parameter": {\n "Value": "s3cr3t-Value-42",\n "Type": "SecureString",\n "Version": 3,\n ' \
          '"Name": "/prod/db/password"}}\n'
    for text in (ssm, ssm.replace('",\n "Type"', '",\n\n "Type"')):  # a blank line ends the run, not the object
        shown, retracts = typed(BEFORE + text + AFTER)
        assert not [body for body in shown if "s3cr3t" in body] and retracts == 0
        assert "[REDACTED" in shown[-1] and "After that the rollback" in shown[-1]
    # Prose with labels still follows line by line.
    prose = "Blast radius: 18 minutes of checkout.\n**Type:** load test.\n- 08:52 deploy.\nEnd.\n"
    assert typed(prose)[0] == ["Blast radius: 18 minutes of checkout.", "Blast radius: 18 minutes of checkout.\n**Type:** "
                               "load test.", "Blast radius: 18 minutes of checkout.\n**Type:** load test.\n- 08:52 deploy."]


class Previews:
    def __init__(self) -> None:
        self.previews: list[tuple[SectionId, str]] = []

    async def __call__(self, event: Event) -> None:
        if isinstance(event, SectionPreview):
            self.previews.append((event.section_id, event.body))


async def _nothing(_: str) -> None:
    return None


async def test_a_section_written_as_one_paragraph_is_previewed_sentence_by_sentence() -> None:
    """Models write prose as one long line: the preview must follow its sentences, not wait for the line's end
    (it only looked when a chunk held a line break)."""
    paragraph = " ".join(f"At 10:4{i} the {what} of db-primary ran dry while retries tripled the load on it." for i, what in
                         enumerate(["pool", "cache", "queue", "disk", "socket table", "thread pool"]))
    obs = Previews()
    answer = Answer(prompt_text=prompt_text(), incident_text=incident_text())
    stream = AnswerStream(obs, RunFacts(prompt_version="test", model="test"), answer, None, lambda s: s.finish(), _nothing)
    markdown = f"## {SECTION_TITLES[SectionId.ROOT_CAUSE]}\n\n{paragraph}"
    for i in range(0, len(markdown), 4):
        await stream.on_text(markdown[i : i + 4])
    last = obs.previews[-1][1]
    assert len(obs.previews) == 4 and "10:43" in last and "10:44" not in last  # the last whole sentence waits
