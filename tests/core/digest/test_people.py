"""Participants are people; alerting, deploy and CI tools are bots; a document's own notes are neither."""

from __future__ import annotations

import pytest

from bot.core.digest.people import is_bot, split_people
from bot.core.incident import NOTES_AUTHOR


@pytest.mark.parametrize("name", ["Deploybot", "Alertmanager", "PagerDuty", "Grafana", "github-actions[bot]", "argocd", "node-roller bot"])
def test_tools_are_bots(name: str) -> None:
    assert is_bot(name)


@pytest.mark.parametrize("name", ["Anna", "Ben Smith", "raj", "Chris O'Neil"])
def test_people_are_not(name: str) -> None:
    assert not is_bot(name)


def test_split_keeps_first_message_order_and_leaves_out_the_notes() -> None:
    counts = {"Deploybot": 1, "Anna": 2, NOTES_AUTHOR: 5, "Alertmanager": 2, "Ben": 1}
    assert split_people(counts) == ([("Anna", 2), ("Ben", 1)], [("Deploybot", 1), ("Alertmanager", 2)])
