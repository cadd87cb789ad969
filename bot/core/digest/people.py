"""Who wrote in an incident: people, and the bots and tools that post alerts, deploys and builds."""

from __future__ import annotations

import re

from bot.core.incident.model import NOTES_AUTHOR

# What alerting, deploy and CI tools are called, word by word ("Alertmanager", "Grafana Alerts", "Deploybot",
# "github-actions"). A name is a tool's only when every word of it is one of these: a person whose name merely
# contains one ("Talbot", a redacted "jane-github") stays a person. Slack's own flag (Message.bot) comes first.
_TOOL_WORDS = frozenset((
    "alert", "alerts", "alerting", "alertmanager", "pagerduty", "opsgenie", "victorops", "grafana", "datadog",
    "prometheus", "sentry", "jenkins", "github", "gitlab", "argo", "argocd", "circleci", "buildkite", "statuspage",
    "nagios", "zabbix", "newrelic", "new", "relic", "splunk", "cloudwatch", "incident.io", "incidentio",
    "firehydrant", "rootly", "jira", "pingdom", "uptime", "uptimerobot", "deploy", "deployer", "deploys", "build",
    "builds", "ci", "cd", "monitor", "monitoring", "webhook", "webhooks", "workflow", "workflows", "system",
    "automation", "slack", "status", "page", "actions", "app", "apps", "notifications", "notifier", "integration",
    "manager", "cloud", "bot", "bots", "pipeline", "pipelines", "scheduler", "cron",
))


def is_bot(name: str) -> bool:
    """A tool's name: ``…[bot]`` (GitHub apps), ``… bot`` as a word of its own, or only tool words."""
    low = name.strip().lower()
    words = re.findall(r"[a-z0-9.]+", low.replace("[bot]", " bot "))
    if not words:
        return False
    if low.endswith("[bot]") or words[-1] in ("bot", "bots"):
        return True
    parts = [p for w in words for p in ((w[:-3], "bot") if w.endswith("bot") and len(w) > 3 else (w,))]
    return all(p in _TOOL_WORDS for p in parts)


def split_people(counts: dict[str, int], flagged: frozenset[str] = frozenset()) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(people, bots), each (name, messages) in order of first message; the notes of a document are neither.
    ``flagged``: the names the source marked as bots (Slack's bot_id)."""
    people = [(n, c) for n, c in counts.items() if n != NOTES_AUTHOR and not (n in flagged or is_bot(n))]
    bots = [(n, c) for n, c in counts.items() if n != NOTES_AUTHOR and (n in flagged or is_bot(n))]
    return people, bots
