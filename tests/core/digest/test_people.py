"""Participants are people; alerting, deploy and CI tools are bots; a document's own notes are neither."""

from __future__ import annotations

import pytest

from bot.core.digest.people import is_bot, split_people
from bot.core.incident.model import NOTES_AUTHOR
from bot.core.incident.slack_json import message_from_slack


@pytest.mark.parametrize("name", ["Deploybot", "Alertmanager", "PagerDuty", "Grafana", "github-actions[bot]", "argocd", "node-roller bot"])
def test_tools_are_bots(name: str) -> None:
    assert is_bot(name)


@pytest.mark.parametrize("name", ["Anna", "Ben Smith", "raj", "Chris O'Neil"])
def test_people_are_not(name: str) -> None:
    assert not is_bot(name)


def test_split_keeps_first_message_order_and_leaves_out_the_notes() -> None:
    counts = {"Deploybot": 1, "Anna": 2, NOTES_AUTHOR: 5, "Alertmanager": 2, "Ben": 1}
    assert split_people(counts) == ([("Anna", 2), ("Ben", 1)], [("Deploybot", 1), ("Alertmanager", 2)])


@pytest.mark.parametrize("name", ["jane-github", "Talbot", "Abbot Ray", "[redacted] github fan", "Monitor Lizard Fan Club Jo",
                                  "Alerta Ruiz", "Systema Kim"])
def test_a_person_whose_name_contains_a_tools_name_is_a_person(name: str) -> None:
    assert not is_bot(name)


def test_the_sources_own_flag_makes_a_bot_whatever_its_name() -> None:
    counts = {"Kim's helper": 3, "Anna": 1}
    assert split_people(counts, frozenset({"Kim's helper"})) == ([("Anna", 1)], [("Kim's helper", 3)])


def test_slack_marks_bot_and_integration_posts() -> None:
    assert message_from_slack({"type": "message", "bot_id": "B1", "username": "Kim's helper", "text": "x"}).bot
    assert message_from_slack({"type": "message", "subtype": "bot_message", "username": "hook", "text": "x"}).bot
    assert not message_from_slack({"type": "message", "user": "U1", "text": "x"}).bot
