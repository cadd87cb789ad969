"""No secret of the table reaches the model, the thread, an upload, the narration or a log line, end to end.

Every secret form from tests/core/redact/secret_cases.py is planted in a Slack thread (message text, a file's
name and content, a display name), and the fake model answers with every one of them too, so the defence on the
model's answer is tested as well as the one on its input.
"""

from __future__ import annotations

import json
import logging

import pytest

from bot.core.redact import logfilter
from tests.core.redact.secret_cases import POSITIVE
from tests.e2e.conftest import Stack
from tests.e2e.test_slack_triggers import wait_done
from tests.fakes.fake_llm import status, text
from tests.fakes.sample_reports import sample_report

LIVE_MENTIONS = ("<!channel>", "<!here>", "<!everyone>", "<!subteam^", "<@U")


def leaks(haystack: str) -> list[str]:
    return [case.id for case in POSITIVE if case.secret in haystack]


async def test_no_secret_reaches_the_model_slack_uploads_narration_or_logs(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    logfilter.install()  # what `python -m bot` does at start-up
    caplog.set_level(logging.DEBUG)
    s = stack.slack
    # Names and file names carry self-evident tokens (a bare password is only a secret next to its key).
    tokens = [case.secret for case in POSITIVE if case.secret == case.text.strip()]
    leaky = s.add_user("carol", display_name=f"carol {tokens[0]}")
    pager = s.add_user("pagerduty", is_bot=True)
    root = s.post(stack.channel, pager, "[FIRING] checkout-api 5xx rate > 5% since 09:02 UTC")
    for case in POSITIVE:
        s.post(stack.channel, stack.alice, f"09:1x found in the logs: {case.text}", thread_ts=root)
    dump = "\n".join(case.text for case in POSITIVE).encode()
    named = s.add_file(f"{tokens[1]}.log", dump, "text/plain", user=leaky)
    s.post(stack.channel, leaky, "env dump attached <!channel>", thread_ts=root, files=[named["id"]])
    # The model repeats every secret in its answer, including the spoken summary, and pings the channel. Each form on
    # its own line, as written: run together on one line, forms whose name and value sit on separate lines would be
    # another text (and a key: value form could run on into the next form).
    planted = "\n".join(case.text for case in POSITIVE)
    answer = sample_report().replace("## Testing Gap Analysis", f"Seen: {planted} <!channel>\n\n## Testing Gap Analysis")
    answer = answer.rstrip() + f" Rotate {tokens[2]} now.\n"
    stack.llm.script(text(answer, chunk_chars=64))

    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await wait_done(stack, root)
    assert "white_check_mark" in s.reactions_on(stack.channel, root)

    sent_to_model = json.dumps([r.json for r in stack.llm.requests])
    assert leaks(sent_to_model) == []
    written = json.dumps([c.args for c in s.calls if c.method.startswith(("chat.", "files."))])
    assert leaks(written) == []
    assert not any(m in written for m in LIVE_MENTIONS)
    uploads = [f["content"].decode("utf-8", "replace") for f in s.uploaded_files if f["name"].endswith(".md")]
    assert uploads and leaks("\n".join(uploads)) == []
    spoken = " ".join(r.text for r in stack.edge.requests)
    assert spoken and leaks(spoken) == [] and "REDACTED" not in spoken
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert leaks(logged) == []


async def test_a_server_error_quoting_a_key_is_redacted_before_anyone_sees_it(stack: Stack) -> None:
    token = next(case.secret for case in POSITIVE if case.secret.startswith("sk-proj-"))
    s = stack.slack
    root = s.post(stack.channel, stack.alice, "checkout 5xx since 09:02, deploy v2.31 suspected, rolling back")
    # An LLM proxy answering 401 and echoing the key it was given, as LiteLLM-style proxies do.
    stack.llm.script(status(401, f"Authentication Error: Received API Key = {token}"))
    s.reaction_added(stack.alice, stack.channel, root, "test_tube")
    await s.wait_for(lambda em: "warning" in em.reactions_on(stack.channel, root))  # degraded: the digest stands in
    written = json.dumps([c.args for c in s.calls if c.method.startswith("chat.")])
    assert "Authentication Error" in written and token not in written
    run = (await stack.bot.store.recent())[0]
    assert run.facts is not None and "Authentication Error" in (run.cause or "") and token not in json.dumps(run.run().to_dict())
