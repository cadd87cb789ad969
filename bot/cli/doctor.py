"""`python -m bot doctor`: one line per check, with the fix on failure."""

from __future__ import annotations

import contextlib

from slack_sdk.errors import SlackApiError

from bot.core.llm import LLMClient
from bot.core.llm.models import ModelInfo
from bot.core.llm.pool import LLMPool, server_urls
from bot.core.speech.narrator import Narrator
from bot.errors import PostmortemError
from bot.runs import StoreError, open_store
from bot.settings import Settings, load_settings
from bot.slack.errors import slack_error

# Scopes the code needs; tests/slack/test_manifest.py keeps this, manifest.yaml and the code in step.
REQUIRED_SCOPES = {
    "app_mentions:read", "canvases:write", "channels:history", "channels:read", "chat:write", "commands", "files:read",
    "files:write", "groups:history", "groups:read", "reactions:read", "reactions:write", "users:read",
}


def line(ok: bool, name: str, detail: str) -> bool:
    print(f"[{'ok' if ok else 'FAIL'}] {name}: {detail}")
    return ok


async def check_slack(settings: Settings) -> bool:
    from bot.slack.client import app_token, make_web_client

    try:
        app_token(settings)
        client = make_web_client(settings)
        auth = await client.auth_test()
    except PostmortemError as exc:
        return line(False, "slack", str(exc))
    except SlackApiError as exc:
        return line(False, "slack", f"auth.test failed ({slack_error(exc)}) — fix: check SLACK_BOT_TOKEN")
    except Exception as exc:  # deliberately broad: unreachable API host, bad SLACK_API_URL
        return line(False, "slack", f"cannot reach Slack ({type(exc).__name__}) — fix: check the network or SLACK_API_URL")
    ok = line(True, "slack auth", f"{auth.get('user')} in {auth.get('team')}")
    granted = {s.strip() for s in str(auth.headers.get("x-oauth-scopes", "")).split(",") if s.strip()}
    if not granted:
        return ok & line(True, "slack scopes", "not reported by the server (x-oauth-scopes header absent)")
    missing = REQUIRED_SCOPES - granted
    detail = "all granted" if not missing else f"missing {', '.join(sorted(missing))} — fix: reinstall the app from manifest.yaml"
    return ok & line(not missing, "slack scopes", detail)


async def check_llm(settings: Settings) -> bool:
    """One server, or each server of LLM_BASE_URL's list on its own lines (llm 1/3, context 1/3, …), probed by the
    pool a run uses: a server it would leave out is shown left out, with why and the fix."""
    urls = server_urls(settings)
    if len(urls) == 1:
        return await _check_server(settings)
    pool = LLMPool(settings)
    try:
        with contextlib.suppress(PostmortemError):  # each server's line below says why it cannot serve
            await pool.preflight()
        ok = True
        for n, (server, state) in enumerate(zip(pool.servers, pool.server_states(), strict=True), 1):
            label = f" {n}/{len(urls)}"
            if state.ready and server.info is not None:
                ok &= _server_lines(settings, server.info, server.url, label)
            else:
                fault = server.fault.message if server.fault is not None else state.detail
                fix = f" — fix: {state.fix}" if state.fix else ""
                ok &= line(False, f"llm{label}", f"{state.url}: left out of the pool: {fault}{fix}")
        return ok
    finally:
        await pool.aclose()


async def _check_server(settings: Settings) -> bool:
    llm = LLMClient(settings)
    try:
        info = await llm.preflight()
    except PostmortemError as exc:
        return line(False, "llm", str(exc))
    finally:
        await llm.aclose()
    return _server_lines(settings, info, llm.shown_url, "")


def _server_lines(settings: Settings, info: ModelInfo, url: str, label: str) -> bool:
    served = f" (the server calls it {info.server_model})" if info.server_model and info.server_model != info.model else ""
    ok = line(True, f"llm{label}", f"{info.backend} at {url}, model {info.model} available{served}")
    ok &= line(
        True,
        f"context{label}",
        f"{info.context_tokens} tokens, from {info.context_source} "
        f"(LLM_MAX_TOKENS={settings.llm_max_tokens} of them for the answer)",
    )
    for warning in info.warnings:
        line(True, "context note", warning)
    return ok


def check_tts(settings: Settings) -> bool:
    statuses = Narrator(settings).engines()
    if settings.tts_engine == "none":
        return line(True, "tts", "off (TTS_ENGINE=none)")
    ok = False
    for st in statuses:
        if st.selected:
            line(st.available, f"tts {st.name}", st.detail)
            ok |= st.available
    return ok


async def check_tickets(settings: Settings) -> bool:
    """The ticket backend's settings, and one dedup search: the same call a click makes first, so a refused
    token or a wrong repository shows here rather than on someone's click."""
    from bot.tickets import TicketError, make_backend

    try:
        backend = make_backend(settings)
    except PostmortemError as exc:
        return line(False, "tickets", str(exc))
    if backend is None:
        return line(True, "tickets", "off (TICKETS=none): the checklist has no Create ticket buttons")
    where = settings.github_repo if settings.tickets == "github" else f"{settings.jira_project} at {settings.jira_url}"
    try:
        await backend.find("pmb-doctor-probe")
    except TicketError as exc:
        return line(False, "tickets", str(exc))
    finally:
        await backend.aclose()
    return line(True, "tickets", f"{backend.name} {where}: the token is accepted")


async def check_export(settings: Settings) -> bool:
    """The wiki's settings, and the lookups an export makes first (space or database, the key search)."""
    from bot.export import ExportError, make_exporter

    try:
        exporter = make_exporter(settings)
    except PostmortemError as exc:
        return line(False, "export", str(exc))
    if exporter is None:
        return line(True, "export", "off (EXPORT=none): the report stays in Slack (canvas and file)")
    try:
        where = await exporter.probe()
    except ExportError as exc:
        return line(False, "export", str(exc))
    finally:
        await exporter.aclose()
    return line(True, "export", f"{exporter.name} {where}: the token is accepted")


async def check_store(settings: Settings) -> bool:
    """The shared PostgreSQL store is opened (and migrated) as a replica would; SQLite is only named, not created."""
    if settings.database_url is None:
        return line(True, "run store", f"SQLite at {settings.data_dir / 'runs.db'} (one replica; set DATABASE_URL to share it)")
    try:
        store = await open_store(settings)
    except StoreError as exc:
        return line(False, "run store", str(exc))
    try:
        version = await store.schema_version()
    except StoreError as exc:
        return line(False, "run store", str(exc))
    finally:
        await store.close()
    return line(True, "run store", f"PostgreSQL at {store.where} (schema version {version}), shared by every replica that uses it")


async def doctor() -> int:
    settings = load_settings()
    results = [await check_slack(settings), await check_llm(settings), check_tts(settings), await check_store(settings),
               await check_tickets(settings), await check_export(settings)]
    return 0 if all(results) else 1
