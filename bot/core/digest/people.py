"""Who wrote in an incident: people, and the bots and tools that post alerts, deploys and builds."""

from __future__ import annotations

import re

from bot.core.incident import NOTES_AUTHOR

# Names that alerting, deploy and CI tools post under. A person called "Argo" is a rare cost; a bot counted
# as a responder misstates who handled the incident.
_BOT = re.compile(
    r"bot\b|^bot|\[bot\]|\balert|pagerduty|opsgenie|victorops|grafana|datadog|prometheus|sentry|jenkins|github|gitlab"
    r"|\bargo|circleci|buildkite|statuspage|status page|monitor|nagios|zabbix|new ?relic|splunk|cloudwatch|deploy|\bci\b"
    r"|incident\.io|firehydrant|rootly|jira|webhook|workflow|uptime|pingdom|\bsystem\b|automation",
    re.IGNORECASE,
)


def is_bot(name: str) -> bool:
    return bool(_BOT.search(name))


def split_people(counts: dict[str, int]) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(people, bots), each (name, messages) in order of first message; the notes of a document are neither."""
    people = [(n, c) for n, c in counts.items() if n != NOTES_AUTHOR and not is_bot(n)]
    bots = [(n, c) for n, c in counts.items() if n != NOTES_AUTHOR and is_bot(n)]
    return people, bots
