"""What a preflight learns about the server and model, and what one generation returns."""

from __future__ import annotations

from dataclasses import dataclass, field

Backend = str  # "ollama" | "llama.cpp" | "vllm" | "generic"


@dataclass
class ModelInfo:
    backend: Backend
    model: str
    context_tokens: int  # the prompt + answer budget the server will honour (on Ollama: the num_ctx ceiling)
    warnings: list[str] = field(default_factory=list)
    context_source: str = ""  # where context_tokens came from, e.g. "llama.cpp /props n_ctx"
    server_model: str | None = None  # the name the server lists for the model, when it lists one
    thinking: bool = False  # Ollama: the model can think, so `think` is sent
    loaded_context: int | None = None  # Ollama: num_ctx of the loaded model (/api/ps), reused when it fits


@dataclass
class StreamResult:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    truncated_warning: str | None  # also in ``warnings``
    finish_reason: str | None  # "length": the answer hit max_tokens and is cut short
    server_model: str | None = None  # the model name the server reported in the answer
    template_tokens: int = 0  # chat-template tokens (<|im_end|> …) stripped from the text
    warnings: list[str] = field(default_factory=list)
    context_tokens: int | None = None  # the context this request ran with (Ollama: the num_ctx sent)
