"""LLM access: preflight against Ollama, llama.cpp, vLLM or any OpenAI-compatible server, then streamed generation."""

from bot.core.llm.checks import truncation_warning
from bot.core.llm.client import LLMClient
from bot.core.llm.errors import ContextExceeded, LLMDropped
from bot.core.llm.models import ModelInfo, StreamResult

__all__ = ["ContextExceeded", "LLMClient", "LLMDropped", "ModelInfo", "StreamResult", "truncation_warning"]
