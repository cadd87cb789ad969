"""`analyze --tickets`: after the run, one ticket per test of the plan through the configured backend. Each URL
is printed on stdout, each failure on stderr with its fix, and run.json's ``tickets`` records both."""

from __future__ import annotations

import sys

from bot.core.plan import TestSpec
from bot.core.run import RunFacts
from bot.errors import ConfigError
from bot.settings import Settings
from bot.tickets import TicketBackend, TicketContent, TicketError, idempotency_key, make_backend
from bot.tickets.claims import spec_identity
from bot.tickets.content import skeletons
from bot.tickets.model import TicketErrorKind


def backend_for_cli(settings: Settings) -> TicketBackend:
    """Checked before the model is asked, so a missing setting costs no analysis."""
    backend = make_backend(settings)
    if backend is None:
        raise ConfigError("--tickets needs a ticket backend, but TICKETS=none",
                          "set TICKETS=github (with GITHUB_REPO, GITHUB_TOKEN) or TICKETS=jira (with JIRA_URL, "
                          "JIRA_PROJECT, JIRA_EMAIL, JIRA_API_TOKEN)")
    return backend


async def file_tickets(backend: TicketBackend, info: RunFacts, tests: list[TestSpec]) -> None:
    """One ticket per test, recorded in ``info.tickets``. Raises TicketError naming how many failed."""
    run_id = (info.input_hash or "cli")[:12]
    failures: list[TicketError] = []
    files = skeletons(tests)
    try:
        for index, spec in enumerate(tests):
            # The same input analysed again yields the same keys, whatever order the model lists its tests in:
            # running --tickets twice makes no duplicates. A ticket made before keys were per test (by position) is
            # looked for under that key first.
            key = idempotency_key("cli", info.input_hash, spec_identity(spec.name, spec.type))
            try:
                ticket = (await backend.find(idempotency_key("cli", info.input_hash, index, spec.name))
                          or await backend.create(TicketContent(spec, run_id, skeleton=files[index]), key))
            except TicketError as exc:
                failures.append(exc)
                info.tickets.append({"test": spec.name, "error": str(exc)})
                print(f"[tickets] {spec.name}: not created: {exc}", file=sys.stderr, flush=True)
                if exc.kind in (TicketErrorKind.REFUSED, TicketErrorKind.NOT_FOUND):
                    break  # every other test would meet the same wall
                continue
            info.tickets.append({"test": spec.name, "url": ticket.url, "key": ticket.key})
            print(ticket.url, flush=True)
            print(f"[tickets] {ticket.key} {spec.name}", file=sys.stderr, flush=True)
    finally:
        await backend.aclose()
    if failures:
        last, missing = failures[-1], len(tests) - sum(1 for t in info.tickets if "url" in t)
        raise TicketError(last.kind, f"{missing} of {len(tests)} tickets were not created ({backend.name}: {last.message})",
                          last.fix)
