"""In-memory Slack workspace: team, users, channels, messages, reactions, files.

Messages are stored in Slack's own wire shape so Web API handlers can return
copies; thread bookkeeping (reply_count, latest_reply, ...) is derived on read,
like Slack does, instead of being kept in sync on every write.
"""

from __future__ import annotations

import copy
import itertools
import mimetypes
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import SlackError


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool
    members: list[str]
    created: int
    # insertion order == ts order: generated ts values increase, and an explicit ts must be the channel's newest
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Stream:
    """One chat.startStream session (see streaming.py). ``pieces``: every text appended, in arrival order (the
    start's own text first). ``ended``: None while open, else "stopped", "expired", "updated" or "deleted"."""
    channel: str
    ts: str
    thread_ts: str
    recipient_user_id: str | None
    recipient_team_id: str | None
    pieces: list[str] = field(default_factory=list)
    ended: str | None = None

    @property
    def open(self) -> bool:
        return self.ended is None

    @property
    def stopped(self) -> bool:
        return self.ended == "stopped"


class Workspace:
    def __init__(self, *, team_name: str, team_domain: str, bot_name: str,
                 on_change: Callable[[], None]) -> None:
        self.changed = on_change
        self._ids = itertools.count(1)
        self._last_us = 0
        self.base_url = ""  # set once the server is bound; used for file URLs
        self.page_cap: int | None = None  # emulate Slack's reduced page sizes for some apps
        self.team = {"id": self._id("T"), "name": team_name, "domain": team_domain}
        self.app_id = self._id("A")
        self.users: dict[str, dict[str, Any]] = {}
        self.bots: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, Channel] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.file_contents: dict[str, bytes] = {}
        self.pending_uploads: dict[str, dict[str, Any]] = {}  # upload key -> getUploadURLExternal args
        self.ephemerals: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self.uploaded_files: list[dict[str, Any]] = []
        self.thread_status: dict[tuple[str, str], str] = {}  # assistant.threads.setStatus, as it stands
        self.status_history: list[dict[str, Any]] = []  # every setStatus call that succeeded
        self.home_views: dict[str, dict[str, Any]] = {}  # views.publish: user id -> Home tab view
        self.downloads: list[dict[str, Any]] = []  # url_private fetches: file id and the fault served
        self.plan = "paid"  # "free": no standalone canvases (see canvases.py)
        # The bot token's scopes: None grants everything and sends no x-oauth-scopes header; a set is reported
        # in that header on every answer, as Slack does, and the canvas methods refuse without canvases:write.
        self.scopes: set[str] | None = None
        self.canvases: dict[str, dict[str, Any]] = {}
        self.streams: list[Stream] = []  # chat.startStream sessions, in start order
        self.bot_user_id = self.add_user(bot_name, is_bot=True, app_id=self.app_id)
        self.bot_id: str = self.users[self.bot_user_id]["profile"]["bot_id"]

    # ---- ids and timestamps -------------------------------------------------
    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def require_scope(self, scope: str) -> None:
        if self.scopes is not None and scope not in self.scopes:
            raise SlackError("missing_scope", needed=scope, provided=",".join(sorted(self.scopes)))

    def new_file_id(self) -> str:
        """Canvases are files to Slack: their ids start with F."""
        return self._id("F")

    def next_ts(self) -> str:
        """Wall-clock based, strictly increasing, Slack formatted ('1700000000.123456')."""
        self._last_us = max(int(time.time() * 1_000_000), self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    # ---- builders -----------------------------------------------------------
    def add_user(self, name: str, *, display_name: str | None = None, real_name: str | None = None,
                 is_bot: bool = False, app_id: str | None = None) -> str:
        uid = self._id("U")
        real = real_name or name.replace(".", " ").title()
        profile: dict[str, Any] = {
            "display_name": display_name if display_name is not None else name,
            "display_name_normalized": display_name if display_name is not None else name,
            "real_name": real, "real_name_normalized": real, "team": self.team["id"],
        }
        if is_bot:
            bot_id = self._id("B")
            profile["bot_id"] = bot_id
            self.bots[bot_id] = {"id": bot_id, "name": name, "user_id": uid,
                                 "app_id": app_id or self._id("A"), "deleted": False}
        self.users[uid] = {
            "id": uid, "team_id": self.team["id"], "name": name, "deleted": False,
            "real_name": real, "tz": "Etc/UTC", "profile": profile, "is_bot": is_bot,
            "is_app_user": False, "updated": int(time.time()),
        }
        self.changed()
        return uid

    def add_channel(self, name: str, *, private: bool = False, members: Iterable[str] = (),
                    bot_member: bool = True) -> str:
        cid = self._id("G" if private else "C")  # legacy prefix hints privacy, as on old workspaces
        ids = [self.user(m)["id"] for m in members]
        if bot_member:
            ids.append(self.bot_user_id)
        self.channels[cid] = Channel(cid, name, private, ids, int(time.time()))
        self.changed()
        return cid

    def add_file(self, name: str, content: bytes, mimetype: str | None = None,
                 *, user: str | None = None, title: str | None = None) -> dict[str, Any]:
        fid = self._id("F")
        mimetype = mimetype or mimetypes.guess_type(name)[0] or "application/octet-stream"
        filetype = name.rsplit(".", 1)[-1].lower() if "." in name else "binary"
        now = int(time.time())
        self.files[fid] = {
            "id": fid, "created": now, "timestamp": now, "name": name, "title": title or name,
            "mimetype": mimetype, "filetype": filetype, "pretty_type": filetype.upper(),
            "user": self.user(user)["id"] if user else self.bot_user_id, "user_team": self.team["id"],
            "editable": False, "size": len(content), "mode": "hosted", "is_external": False,
            "external_type": "", "is_public": False, "public_url_shared": False,
            "display_as_bot": False, "username": "", "channels": [], "groups": [], "ims": [],
            "shares": {}, "has_rich_preview": False, "file_access": "visible",
        }
        self.file_contents[fid] = content
        self.changed()
        return self.file_obj(fid)

    def post(self, channel: str, user_or_bot: str, text: str = "", *, thread_ts: str | None = None,
             files: Iterable[dict[str, Any] | str] = (), attachments: list[dict[str, Any]] | None = None,
             blocks: list[dict[str, Any]] | None = None, ts: str | None = None, **extra: Any) -> str:
        """Store a message as `user_or_bot` (user id/name, or a bot id for a legacy
        integration post with subtype bot_message) and return its ts. An explicit ``ts`` seeds a thread at the
        times it happened (e.g. in 2021); it must be newer than every message already in the channel."""
        ch = self.channel(channel)
        if ts is None:
            ts = self.next_ts()
        elif any(float(ts) <= float(old) for old in ch.messages):
            raise ValueError(f"ts {ts} is not newer than the messages already in {channel}: seed each channel in time order")
        msg: dict[str, Any] = {"type": "message", "text": text, "ts": ts, "team": self.team["id"]}
        msg.update(self._author(user_or_bot))
        if thread_ts:
            msg["thread_ts"] = thread_ts
            root = ch.messages.get(thread_ts)
            msg["parent_user_id"] = (root or {}).get("user", "")
        if blocks:
            msg["blocks"] = blocks
        if attachments:
            msg["attachments"] = attachments
        if files:
            msg["files"] = [f["id"] if isinstance(f, dict) else f for f in files]
            msg.update(upload=False, display_as_bot=False)
        msg.update(extra)
        ch.messages[ts] = msg
        self.changed()
        return ts

    def _author(self, user_or_bot: str) -> dict[str, Any]:
        bot = self.bots.get(user_or_bot)
        if bot is not None:  # legacy integration (alerting tools): no user field
            return {"subtype": "bot_message", "bot_id": bot["id"], "username": bot["name"]}
        user = self.user(user_or_bot)
        if not user["is_bot"]:
            return {"user": user["id"]}
        bot = self.bots[user["profile"]["bot_id"]]
        return {"user": user["id"], "bot_id": bot["id"], "app_id": bot["app_id"],
                "bot_profile": {"id": bot["id"], "name": bot["name"], "app_id": bot["app_id"],
                                "team_id": self.team["id"], "deleted": False}}

    # ---- lookups ------------------------------------------------------------
    def user(self, id_or_name: str) -> dict[str, Any]:
        if id_or_name in self.users:
            return self.users[id_or_name]
        for u in self.users.values():
            if u["name"] == id_or_name:
                return u
        raise SlackError("user_not_found")

    def channel(self, id_or_name: str) -> Channel:
        if id_or_name in self.channels:
            return self.channels[id_or_name]
        for ch in self.channels.values():
            if ch.name == id_or_name.lstrip("#"):
                return ch
        raise SlackError("channel_not_found")

    def direct_channel(self, user: str) -> Channel:
        """Posting to a user id opens (or reuses) the bot's DM with that user, as Slack does with chat:write."""
        uid = self.user(user)["id"]
        for ch in self.channels.values():
            if ch.id.startswith("D") and ch.members == [uid, self.bot_user_id]:
                return ch
        cid = self._id("D")
        self.channels[cid] = Channel(cid, f"dm-{uid}", True, [uid, self.bot_user_id], int(time.time()))
        return self.channels[cid]

    def dms(self, user: str) -> list[str]:
        """Texts the bot sent to ``user`` in direct messages."""
        uid = self.user(user)["id"]
        return [m.get("text", "") for ch in self.channels.values() if ch.id.startswith("D") and uid in ch.members
                for m in ch.messages.values()]

    def visible_channel(self, id_or_name: str | None) -> Channel:
        """A private channel the bot is not in does not exist for the bot."""
        ch = self.channel(id_or_name or "")
        if ch.is_private and self.bot_user_id not in ch.members:
            raise SlackError("channel_not_found")
        return ch

    def member_channel(self, id_or_name: str | None) -> Channel:
        """Reading/writing needs membership: public non-member -> not_in_channel."""
        ch = self.visible_channel(id_or_name)
        if self.bot_user_id not in ch.members:
            raise SlackError("not_in_channel")
        return ch

    def message(self, ch: Channel, ts: str | None, error: str = "message_not_found") -> dict[str, Any]:
        if not ts or ts not in ch.messages:
            raise SlackError(error)
        return ch.messages[ts]

    # ---- derived views ------------------------------------------------------
    def replies(self, ch: Channel, root_ts: str) -> list[dict[str, Any]]:
        return [m for m in ch.messages.values() if m.get("thread_ts") == root_ts and m["ts"] != root_ts]

    def render(self, ch: Channel, msg: dict[str, Any]) -> dict[str, Any]:
        """A copy in Slack's response shape, with derived thread fields and full file objects."""
        out = copy.deepcopy(msg)
        if "files" in out:
            out["files"] = [self.file_obj(fid) for fid in out["files"]]
        replies = self.replies(ch, msg["ts"]) if "thread_ts" not in msg or msg["thread_ts"] == msg["ts"] else []
        if replies:
            users = list(dict.fromkeys(r.get("user") or r.get("bot_id", "") for r in replies))
            out.update(thread_ts=msg["ts"], reply_count=len(replies), reply_users=users[:5],
                       reply_users_count=len(users), latest_reply=replies[-1]["ts"], is_locked=False,
                       subscribed=False)
        return out

    def thread_messages(self, ch: Channel, ts: str) -> list[dict[str, Any]]:
        """Root + replies as stored (not rendered) for the thread containing `ts` (a reply ts finds its root)."""
        msg = self.message(ch, ts, "thread_not_found")
        root = ch.messages.get(msg.get("thread_ts", ts), msg)
        return [root, *self.replies(ch, root["ts"])]

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """Root + replies in Slack's response shape for the thread containing `ts`."""
        ch = self.channel(channel)
        return [self.render(ch, m) for m in self.thread_messages(ch, ts)]

    def file_obj(self, fid: str) -> dict[str, Any]:
        f = copy.deepcopy(self.files[fid])
        path = f"{self.team['id']}-{fid}"
        f.update(url_private=f"{self.base_url}/files-pri/{path}/{f['name']}",
                 url_private_download=f"{self.base_url}/files-pri/{path}/download/{f['name']}",
                 permalink=f"https://{self.team['domain']}.slack.com/files/{f['user']}/{fid}/{f['name']}")
        return f

    def permalink(self, channel: str, ts: str, thread_ts: str | None = None) -> str:
        ch = self.channel(channel)
        link = f"https://{self.team['domain']}.slack.com/archives/{ch.id}/p{ts.replace('.', '')}"
        if thread_ts is None:
            thread_ts = ch.messages.get(ts, {}).get("thread_ts")
        if thread_ts and thread_ts != ts:
            link += f"?thread_ts={thread_ts}&cid={ch.id}"
        return link

    def reactions_on(self, channel: str, ts: str) -> set[str]:
        msg = self.message(self.channel(channel), ts)
        return {r["name"] for r in msg.get("reactions", [])}

    # ---- mutations shared by Web API and Socket Mode triggers ----------------
    def react(self, ch: Channel, ts: str, name: str, user: str) -> None:
        reactions = self.message(ch, ts).setdefault("reactions", [])
        entry = next((r for r in reactions if r["name"] == name), None)
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        if user in entry["users"]:
            raise SlackError("already_reacted")
        entry["users"].append(user)
        entry["count"] = len(entry["users"])
        self.changed()

    def unreact(self, ch: Channel, ts: str, name: str, user: str) -> None:
        msg = self.message(ch, ts)
        reactions = msg.get("reactions", [])
        entry = next((r for r in reactions if r["name"] == name and user in r["users"]), None)
        if entry is None:
            raise SlackError("no_reaction")
        entry["users"].remove(user)
        entry["count"] = len(entry["users"])
        msg["reactions"] = [r for r in reactions if r["count"]]
        self.changed()

    def open_stream(self, channel: str, ts: str) -> Stream | None:
        return next((s for s in self.streams if s.channel == channel and s.ts == ts and s.open), None)

    def end_stream(self, channel: str, ts: str, how: str) -> None:
        """Close the message's stream, if one is open (chat.stopStream, chat.update, chat.delete)."""
        stream = self.open_stream(channel, ts)
        if stream is not None:
            stream.ended = how

    def expire_streams(self) -> int:
        """End every open stream as Slack does on its own after a few minutes; returns how many were open."""
        open_ = [s for s in self.streams if s.open]
        for s in open_:
            s.ended = "expired"
        self.changed()
        return len(open_)

    def record(self, bucket: list[dict[str, Any]], item: dict[str, Any]) -> None:
        bucket.append(item)
        self.changed()
