"""Bounded retries of "busy" answers (429/503), honouring the server's Retry-After."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from bot.core.llm.errors import busy

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

# A server asking for a longer pause than this is treated as asking for this: a run waits, it does not hang.
MAX_RETRY_AFTER_S = 30.0


class RetryableStatus(Exception):
    """Raised by a transport for 429/503 before any text was passed on, so a retry never repeats text."""

    def __init__(self, status: int, retry_after_s: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after_s = retry_after_s


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


async def with_retries(
    attempt: Callable[[], Awaitable[T]], *, attempts: int, base_delay_s: float, sleep: Sleep, backend: str
) -> T:
    """Run ``attempt`` until it stops raising RetryableStatus, waiting Retry-After (bounded) or base·2ⁿ between."""
    for number in range(1, attempts + 1):
        try:
            return await attempt()
        except RetryableStatus as exc:
            if number == attempts:
                raise busy(number, exc.status, backend) from None
            delay = exc.retry_after_s if exc.retry_after_s is not None else base_delay_s * 2 ** (number - 1)
            await sleep(min(delay, MAX_RETRY_AFTER_S))
    raise AssertionError("unreachable: attempts >= 1")
