"""Through the real bot and the Slack emulator with a pool of two model servers: every server down ends the run
degraded with each server's state in the closing line; once they are back, the next run uses them at once."""

from __future__ import annotations

from tests.e2e.conftest import Stack
from tests.e2e.test_degraded import thread_texts, wait_reaction
from tests.e2e.test_slack_triggers import incident_thread
from tests.fakes.fake_llm import FakeLLM


async def test_all_model_servers_down_then_back_the_next_run_uses_them(stack_factory) -> None:  # type: ignore[no-untyped-def]
    async with FakeLLM(model="llama3.1:8b", ollama=True, context_length=8192) as second:
        stack: Stack = await stack_factory(more_llms=(second,))
        first = stack.llm
        await first.go_down()
        await second.go_down()
        root, _ = incident_thread(stack)
        stack.slack.reaction_added(stack.alice, stack.channel, root, "test_tube")
        assert await wait_reaction(stack, root, "warning", "white_check_mark", "x") == "warning"
        closing = next(t for t in thread_texts(stack, root) if t.startswith(":warning: No model analysis"))
        servers = closing[closing.index("LLM servers:"):]
        assert f"{first.base_url}: left out" in servers and f"{second.base_url}: left out" in servers
        assert "cannot reach" in servers

        await first.come_back()
        await second.come_back()  # well inside LLM_BENCH_S (60 s): the benches are lifted by the next probe
        stack.slack.reaction_added(stack.bob, stack.channel, root, "test_tube")
        assert await wait_reaction(stack, root, "white_check_mark", "x") == "white_check_mark"
        closing = next(t for t in thread_texts(stack, root) if t.startswith(":white_check_mark: Postmortem done"))
        servers = closing[closing.index("LLM servers:"):]
        assert f"{first.base_url}: ready" in servers and f"{second.base_url}: ready" in servers
        assert "wrote this answer" in servers
        assert len(first.chat_requests) + len(second.chat_requests) >= 1
