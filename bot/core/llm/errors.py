"""Translate openai SDK exceptions into domain errors that say what to do next."""

from __future__ import annotations

import openai

from bot.errors import LLMBusy, LLMTimeout, LLMUnavailable, ModelNotFound, PostmortemError

START_OLLAMA = "is Ollama running? start it with `ollama serve`, or set LLM_BASE_URL"

# Statuses worth waiting out: Ollama answers 503 when its queue is full; 429 is the same idea elsewhere.
RETRYABLE_STATUSES = frozenset({429, 503})


def unreachable(base_url: str) -> LLMUnavailable:
    return LLMUnavailable(f"cannot reach the LLM server at {base_url}", START_OLLAMA)


def model_not_found(model: str) -> ModelNotFound:
    return ModelNotFound(f"model {model} is not pulled on the LLM server", f"ollama pull {model}")


def stalled(timeout_s: float) -> LLMTimeout:
    return LLMTimeout(
        f"the model stopped answering for {timeout_s:g} s",
        "raise LLM_TIMEOUT_S or use a smaller model",
    )


def busy(attempts: int) -> LLMBusy:
    return LLMBusy(
        f"the LLM server was still busy (503) after {attempts} attempts",
        "wait for the running generation to finish, lower LLM_CONCURRENCY, or raise OLLAMA_NUM_PARALLEL",
    )


def malformed_stream(detail: str) -> LLMUnavailable:
    # The server answered 200 but not with OpenAI-style SSE: usually LLM_BASE_URL points at the wrong thing.
    return LLMUnavailable(
        f"the LLM server sent a malformed response ({detail})",
        "check that LLM_BASE_URL points at an OpenAI-compatible /v1 endpoint",
    )


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        # Ollama nests {"error": {"message": ...}}; the SDK sometimes unwraps to the inner dict already.
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        if isinstance(message, str) and message:
            return message
    if isinstance(body, str) and body:
        return body[:200]
    return exc.message


def map_openai_error(exc: openai.OpenAIError, *, model: str, base_url: str, timeout_s: float) -> PostmortemError:
    """The domain error for one SDK exception. Callers handle retryable statuses before this."""
    if isinstance(exc, openai.APITimeoutError):  # subclass of APIConnectionError: test it first
        return stalled(timeout_s)
    if isinstance(exc, openai.APIConnectionError):
        return unreachable(base_url)
    if isinstance(exc, openai.APIStatusError):
        status, detail = exc.status_code, _server_message(exc)
        if status == 404:
            # Ollama's 404 names the model; a bare "404 page not found" means the URL path is wrong.
            if "model" in detail.lower():
                return model_not_found(model)
            return LLMUnavailable(
                f"the LLM server at {base_url} has no chat completions endpoint (404: {detail})",
                "set LLM_BASE_URL to the server's OpenAI-compatible /v1 URL, e.g. http://localhost:11434/v1",
            )
        if status in (401, 403):
            return LLMUnavailable(
                f"the LLM server rejected our credentials ({status}: {detail})",
                "set LLM_API_KEY to a key this server accepts, and check LLM_BASE_URL",
            )
        if 400 <= status < 500:
            return LLMUnavailable(
                f"the LLM server refused the request ({status}: {detail})",
                "check LLM_MODEL, LLM_BASE_URL and LLM_API_KEY match what the server expects",
            )
        return LLMUnavailable(
            f"the LLM server failed ({status}: {detail})",
            "check the LLM server's log; with Ollama, a failed model load often means too little memory",
        )
    if isinstance(exc, openai.APIError):  # an {"error": ...} event inside an otherwise good stream
        return LLMUnavailable(
            f"the LLM server reported an error mid-answer: {exc.message}", "check the LLM server's log"
        )
    return LLMUnavailable(f"unexpected error from the LLM client: {exc}", "check LLM_BASE_URL and the server's log")
