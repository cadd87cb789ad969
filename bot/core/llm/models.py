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
    server: str | None = None  # which server of a pool wrote it (shown URL); None for a single server


@dataclass(frozen=True)
class ServerState:
    """One server of a pool as doctor and a run's closing line show it."""

    url: str  # shown form: never the password
    ready: bool
    detail: str  # "ollama, 1/2 requests in flight", "for 41 s more: cannot reach …"
    fix: str | None = None  # for a server left out: what would bring it back

    def line(self, answered: str | None = None) -> str:
        wrote = ", wrote this answer" if answered == self.url else ""
        return f"{self.url}: {'ready' if self.ready else 'left out'} ({self.detail}{wrote})"
