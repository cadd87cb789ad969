"""LLM_BASE_URL taken apart: the URL to call, basic-auth credentials it carried, a safe form to show, a backend guess."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from yarl import URL

from bot.errors import ConfigError

# Default ports, so a hint can name the right server before any probe has answered.
_PORT_BACKENDS = {11434: "ollama", 8080: "llama.cpp", 8000: "vllm"}


@dataclass(frozen=True)
class Endpoint:
    base_url: str  # the /v1 URL without credentials
    root: str  # the server root: Ollama's native API, llama.cpp's /props and /tokenize live here
    shown: str  # for messages and logs: never the password
    # (user, password) from user:pass@ in LLM_BASE_URL, for a basic-auth proxy in front of the server; never shown.
    credentials: tuple[str, str] | None = field(default=None, repr=False)

    @property
    def guessed_backend(self) -> str:
        """The backend a default port suggests; "generic" when the port says nothing."""
        return _PORT_BACKENDS.get(URL(self.base_url).port or 0, "generic")

    def auth_header(self) -> dict[str, str]:
        """The basic Authorization header for both HTTP clients, or {} without credentials."""
        if self.credentials is None:
            return {}
        token = base64.b64encode(":".join(self.credentials).encode()).decode()
        return {"Authorization": f"Basic {token}"}


def server_root(base_url: str) -> str:
    """http://host:11434/v1/ → http://host:11434 (Ollama's native API lives beside /v1, not under it)."""
    root = base_url.rstrip("/")
    return root.removesuffix("/v1")


def parse_endpoint(base_url: str) -> Endpoint:
    """Split credentials out of LLM_BASE_URL; a URL that is not http(s) is a ConfigError naming the setting."""
    url = URL(base_url.strip())
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(
            "LLM_BASE_URL is not an http(s) URL",
            "set LLM_BASE_URL to the server's OpenAI-compatible URL, e.g. http://localhost:11434/v1",
        )
    credentials = (url.user or "", url.password or "") if url.user or url.password else None
    bare = str(url.with_user(None))
    shown = str(url.with_password(None)) if url.user else bare
    return Endpoint(base_url=bare, root=server_root(bare), shown=shown, credentials=credentials)
