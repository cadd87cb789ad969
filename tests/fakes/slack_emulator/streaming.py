"""Web API methods for streamed messages: chat.startStream, chat.appendStream, chat.stopStream (what slack_sdk's
``chat_stream`` helper calls) and chat.delete, with their documented errors. Each session is a ``Stream`` in
``workspace.streams``; its state is kept there, not on the message, so it never shows in what clients read."""

from __future__ import annotations

from typing import Any

from .errors import SlackError
from .web_api import Args, json_arg, message_metadata, method, required, stored_blocks, validate_message
from .workspace import Channel, Stream, Workspace

MAX_MARKDOWN_TEXT = 12_000  # per markdown_text (and, here, per chunk text) in one call


def streamed_pieces(args: Args) -> list[str]:
    """The texts one call appends, in order: markdown_text, then each markdown_text chunk."""
    pieces = [str(args["markdown_text"])] if args.get("markdown_text") not in (None, "") else []
    chunks = json_arg(args, "chunks", "invalid_chunks")
    if chunks is None:
        chunks = []
    if not isinstance(chunks, list):
        raise SlackError("invalid_chunks")
    for chunk in chunks:
        if not isinstance(chunk, dict) or chunk.get("type") != "markdown_text" or not isinstance(chunk.get("text"), str):
            raise SlackError("invalid_chunks")
        pieces.append(chunk["text"])
    if any(len(p) > MAX_MARKDOWN_TEXT for p in pieces):
        raise SlackError("msg_too_long")
    return [p for p in pieces if p]


def _append(stream: Stream, msg: dict[str, Any], pieces: list[str]) -> None:
    stream.pieces += pieces
    msg["text"] = msg.get("text", "") + "".join(pieces)


def _streaming_message(ws: Workspace, args: Args) -> tuple[Channel, dict[str, Any], Stream]:
    ch = ws.member_channel(args.get("channel"))
    msg = ws.message(ch, required(args, "ts"))
    if msg.get("user") != ws.bot_user_id:
        raise SlackError("message_not_owned_by_app")
    stream = ws.open_stream(ch.id, msg["ts"])
    if stream is None:
        raise SlackError("message_not_in_streaming_state")
    return ch, msg, stream


@method("chat.startStream")
def chat_start_stream(ws: Workspace, args: Args) -> dict[str, Any]:
    ch = ws.member_channel(args.get("channel"))
    thread_ts = required(args, "thread_ts")
    if thread_ts not in ch.messages:
        raise SlackError("invalid_thread_ts")
    user_id, team_id = args.get("recipient_user_id") or None, args.get("recipient_team_id") or None
    if ch.id.startswith(("C", "G")):  # in a channel, the stream is shown to one recipient
        if user_id is None:
            raise SlackError("missing_recipient_user_id")
        if team_id is None:
            raise SlackError("missing_recipient_team_id")
    if team_id is not None and team_id != ws.team["id"]:
        raise SlackError("team_not_found")
    if user_id is not None:
        ws.user(str(user_id))  # user_not_found
    pieces = streamed_pieces(args)
    ts = ws.post(ch.id, ws.bot_user_id, "", thread_ts=thread_ts)
    stream = Stream(ch.id, ts, thread_ts, user_id, team_id)
    ws.streams.append(stream)
    _append(stream, ch.messages[ts], pieces)
    ws.thread_status.pop((ch.id, thread_ts), None)  # a reply clears the native status, as chat.postMessage does
    ws.changed()
    return {"ok": True, "channel": ch.id, "ts": ts}


@method("chat.appendStream")
def chat_append_stream(ws: Workspace, args: Args) -> dict[str, Any]:
    ch, msg, stream = _streaming_message(ws, args)
    pieces = streamed_pieces(args)
    if not pieces:
        raise SlackError("invalid_arguments", response_metadata={"messages": [
            "[ERROR] missing required field: markdown_text or chunks"]})
    _append(stream, msg, pieces)
    ws.changed()
    return {"ok": True, "channel": ch.id, "ts": msg["ts"]}


@method("chat.stopStream")
def chat_stop_stream(ws: Workspace, args: Args) -> dict[str, Any]:
    ch, msg, stream = _streaming_message(ws, args)
    pieces = streamed_pieces(args)
    blocks = None
    if args.get("blocks") not in (None, "", []):
        _, blocks, _ = validate_message({"text": "-", "blocks": args["blocks"]})  # the block rules only
    metadata = message_metadata(args)
    _append(stream, msg, pieces)
    if blocks:
        msg["blocks"] = stored_blocks(blocks)
    if metadata is not None:
        msg["metadata"] = metadata
    stream.ended = "stopped"
    ws.changed()
    return {"ok": True, "channel": ch.id, "ts": msg["ts"], "message": ws.render(ch, msg)}


@method("chat.delete")
def chat_delete(ws: Workspace, args: Args) -> dict[str, Any]:
    """A root with replies leaves Slack's tombstone behind, so the thread stays readable; anything else goes."""
    ch = ws.member_channel(args.get("channel"))
    msg = ws.message(ch, required(args, "ts"))
    if msg.get("user") != ws.bot_user_id:
        raise SlackError("cant_delete_message")
    ts = msg["ts"]
    ws.end_stream(ch.id, ts, "deleted")
    if ws.replies(ch, ts) and msg.get("thread_ts", ts) == ts:
        ch.messages[ts] = {"type": "message", "subtype": "tombstone", "text": "This message was deleted.",
                           "user": "USLACKBOT", "hidden": True, "ts": ts, "thread_ts": ts}
    else:
        del ch.messages[ts]
    ws.changed()
    return {"ok": True, "channel": ch.id, "ts": ts}
