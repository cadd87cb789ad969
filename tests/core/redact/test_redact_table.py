"""One table: every secret form is replaced and leaves no trace; every look-alike survives unchanged."""

from __future__ import annotations

import pytest

from bot.core.redact import redact
from tests.core.redact.secret_cases import NEGATIVE, POSITIVE

_CASES = [pytest.param(c.text, c.secret, True, id=f"secret-{c.id}") for c in POSITIVE] + [
    pytest.param(text, None, False, id=f"lookalike-{name}") for name, text in NEGATIVE
]


def test_table_is_big_enough() -> None:
    assert len(POSITIVE) >= 70 and len(NEGATIVE) >= 35
    assert len({c.id for c in POSITIVE}) == len(POSITIVE) and len({n for n, _ in NEGATIVE}) == len(NEGATIVE)


@pytest.mark.parametrize(("text", "secret", "is_secret"), _CASES)
def test_redaction_table(text: str, secret: str | None, is_secret: bool) -> None:
    out, counts = redact(text)
    if not is_secret:
        assert (out, counts) == (text, {})
        return
    assert secret and secret not in out
    assert "[REDACTED:" in out
    # Each placeholder is counted once: the counts reported to users match what the model saw.
    assert sum(counts.values()) == out.count("[REDACTED:")
