"""LLM access: preflight against Ollama or any OpenAI-compatible server, then streaming generation."""

from bot.core.llm.client import LLMClient, StreamResult, truncation_warning
from bot.core.llm.ollama import ModelInfo

__all__ = ["LLMClient", "ModelInfo", "StreamResult", "truncation_warning"]
