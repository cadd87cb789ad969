"""`python -m bot history|similar|import|forget`: the team's memory of postmortems, from the command line.

The CLI sees public incidents (and imported files) when it recalls, like a run in any channel; `history` is the
operator's view of what is stored, private channels' incidents included and marked, so they can be forgotten."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.core.digest import build_digest
from bot.core.incident.load import load_incident
from bot.core.incident.model import cleaned
from bot.core.memory import Match, PastIncident, signals_of
from bot.core.memory.render import ticket_text
from bot.core.redact import redact_text
from bot.errors import ConfigError, InputError
from bot.memory.imports import read_folder
from bot.memory.index import Scope
from bot.memory.open import open_memory
from bot.memory.recall import Memory
from bot.runs import open_store
from bot.settings import Settings, load_settings
from bot.slack.inbound.permalink import PermalinkError, parse_permalink
from bot.slack.memory import thread_source
from bot.tickets import make_backend


async def _memory(settings: Settings) -> Memory:
    try:
        backend = make_backend(settings)
    except ConfigError:  # live ticket states are a bonus here; `doctor` names the missing ticket setting
        backend = None
    return open_memory(settings, await open_store(settings), backend)


def _line(past: PastIncident, private: bool = False) -> str:
    mark = " (private channel)" if private else ""
    return f"{past.when.strftime('%Y-%m-%d')}  {past.title}{mark}\n    {past.where}"


async def history(words: list[str]) -> int:
    memory = await _memory(load_settings())
    try:
        found = await memory.index.search(words, None)
        if not found:
            print("nothing remembered matches" + (f" {' '.join(words)!r}" if words else " yet (run a postmortem, or `import DIR`)"))
        for past, private in found:
            print(_line(past, private))
            print(f"    primary cause: {past.primary_cause or 'not recorded'}")
    finally:
        await memory.index.store.close()
    return 0


def _match(n: int, match: Match) -> list[str]:
    past = match.past
    shared = ", ".join(f"{kind} {value}" for kind, value in match.shared) or "similar wording"
    lines = [f"{n}. {past.title}  (score {match.score:g})", f"    {past.where}  ({past.day})", f"    shared: {shared}",
             f"    primary cause then: {past.primary_cause or 'not recorded'}"]
    lines += [f"    test then: {t.name}: {ticket_text(t)}" for t in past.tests]
    return lines


async def similar(input_path: str) -> int:
    settings = load_settings()
    incident = cleaned(load_incident(input_path))
    signals = signals_of(build_digest(incident), redact_text(incident.title))
    memory = await _memory(settings)
    exclude = f"file:{Path(input_path).resolve()}" if input_path != "-" else None
    try:
        seen = await _seen(memory, signals, Scope(None, exclude=exclude))
    finally:
        await memory.index.store.close()
    if not seen:
        print("nothing similar remembered (a shared failure class, or an alert or log line with a service, is needed)")
        return 0
    for n, match in enumerate(seen, start=1):
        print("\n".join(_match(n, match)))
    return 0


async def _seen(memory: Memory, signals: object, scope: Scope) -> list[Match]:
    from bot.core.memory import Signals

    assert isinstance(signals, Signals)
    try:
        return (await memory.seen_before(signals, scope)).matches
    finally:
        if memory.tickets.backend is not None:
            await memory.tickets.backend.aclose()


async def import_folder(folder: str) -> int:
    path = Path(folder)
    if not path.is_dir():
        raise InputError(f"{folder} is not a folder", "pass the folder that holds your postmortems (markdown, text or Slack export JSON)")
    memory = await _memory(load_settings())
    imported = refused = 0
    try:
        for result, entry in read_folder(path):
            if entry is None:
                refused += 1
                print(f"skipped {result.path}: {result.error}", file=sys.stderr)
                continue
            await memory.index.remember(entry)
            imported += 1
            print(f"imported {result.path}: {result.title}")
    finally:
        await memory.index.store.close()
    if not imported and not refused:
        raise InputError(f"{folder} holds no postmortem files", "put .md, .txt, .log or Slack export .json files in it")
    print(f"{imported} imported, {refused} skipped", file=sys.stderr)
    return 0 if imported else 2


async def forget(target: str) -> int:
    """A thread link forgets that thread's postmortem; a file path forgets what was imported from it."""
    memory = await _memory(load_settings())
    try:
        if Path(target).exists():
            forgotten = await memory.index.forget_source(f"file:{Path(target).resolve()}")
        else:
            try:
                ref = parse_permalink(target, None)
            except PermalinkError as exc:
                raise InputError(f"{target!r} is neither a Slack thread link nor an imported file ({exc})",
                                 "pass the thread's link (message menu → Copy link) or the path you imported") from None
            thread = ref.thread_ts or ref.ts
            forgotten = await memory.index.forget_source(thread_source(ref.channel, thread))
    finally:
        await memory.index.store.close()
    if not forgotten:
        raise InputError(f"nothing is remembered for {target}", "`python -m bot history` lists what is remembered and where")
    print(f"forgot {forgotten} postmortem{'s' if forgotten > 1 else ''} of {target}")
    return 0
