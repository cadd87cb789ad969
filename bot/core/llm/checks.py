"""Checks on the answer itself, not only the transport: cut short, template leaking, prompt miscounted or cut."""

from __future__ import annotations

import math

from bot.core.llm.errors import hints
from bot.core.llm.models import StreamResult

# A prompt this close to the context size was most likely cut: Ollama truncates to exactly num_ctx, silently.
TRUNCATION_RATIO = 0.95
# A server counting the prompt at under a third of our estimate did not feed it the messages we sent.
BROKEN_TEMPLATE_RATIO = 1 / 3
# Below this many estimated tokens the ratio says little (a template's own tokens dominate).
BROKEN_TEMPLATE_MIN_ESTIMATE = 200


def truncation_warning(prompt_tokens: int | None, context_tokens: int, backend: str = "ollama") -> str | None:
    """A warning when usage shows the prompt filled the context, the only sign Ollama gives of cutting it."""
    if prompt_tokens is None or prompt_tokens < context_tokens * TRUNCATION_RATIO:
        return None
    if prompt_tokens > context_tokens:
        # The server evidently has more room than we assumed, so we cannot tell whether it cut anything.
        return (
            f"the prompt used {prompt_tokens} tokens, more than the assumed context of {context_tokens}; "
            "set LLM_CONTEXT_TOKENS to the server's real context size so truncation can be detected"
        )
    return (
        f"the prompt used {prompt_tokens} of {context_tokens} context tokens, so the server probably cut part of "
        f"the incident silently; shorten the input, or {hints(backend).context}"
    )


def answer_warnings(result: StreamResult, *, backend: str, prompt_chars: int, max_tokens: int) -> list[str]:
    warnings: list[str] = []
    fix = hints(backend).template
    if result.truncated_warning:
        warnings.append(result.truncated_warning)
    estimate = math.ceil(prompt_chars / 4)
    if (
        result.prompt_tokens is not None
        and estimate >= BROKEN_TEMPLATE_MIN_ESTIMATE
        and result.prompt_tokens < estimate * BROKEN_TEMPLATE_RATIO
    ):
        warnings.append(
            f"the server's chat template looks broken: a ~{estimate}-token prompt was counted as "
            f"{result.prompt_tokens} tokens; {fix}"
        )
    if result.template_tokens:
        warnings.append(
            f"the answer carried {result.template_tokens} chat-template tokens (such as <|im_end|>), removed from the "
            f"report; the server's chat template does not match the model: {fix}"
        )
    if result.finish_reason == "length":
        warnings.append(
            f"the answer was cut at the {max_tokens}-token limit, so its last sections may be missing; "
            "raise LLM_MAX_TOKENS"
            + ("" if backend == "ollama" else f" (and the server's context with it: {hints(backend).context})")
        )
    return warnings
