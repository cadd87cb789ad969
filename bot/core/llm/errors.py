"""Domain errors for the LLM layer, with fixes worded for the server actually in use."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.llm.probe_http import positive_int
from bot.errors import (
    LLMBusy,
    LLMTimeout,
    LLMUnavailable,
    ModelNotFound,
    PostmortemError,
)

# Statuses worth waiting out: Ollama answers 503 when its queue is full; 429 is the same idea elsewhere.
RETRYABLE_STATUSES = frozenset({429, 503})


class ContextExceeded(PostmortemError):
    """The server refused the prompt as longer than its context. The caller may shrink the incident and retry."""

    def __init__(self, message: str, fix: str, *, prompt_tokens: int | None, context_tokens: int | None) -> None:
        super().__init__(message, fix)
        self.prompt_tokens = prompt_tokens  # the server's count of the refused request, when it said
        self.context_tokens = context_tokens  # the server's context size, when it said


class LLMDropped(LLMUnavailable):
    """The server closed the connection mid-answer: it was reachable, so retrying or checking its log helps."""

    def __init__(self, message: str, fix: str, *, tokens: int) -> None:
        super().__init__(message, fix)
        self.tokens = tokens


@dataclass(frozen=True)
class Hints:
    """What to tell the user, per backend: how to start it, get the model, give it more context or slots."""

    start: str
    model: str  # format with {model}
    context: str
    busy: str
    template: str
    log: str


HINTS: dict[str, Hints] = {
    "ollama": Hints(
        start="is Ollama running? start it with `ollama serve`, or set LLM_BASE_URL",
        model="ollama pull {model}",
        context="raise LLM_MAX_CONTEXT_TOKENS (Ollama's num_ctx is sized per run up to it)",
        busy="wait for the running generation to finish, lower LLM_CONCURRENCY, or raise OLLAMA_NUM_PARALLEL",
        template="the model's chat TEMPLATE is missing or wrong: pull an official tag or fix its Modelfile",
        log="check `ollama serve`'s log; a failed model load often means too little memory (lower LLM_MAX_CONTEXT_TOKENS)",
    ),
    "llama.cpp": Hints(
        start="is llama-server running? start it with `llama-server -m model.gguf --port 8080`, or set LLM_BASE_URL",
        model="set LLM_MODEL to the model llama-server serves (see its /v1/models)",
        context="restart llama-server with a larger context, e.g. `-c 16384` (it is split over `-np` slots)",
        busy="wait for the running generation to finish, lower LLM_CONCURRENCY, or start llama-server with more slots (`-np`)",
        template="start llama-server with `--jinja`, or `--chat-template <name>` matching the model (e.g. chatml, gemma, llama3)",
        log="check llama-server's log",
    ),
    "vllm": Hints(
        start="is vLLM running? start it with `vllm serve <model>`, or set LLM_BASE_URL",
        model="set LLM_MODEL to a model vLLM serves, or start it with `vllm serve {model}`",
        context="restart vLLM with a larger `--max-model-len`",
        busy="wait for the running generations to finish or lower LLM_CONCURRENCY",
        template="start vLLM with `--chat-template` pointing at this model's template",
        log="check vLLM's log",
    ),
    "generic": Hints(
        start=(
            "start the model server LLM_BASE_URL points at (`ollama serve`, `llama-server -m model.gguf --port 8080`, "
            "`vllm serve <model>`, LM Studio's `lms server start`), or fix LLM_BASE_URL"
        ),
        model="set LLM_MODEL to a model the server lists at /v1/models, or load {model} on it",
        context="give the server a larger context and set LLM_CONTEXT_TOKENS to match",
        busy="wait for the running generation to finish or lower LLM_CONCURRENCY",
        template="load the model with its own chat template on the server",
        log="check the LLM server's log",
    ),
}


def hints(backend: str) -> Hints:
    return HINTS.get(backend, HINTS["generic"])


def unreachable(shown_url: str, backend: str) -> LLMUnavailable:
    return LLMUnavailable(f"cannot reach the LLM server at {shown_url}", hints(backend).start)


def model_not_found(model: str, backend: str, available: list[str] | None = None) -> ModelNotFound:
    where = "pulled on the LLM server" if backend == "ollama" else "served by the LLM server"
    listed = f" (it serves: {', '.join(available[:5])})" if available else ""
    return ModelNotFound(f"model {model} is not {where}{listed}", hints(backend).model.format(model=model))


def stalled(timeout_s: float) -> LLMTimeout:
    return LLMTimeout(f"the model stopped answering for {timeout_s:g} s", "raise LLM_TIMEOUT_S or use a smaller model")


def busy(attempts: int, status: int, backend: str) -> LLMBusy:
    return LLMBusy(f"the LLM server was still busy ({status}) after {attempts} attempts", hints(backend).busy)


def busy_for(status: int, wait_s: float, backend: str) -> LLMBusy:
    """The server asked for a wait long enough that another server of the pool should take the request."""
    return LLMBusy(f"the LLM server is busy ({status}) and asked for {wait_s:.0f} s", hints(backend).busy, retry_after_s=wait_s)


def dropped(tokens: int, backend: str) -> LLMDropped:
    return LLMDropped(
        f"the LLM server dropped the connection after {tokens} tokens",
        f"try again; if it repeats, {hints(backend).log}",
        tokens=tokens,
    )


def malformed_stream(detail: str) -> LLMUnavailable:
    # The server answered 200 but not in the expected format: usually LLM_BASE_URL points at the wrong thing.
    return LLMUnavailable(
        f"the LLM server sent a malformed response ({detail})",
        "check that LLM_BASE_URL points at an OpenAI-compatible /v1 endpoint",
    )


def mid_answer_error(detail: str, backend: str) -> LLMUnavailable:
    return LLMUnavailable(f"the LLM server reported an error mid-answer: {detail}", hints(backend).log)


# llama.cpp: "request (5000 tokens) exceeds the available context size (4096 tokens)";
# vLLM: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens ...".
_LLAMA_CPP_OVER = re.compile(r"\((\d+) tokens\) exceeds the available context size \((\d+) tokens\)")
_VLLM_OVER = re.compile(r"maximum context length is (\d+) tokens.*?requested (\d+) tokens", re.DOTALL)
_OVER_CONTEXT = re.compile(r"exceeds the available context size|context length|context size|too many tokens", re.IGNORECASE)


def context_exceeded(detail: str, body: object, backend: str) -> ContextExceeded | None:
    """A ContextExceeded for a 400 whose message says the prompt is over the context, else None."""
    if not _OVER_CONTEXT.search(detail):
        return None
    prompt = context = None
    if m := _LLAMA_CPP_OVER.search(detail):
        prompt, context = int(m.group(1)), int(m.group(2))
    elif m := _VLLM_OVER.search(detail):
        context, prompt = int(m.group(1)), int(m.group(2))
    inner = body.get("error", body) if isinstance(body, dict) else None
    if isinstance(inner, dict):  # newer llama-server adds the numbers as fields
        prompt = positive_int(inner.get("n_prompt_tokens")) or prompt
        context = positive_int(inner.get("n_ctx")) or context
    numbers = f" ({prompt} tokens for a context of {context})" if prompt and context else ""
    return ContextExceeded(
        f"the prompt is longer than the LLM server's context{numbers}",
        f"the incident is shortened automatically once; if it still fails, {hints(backend).context}",
        prompt_tokens=prompt,
        context_tokens=context,
    )


def status_error(status: int, detail: str, body: object, *, model: str, shown_url: str, backend: str) -> PostmortemError:
    """The domain error for a non-retryable HTTP status from a chat request."""
    if status == 404:
        # A 404 naming the model means it is missing; a bare "404 page not found" means the URL path is wrong.
        if "model" in detail.lower():
            return model_not_found(model, backend)
        return LLMUnavailable(
            f"the LLM server at {shown_url} has no chat endpoint (404: {detail})",
            "set LLM_BASE_URL to the server's OpenAI-compatible /v1 URL, e.g. http://localhost:11434/v1",
        )
    if status in (401, 403):
        return LLMUnavailable(
            f"the LLM server rejected our credentials ({status}: {detail})",
            "set LLM_API_KEY (or user:password@ in LLM_BASE_URL for a basic-auth proxy) to what the server accepts",
        )
    if status == 400 and (over := context_exceeded(detail, body, backend)) is not None:
        return over
    if 400 <= status < 500:
        return LLMUnavailable(
            f"the LLM server refused the request ({status}: {detail})",
            "check LLM_MODEL, LLM_BASE_URL and LLM_API_KEY match what the server expects",
        )
    return LLMUnavailable(f"the LLM server failed ({status}: {detail})", hints(backend).log)


def server_message(body: object, fallback: str) -> str:
    """The human part of an error body: {"error": {"message": ...}} (OpenAI), {"error": "..."} (Ollama), or text."""
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if isinstance(message, str) and message:
            return message
    if isinstance(body, str) and body:
        return body[:200]
    return fallback
