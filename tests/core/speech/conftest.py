from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.settings import Settings

# ~150 words of postmortem prose, for duration checks at ~150 words a minute.
SUMMARY = (
    "At nine forty the checkout service began returning errors for customers paying in euros. "
    "The deploy that went out ten minutes earlier changed the cache key for price lookups, and "
    "the new key ignored the currency, so euro baskets were priced from dollar entries. Our "
    "integration tests only exercised dollar baskets, and the canary checks compared status "
    "codes rather than totals, so nothing failed before real customers saw wrong prices. "
    "The on call engineer rolled back at ten twenty after support escalated three tickets. "
    "What would have caught this earlier? A contract test for the pricing cache that covers "
    "every supported currency, a canary assertion on basket totals, and a property based test "
    "that the cache key changes whenever any pricing input changes. We will add all three this "
    "sprint, and review other caches for keys that drop request fields."
)


@pytest.fixture
def make_settings() -> Callable[..., Settings]:
    """Settings independent of the host's environment and .env for the TTS fields."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"tts_engine": "auto", "tts_voice": "en-US-AndrewNeural",
                                  "tts_rate": "+0%", "tts_timeout_s": 5.0, "piper_voice": None}
        values.update(overrides)
        return Settings(**values)

    return make
