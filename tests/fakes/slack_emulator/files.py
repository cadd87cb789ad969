"""files_upload_v2's three-step flow, files.info, and url_private downloads.

1. files.getUploadURLExternal(filename, length) -> upload_url on this server + file_id
2. POST raw bytes (or multipart "file") to upload_url; no token, the URL is the credential
3. files.completeUploadExternal(files=[{id,title}], channel_id, thread_ts, initial_comment)
   shares the file as a message (a thread reply when thread_ts is given).
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any, Literal

from aiohttp import web

from .errors import SlackError
from .web_api import Args, json_arg, method, required
from .workspace import Workspace

# Slack serves a sign-in HTML page (status 200) when url_private is fetched without a
# valid token; emulating that catches bots that save the HTML as the "file".
LOGIN_PAGE = "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"

# What a url_private download can do instead of serving the file: an HTTP status, the sign-in page
# (what Slack serves when the token lacks files:read), or hang without an answer.
DownloadFault = int | Literal["sign_in", "stall"]


@method("files.getUploadURLExternal")
def get_upload_url(ws: Workspace, args: Args) -> dict[str, Any]:
    filename = required(args, "filename")
    int(required(args, "length"))  # required by Slack; the declared size is not enforced here
    key = secrets.token_urlsafe(12)
    file_id = ws.add_file(filename, b"")["id"]
    ws.pending_uploads[key] = {"file_id": file_id, "content": None}
    return {"ok": True, "upload_url": f"{ws.base_url}/upload/v1/{key}", "file_id": file_id}


@method("files.completeUploadExternal")
def complete_upload(ws: Workspace, args: Args) -> dict[str, Any]:
    wanted = json_arg(args, "files", "invalid_arguments")
    if not wanted or not isinstance(wanted, list):
        raise SlackError("invalid_arguments")
    by_file = {u["file_id"]: (k, u) for k, u in ws.pending_uploads.items()}
    uploads = []
    for item in wanted:
        found = by_file.get(item.get("id"))
        if found is None or found[1]["content"] is None:
            raise SlackError("file_not_found")
        uploads.append((*found, item.get("title")))
    channel_ids = [c for c in [args.get("channel_id"), *str(args.get("channels") or "").split(",")] if c]
    channels = [ws.member_channel(c) for c in channel_ids]  # validate all before any side effect
    thread_ts = args.get("thread_ts") or None
    for key, upload, title in uploads:
        fid = upload["file_id"]
        ws.file_contents[fid] = upload["content"]
        ws.files[fid].update(size=len(upload["content"]), title=title or ws.files[fid]["name"])
        del ws.pending_uploads[key]
    file_ids = [u["file_id"] for _, u, _ in uploads]
    # Slack shares asynchronously: the response's file objects have empty `shares`
    # even though the message shows up; files.info later reports the share.
    response_files = [ws.file_obj(fid) for fid in file_ids]
    for ch in channels:
        ts = ws.post(ch.id, ws.bot_user_id, str(args.get("initial_comment") or ""),
                     thread_ts=thread_ts, files=file_ids, upload=True)
        for fid in file_ids:
            f = ws.files[fid]
            f["channels" if not ch.is_private else "groups"].append(ch.id)
            share = {"ts": ts, "channel_name": ch.name, "team_id": ws.team["id"],
                     "share_user_id": ws.bot_user_id, "source": "UNKNOWN"}
            if thread_ts:
                share["thread_ts"] = thread_ts
            f["shares"].setdefault("private" if ch.is_private else "public", {}) \
                .setdefault(ch.id, []).append(share)
            ws.record(ws.uploaded_files, {
                "id": fid, "name": f["name"], "title": f["title"], "mimetype": f["mimetype"],
                "filetype": f["filetype"], "content": ws.file_contents[fid], "channel": ch.id,
                "thread_ts": thread_ts, "message_ts": ts, "initial_comment": args.get("initial_comment")})
    return {"ok": True, "files": response_files}


@method("files.info")
def files_info(ws: Workspace, args: Args) -> dict[str, Any]:
    fid = required(args, "file")
    if fid not in ws.files:
        raise SlackError("file_not_found")
    return {"ok": True, "file": ws.file_obj(fid), "comments": [],
            "response_metadata": {"next_cursor": ""}}


def add_file_routes(app: web.Application, ws: Workspace, bot_token: str,
                    download_faults: dict[str, DownloadFault], closing: asyncio.Event) -> None:
    async def upload(request: web.Request) -> web.Response:
        upload = ws.pending_uploads.get(request.match_info["key"])
        if upload is None:
            return web.Response(status=404, text="upload URL not found")
        if request.content_type == "multipart/form-data":
            field = (await request.post()).get("file")
            content = field.file.read() if isinstance(field, web.FileField) else str(field or "").encode()
        else:
            content = await request.read()
        upload["content"] = content
        ws.changed()
        # slack_sdk reads text/plain upload answers as text and only checks the status
        return web.Response(text=f"OK - {len(content)}", content_type="text/plain")

    async def download(request: web.Request) -> web.Response:
        fid = request.match_info["path"].split("-", 1)[-1]
        fault = download_faults.get(fid)
        ws.record(ws.downloads, {"file": fid, "fault": fault})
        if fault == "stall":
            await closing.wait()  # answers nothing until the emulator shuts down
            return web.Response(status=503)
        if request.headers.get("Authorization") != f"Bearer {bot_token}" or fault == "sign_in":
            return web.Response(text=LOGIN_PAGE, content_type="text/html")
        if isinstance(fault, int):
            return web.Response(status=fault, text=f"error {fault}")
        if fid not in ws.files:
            return web.Response(status=404, text="file not found")
        return web.Response(body=ws.file_contents[fid], content_type=ws.files[fid]["mimetype"])

    app.router.add_post("/upload/v1/{key}", upload)
    app.router.add_get("/files-pri/{path}/{name}", download)
    app.router.add_get("/files-pri/{path}/download/{name}", download)
