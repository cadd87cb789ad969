"""How much of the incident the model reads on a default Ollama: before (the /v1 endpoint, which runs with the
server's 4096-token context) and now (the native /api/chat with num_ctx sized per run, up to
LLM_MAX_CONTEXT_TOKENS=16384).

Run: .venv/bin/python bench/bench_context_budget.py   → bench/results/context_budget.json
The real LLMClient preflight against the fake Ollama (llama3.1:8b reports a 131,072-token maximum, as the real model
does); "before" is the same preflight with the ceiling at 4096, the context the old path could use. Then the real
budget rule and prepare_incident on a generated 200-message thread: tokens for the incident, and the share of the
thread's messages the model reads (not left out; repeats are folded, not dropped) and the characters sent.
"""

from __future__ import annotations

import asyncio
from typing import Any

from gen_incident import chat_thread

from harness import run_main, write_result

from bot.core.incident.model import render_message
from bot.core.llm import LLMClient
from bot.core.pipeline import Pipeline
from bot.core.prepare import prepare_incident
from bot.settings import load_settings
from tests.fakes.fake_llm import FakeLLM

MESSAGES = 200


async def measure(base_url: str, ceiling: int) -> dict[str, Any]:
    settings = load_settings(llm_base_url=base_url, llm_model="llama3.1:8b", llm_max_context_tokens=ceiling, tts_engine="none")
    pipeline = Pipeline(settings, llm=LLMClient(settings))
    try:
        model = await pipeline.llm.preflight()
    finally:
        await pipeline.aclose()
    budget = pipeline._budget(model)
    incident = chat_thread(MESSAGES)
    prepared = await asyncio.to_thread(prepare_incident, incident, budget)
    # Repeats are folded into templates, so "read" means not left out (prepared.omitted lists what was).
    left_out = sum(int(note.split()[0]) for note in prepared.omitted if note.split()[0].isdigit())
    kept = MESSAGES - left_out
    full_chars = sum(len(render_message(m)) for m in incident.messages)
    return {"context_tokens": model.context_tokens, "incident_budget_tokens": budget,
            "prompt_estimate_tokens": prepared.token_estimate, "messages_read": kept,
            "messages_read_share": round(kept / MESSAGES, 3), "chars_sent": len(prepared.text),
            "chars_share": round(len(prepared.text) / full_chars, 3), "omitted": prepared.omitted}


async def main() -> None:
    async with FakeLLM(model="llama3.1:8b", ollama=True, context_length=131_072) as llm:
        before = await measure(llm.base_url, 4096)
        after = await measure(llm.base_url, load_settings().llm_max_context_tokens)
    result = {"thread_messages": MESSAGES, "before_v1_4096": before, "now_native_default": after,
              "budget_ratio": round(after["incident_budget_tokens"] / before["incident_budget_tokens"], 2)}
    print(f"incident budget on a default Ollama: before {before['incident_budget_tokens']} tokens "
          f"({before['messages_read_share']:.0%} of {MESSAGES} messages, {before['chars_share']:.0%} of the text); "
          f"now {after['incident_budget_tokens']} tokens ({after['messages_read_share']:.0%} of the messages, "
          f"{after['chars_share']:.0%} of the text), {result['budget_ratio']}x")
    print(f"wrote {write_result('context_budget', result)}")


if __name__ == "__main__":
    run_main(main)
