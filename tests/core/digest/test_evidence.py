"""The checklist: only classes with strong evidence, best-supported first, with a plain word when none has any."""

from __future__ import annotations

from bot.core.digest import build_digest, render_markdown
from bot.core.digest.evidence import SECTION_WEIGHT
from bot.core.digest.render import NO_CLASS, NO_STRONG_CLASS, render_context
from bot.core.incident.model import Incident, Message, Section


def _doc(*parts: tuple[Section | None, str]) -> Incident:
    return Incident([Message("incident-notes", text, section=section) for section, text in parts])


def _ids(incident: Incident) -> list[str]:
    return [f.id for f in build_digest(incident).failures]


def test_a_root_cause_statement_outranks_more_mentions_elsewhere() -> None:
    incident = _doc(
        ("timeline", "09:02 the connection pool was exhausted on checkout-api"),
        ("timeline", "09:05 still out of connections: too many clients on db-primary"),
        ("root_cause", "The certificate for the payments gateway had expired; every handshake failed."),
    )
    assert _ids(incident) == ["certificate-expiry", "connection-pool-exhaustion"]
    first = build_digest(incident).failures[0]
    assert first.section == "root_cause" and "certificate" in first.evidence


def test_more_and_causal_statements_rank_higher_in_a_chat() -> None:
    thread = Incident([
        Message("ana", "deadlock detected on orders again"),
        Message("raj", "the disk on db-2 filled up"),
        Message("kim", "and again the disk is full on db-2"),
        Message("ana", "that deadlock was caused by the disk being full, the writes stalled"),
    ])
    assert _ids(thread) == ["disk-full", "lock-contention"]


def test_action_items_and_lessons_are_not_evidence_that_a_failure_happened() -> None:
    incident = _doc(
        ("summary", "Checkout returned errors for 20 minutes after the release."),
        ("action_items", "- Alert when the disk is full and when the certificate expired"),
        ("lessons", "- A retry storm would have made this worse"),
    )
    digest = build_digest(incident)
    assert SECTION_WEIGHT["action_items"] == SECTION_WEIGHT["lessons"] == 0
    assert digest.failures == []
    markdown = render_markdown(digest)
    assert NO_STRONG_CLASS in markdown and "Disk full" in markdown.split(NO_STRONG_CLASS)[1]


def test_symptoms_alone_never_make_a_checklist() -> None:
    thread = Incident([Message("ana", f"requests timed out again ({i})") for i in range(8)])
    digest = build_digest(thread)
    assert digest.failures == [] and [f.id for f in digest.mentioned] == ["timeout-chain"]
    assert NO_STRONG_CLASS in render_markdown(digest)
    assert "candidate failure class" not in render_context(digest)  # the model is not handed a guess


def test_an_empty_checklist_only_where_no_class_is_named() -> None:
    digest = build_digest(Incident([Message("ana", "checkout is slow, looking")]))
    assert digest.failures == digest.mentioned == []
    assert NO_CLASS in render_markdown(digest)


def test_an_aside_in_a_long_report_stays_out() -> None:
    incident = _doc(
        ("root_cause", "Root cause: a bug in the settlement code failed to check against negative values."),
        ("contributing", "- The release contained a bug in the offer validation logic."),
        ("timeline", "10:02 a pod was OOMKilled on an unrelated node"),
    )
    assert _ids(incident) == ["logic-bug"]


def test_a_refuted_class_stays_out_whatever_named_it() -> None:
    incident = _doc(
        ("summary", "Suspected compromise: an account takeover alert fired for an employee's Okta account."),
        ("timeline", "11:02 the bank reported malicious logins from a new IP"),
        ("root_cause", "The integration's IP changed; security closed the case as a false positive."),
    )
    digest = build_digest(incident)
    assert digest.failures == [] and "security-breach" in [f.id for f in digest.mentioned]


def test_negated_mentions_never_reach_the_checklist_or_the_guide() -> None:
    thread = Incident([
        Message("ana", "CPU looked fine, no OOM kills, DNS was not the cause"),
        Message("raj", "root cause: the API token for the exporter had expired"),
    ])
    digest = build_digest(thread)
    assert [f.id for f in digest.failures] == ["expired-credentials"]
    guide = render_context(digest)
    assert "candidate failure class (reject it if the messages do not show it): Expired or revoked credentials" in guide
    assert "DNS" not in guide.split("candidate")[1] and "Out of memory" not in guide


def test_a_consequence_class_yields_to_the_cause_stated_with_it() -> None:
    thread = Incident([Message("rasmus", "the webhook is stuck in CrashLoopBackOff: its certificate chain expired")])
    assert _ids(thread) == ["certificate-expiry", "crashloopbackoff"]
