"""User-facing wording for the thread: the root line, the closing line, Slack errors in plain language."""

from __future__ import annotations

from datetime import datetime

from bot.core.incident.model import Incident
from bot.core.pipeline import PostmortemResult
from bot.core.redact import redact_text

SLACK_ERRORS = {
    "not_in_channel": "I am not in that channel. Invite me with `/invite @postmortem-bot`, then try again.",
    "channel_not_found": "I cannot see that channel. If it is private, invite me with `/invite @postmortem-bot`.",
    "thread_not_found": "That thread no longer exists (was the message deleted?).",
    "message_not_found": "That message no longer exists (was it deleted?).",
}
# Errors meaning the bot cannot read or post in the thread: these go to the user privately.
UNREACHABLE = frozenset(SLACK_ERRORS)
# Slack kept answering 429 to reads (collect.SlackRateLimited): waiting helps, an invite does not.
RATE_LIMITED = "Slack is rate-limiting reads; try again in a minute."
# `/postmortem <link>` to a message Slack does not know (deleted, or a mangled link).
LINK_NOT_FOUND = (
    "I cannot find that message: it no longer exists (was it deleted?) or the link is incomplete. "
    "Copy the link again with the message menu → Copy link."
)


def _fmt(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def root_line(incident: Incident, channel_name: str) -> str:
    span = ""
    if incident.first_ts and incident.last_ts:
        span = f", from {_fmt(incident.first_ts)} to {_fmt(incident.last_ts)}"
    return f":test_tube: Testing postmortem for #{channel_name}: {len(incident.messages)} messages{span}. Results follow in this thread."


def closing_line(result: PostmortemResult, upload_errors: list[str] | None = None, *, emoji: str = "test_tube") -> str:
    info, run = result.facts, result.run
    timings = ", ".join(f"{k} {v:.1f} s" for k, v in info.timings.items())
    missing = f" Missing sections: {', '.join(info.missing_sections)}." if info.missing_sections else ""
    redacted = f" Redacted {sum(info.redactions.values())} secrets/personal data before analysis." if info.redactions else ""
    # Readers of the thread must know the model did not see everything; the report file lists it all.
    more = " …" if len(info.omitted) > 3 else ""
    left_out = f" Left out to fit the model's context: {'; '.join(info.omitted[:3])}{more}." if info.omitted else ""
    unread = f" Could not read: {'; '.join(info.unread_files)}." if info.unread_files else ""
    scrubbed = (f" Removed {sum(info.output_redactions.values())} secret(s) the model wrote in its answer."
                if info.output_redactions else "")
    # Warnings and upload errors quote servers (a proxy may echo a key): redacted like everything else shown.
    problems = "".join(f"\n:warning: {p[:1].upper()}{p[1:]}." for p in map(redact_text, [*(upload_errors or []), *info.warnings]))
    # A pool's servers, each ready or left out (and why): a bench is visible where the run is read.
    problems += f"\nLLM servers: {redact_text('; '.join(info.llm_servers))}." if info.llm_servers else ""
    if run.mode == "degraded":
        return (
            f":warning: No model analysis this time: {run.cause}.\n"
            "The digest and its *rule-based* checklist above stand in for it"
            f"{', and the audio reads the digest' if info.tts_engine else ''}. Once the model is back, react with "
            f":{emoji}: again or run `/postmortem <link to this thread> again`: the full postmortem follows without a "
            f"second digest.{redacted}{unread}{problems}"
        )
    return (
        f":white_check_mark: Postmortem done: model `{info.model}`, prompt `{info.prompt_version}` ({timings})."
        f"{missing}{redacted}{scrubbed}{left_out}{unread}{problems}"
    )  # the AI disclaimer is the closing message's context block (bot/slack/blocks/closing.py)


def status_line(text: str) -> str:
    """The run's one status message in the thread, edited as the run moves."""
    return f":hourglass_flowing_sand: {text}"
