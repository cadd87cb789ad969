"""The real-incident corpus: labels (bench/corpus/real/labels/<id>.toml), the sources manifest, the class list,
the texts (outside the repository, in $REAL_INCIDENTS_DIR) and the Slack-thread fixtures
(tests/fixtures/real_threads/<id>.json). Read by bench/bench_real_incidents.py and by the label test.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from tests.fakes.slack_emulator import SlackEmulator

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "bench" / "corpus" / "real"
LABELS = CORPUS / "labels"
SOURCES = CORPUS / "sources.toml"
CLASSES_MD = CORPUS / "CLASSES.md"
RULES = ROOT / "bot" / "core" / "digest" / "rules.toml"
THREADS = ROOT / "tests" / "fixtures" / "real_threads"
DEFAULT_TEXTS = Path("/work/corpus/texts")

NONE = "none"

# "HH:MM", "HH:MM:SS", "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]", each optionally followed by a zone word ("UTC").
_STAMP = re.compile(r"^(?:(?P<date>\d{4}-\d{2}-\d{2})(?: (?P<t1>\d{2}:\d{2}(?::\d{2})?))?|(?P<t2>\d{2}:\d{2}(?::\d{2})?))(?: (?P<zone>[A-Z]{2,4}))?$")
# Zones as the texts name them: a fixed offset (as written) and, where the writers most likely meant local time,
# the DST-aware zone. Either conversion counts as the same moment when looking for a time in a digest.
ZONES: dict[str, tuple[timedelta, str | None]] = {
    "UTC": (timedelta(0), None),
    "CET": (timedelta(hours=1), "Europe/Copenhagen"),
    "PST": (timedelta(hours=-8), "America/Los_Angeles"),
    "PT": (timedelta(hours=-8), "America/Los_Angeles"),
    "CST": (timedelta(hours=-6), "America/Chicago"),
}


class CorpusError(Exception):
    """A corpus file is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class LabelTime:
    at: str
    what: str

    @property
    def clock(self) -> str | None:
        """HH:MM of a stamp that has a time of day; None for a date alone."""
        m = _STAMP.match(self.at)
        t = m and (m.group("t1") or m.group("t2"))
        return t[:5] if t else None


@dataclass(frozen=True)
class ActionItem:
    what: str
    classes: tuple[str, ...]


@dataclass(frozen=True)
class Label:
    id: str
    classes: tuple[str, ...]
    primary: str
    timezone: str
    start: str
    resolved: str
    duration_minutes: int | None
    resolution_stated: bool
    times: tuple[LabelTime, ...]
    action_items: tuple[ActionItem, ...]

    @property
    def action_classes(self) -> set[str]:
        return {c for item in self.action_items for c in item.classes}


def known_classes() -> dict[str, str]:
    """Class id → where it is defined: rules.toml, or CLASSES.md for a class the labels use before the rules have it."""
    with RULES.open("rb") as fh:
        rules = tomllib.load(fh)
    out = {f["id"]: "rules.toml" for f in rules.get("failure", [])}
    for m in re.finditer(r"^- `([a-z0-9-]+)`: \S", CLASSES_MD.read_text(), flags=re.MULTILINE):
        out.setdefault(m.group(1), "CLASSES.md")
    return out


def label_problems(data: dict[str, Any], known: set[str]) -> list[str]:
    """Everything wrong with one parsed label file (empty when it is well formed)."""
    problems: list[str] = []
    classes = data.get("classes")
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        return ["classes must be a list of class ids"]
    problems += [f"unknown class {c!r} (add it to CLASSES.md with a definition)" for c in classes if c not in known]
    if len(set(classes)) != len(classes):
        problems.append("classes lists a class twice")
    primary = data.get("primary_class")
    if primary == NONE:
        if classes:
            problems.append('primary_class "none" means no class fits, so classes must be empty')
    elif primary not in classes:
        problems.append(f"primary_class {primary!r} is not one of classes")
    if data.get("timezone") not in ZONES:
        problems.append(f"timezone must be one of {sorted(ZONES)}")
    for key in ("start", "resolved"):
        value = data.get(key)
        if not isinstance(value, str) or (value and not _STAMP.match(value)):
            problems.append(f"{key} must be empty or a stamp like 2021-07-02 07:42")
    if not isinstance(data.get("resolution_stated"), bool):
        problems.append("resolution_stated must be true or false")
    elif data["resolution_stated"] and not data.get("resolved"):
        problems.append("resolution_stated is true but resolved is empty")
    duration = data.get("duration_minutes")
    if duration is not None and (not isinstance(duration, int) or duration <= 0 or not data.get("start") or not data.get("resolved")):
        problems.append("duration_minutes must be a positive integer, given only with both start and resolved")
    times = data.get("times")
    if not isinstance(times, list) or not times:
        problems.append("times must list at least one {at, what}")
    else:
        for i, t in enumerate(times):
            if not isinstance(t, dict) or not _STAMP.match(str(t.get("at", ""))) or not str(t.get("what", "")).strip():
                problems.append(f"times[{i}] needs at (a stamp like 2021-07-02 07:42 or 07:42) and a non-empty what")
    items = data.get("action_items")
    if not isinstance(items, list):
        problems.append("action_items must be a list (empty when the authors listed none)")
    else:
        for i, item in enumerate(items):
            cls = item.get("classes") if isinstance(item, dict) else None
            if not isinstance(item, dict) or not str(item.get("what", "")).strip() or not isinstance(cls, list):
                problems.append(f"action_items[{i}] needs what and classes (a list)")
            else:  # an empty list: the item addresses no failure class (a process or training item)
                problems += [f"action_items[{i}]: unknown class {c!r}" for c in cls if c not in known]
    return problems


def load_label(path: Path, known: set[str]) -> Label:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CorpusError(f"{path}: not valid TOML ({exc})") from None
    problems = label_problems(data, known)
    if problems:
        raise CorpusError(f"{path.name}: " + "; ".join(problems))
    return Label(
        id=path.stem, classes=tuple(data["classes"]), primary=data["primary_class"], timezone=data["timezone"],
        start=data["start"], resolved=data["resolved"], duration_minutes=data.get("duration_minutes"),
        resolution_stated=data["resolution_stated"],
        times=tuple(LabelTime(t["at"], t["what"]) for t in data["times"]),
        action_items=tuple(ActionItem(a["what"], tuple(a["classes"])) for a in data["action_items"]),
    )


def load_labels() -> list[Label]:
    known = set(known_classes())
    return [load_label(p, known) for p in sorted(LABELS.glob("*.toml"))]


def sources() -> dict[str, dict[str, str]]:
    """Incident id → {repo, path, commit, licence}."""
    with SOURCES.open("rb") as fh:
        return {row["id"]: row for row in tomllib.load(fh)["incident"]}


def texts_dir() -> Path:
    return Path(os.environ.get("REAL_INCIDENTS_DIR") or DEFAULT_TEXTS)


def text_path(incident_id: str) -> Path:
    """The incident's text; a missing one raises with the repository, path and commit to fetch it from."""
    path = texts_dir() / f"{incident_id}.md"
    if path.is_file():
        return path
    src = sources().get(incident_id)
    where = (f"git -C <clone of github.com/{src['repo']}> show {src['commit']}:'{src['path']}' > '{path}'" if src
             else f"add {incident_id} to {SOURCES.relative_to(ROOT)} first")
    raise CorpusError(f"missing text {path} (set REAL_INCIDENTS_DIR to the folder of the texts, or re-create it: {where})")


def clock_candidates(label: Label, t: LabelTime) -> set[str]:
    """The ways a digest may print the label time's clock: as written, and converted to UTC (fixed offset and,
    for a date, DST-aware). 24-hour HH:MM plus the 12-hour form ("1:31 PM")."""
    clock = t.clock
    if clock is None:
        return set()
    out = {clock}
    m = _STAMP.match(t.at)
    zone = (m.group("zone") if m else None) or label.timezone
    offset, tz_name = ZONES.get(zone, (timedelta(0), None))
    date = m.group("date") if m else None
    local = datetime.fromisoformat(f"{date or '2000-01-01'} {clock}")
    out.add((local - offset).strftime("%H:%M"))
    if tz_name and date:
        out.add(local.replace(tzinfo=ZoneInfo(tz_name)).astimezone(UTC).strftime("%H:%M"))
    for c in list(out):
        h, mnt = int(c[:2]), c[3:]
        out.add(f"{(h % 12) or 12}:{mnt} {'AM' if h < 12 else 'PM'}")
    return out


# ---- Slack-thread fixtures -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ThreadMessage:
    user: str
    ts: str
    text: str


@dataclass(frozen=True)
class ThreadFixture:
    id: str
    channel: str
    users: dict[str, dict[str, Any]]  # name → {"real_name": str, "bot": bool}
    messages: tuple[ThreadMessage, ...]  # the root first


def load_thread(path: Path) -> ThreadFixture:
    import json

    data = json.loads(path.read_text())
    messages = tuple(ThreadMessage(m["user"], m["ts"], m["text"]) for m in data["messages"])
    unknown = {m.user for m in messages} - set(data["users"])
    if unknown:
        raise CorpusError(f"{path.name}: messages by users not in users: {sorted(unknown)}")
    if [float(m.ts) for m in messages] != sorted(float(m.ts) for m in messages) or len({m.ts for m in messages}) != len(messages):
        raise CorpusError(f"{path.name}: message ts values must be unique and increasing")
    return ThreadFixture(path.stem, data["channel"], data["users"], messages)


def load_threads() -> list[ThreadFixture]:
    return [load_thread(p) for p in sorted(THREADS.glob("*.json"))]


def seed_thread(slack: SlackEmulator, thread: ThreadFixture) -> tuple[str, str, str]:
    """The fixture's users, a channel of its own (an explicit ts must be its channel's newest) and its messages at
    their real ts → (channel id, root ts, a human's user id to trigger with)."""
    ids = {name: slack.add_user(name, real_name=u.get("real_name"), is_bot=bool(u.get("bot"))) for name, u in thread.users.items()}
    channel = slack.add_channel(f"{thread.channel}-{len(slack.workspace.channels)}", members=ids.values())
    root = slack.post(channel, ids[thread.messages[0].user], thread.messages[0].text, ts=thread.messages[0].ts)
    for m in thread.messages[1:]:
        slack.post(channel, ids[m.user], m.text, thread_ts=root, ts=m.ts)
    human = next(ids[n] for n, u in thread.users.items() if not u.get("bot"))
    return channel, root, human
