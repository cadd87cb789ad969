"""HTTP answers turned into ExportErrors that say what to fix, shared by both wikis."""

from __future__ import annotations

from bot.export.model import ExportError
from bot.rest import HttpReply, HttpReplyLost


def reason(answer: HttpReply) -> str:
    """The server's own short explanation: Notion's ``message``, Confluence v2's ``errors[].title``/``detail``."""
    body = answer.body
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        parts = [str(e.get("title") or e.get("detail") or e.get("code")) for e in body["errors"] if isinstance(e, dict)]
        if parts:
            return "; ".join(parts)[:300]
    return answer.message()


def check(service: str, answer: HttpReply, *, refused_fix: str, missing: str, missing_fix: str) -> None:
    """Raise for anything but 2xx: 401/403 (credentials), 404 (``missing``), 429/5xx (try again), other 4xx."""
    if answer.status < 300:
        return
    if answer.status in (401, 403):
        raise ExportError(f"{service} refused the credentials (HTTP {answer.status}: {reason(answer)})", refused_fix)
    if answer.status == 404:
        raise ExportError(f"{service} says {missing} (HTTP 404)", missing_fix)
    if answer.status == 429 or answer.status >= 500:
        wait = answer.headers.get("Retry-After")
        when = f"in {wait} s" if wait and wait.isdigit() else "in a minute"
        raise ExportError(f"{service} answered HTTP {answer.status} ({reason(answer)})",
                          f"press Regenerate or run again {when}; the page was left as it was")
    raise ExportError(f"{service} refused the page (HTTP {answer.status}: {reason(answer)})",
                      "check the export settings in the README (Export); if they are right, report this as a bot bug")


def lost(service: str, what: HttpReplyLost) -> ExportError:
    return ExportError(f"{what.why} while exporting", f"try again in a minute; {service} is slow or unreachable")
