from __future__ import annotations

import pytest

from bot.core.prepare.redact import redact

# (input, secret that must disappear, placeholder kind)
SECRETS = [
    ("bot token xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp", "xoxb-123456789012", "slack-token"),
    ("user token xoxp-1111-2222-3333-abcdef", "xoxp-1111", "slack-token"),
    ("app token xapp-1-A012345-6789-abcdef0123", "xapp-1-A012345", "slack-token"),
    ("refresh xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTA", "xoxe.xoxp-1", "slack-token"),
    ("key AKIAIOSFODNN7EXAMPLE in env", "AKIAIOSFODNN7EXAMPLE", "aws-key"),
    ("temp ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A", "aws-key"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI", "aws-secret"),
    (
        "cookie eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
        "jwt",
    ),
    ("curl -H 'Authorization: Basic dXNlcjpwYXNz'", "dXNlcjpwYXNz", "auth-header"),
    ("sent Bearer abc123def456ghi789", "abc123def456ghi789", "bearer-token"),
    ("ghp_16C7e42F292c6912E7710c838347Ae178B4a in remote", "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "github-token"),
    ("DATABASE_URL=postgres://admin:pa55w0rd@db.internal:5432/app", "pa55w0rd", "url-credentials"),
    ("password=hunter2 retrying", "hunter2", "password"),
    ("passwd: s3cr3t!", "s3cr3t!", "password"),
    ('{"secret": "topsecretvalue"}', "topsecretvalue", "secret"),
    ("api_key=sk-abcdef0123", "sk-abcdef0123", "api-key"),
    ("?token=abc.def.ghi&x=1", "abc.def.ghi", "token"),
    ("mail jane.doe+ops@example.co.uk about it", "jane.doe+ops@example.co.uk", "email"),
    ("call +1 415 555 2671 now", "415 555 2671", "phone"),
    ("call +44 20 7946 0958 now", "7946 0958", "phone"),
    ("call (415) 555-2671 now", "555-2671", "phone"),
    ("call 415-555-2671 now", "415-555-2671", "phone"),
    ("call 415.555.2671 now", "415.555.2671", "phone"),
]


@pytest.mark.parametrize(("text", "secret", "kind"), SECRETS, ids=[s[2] + "-" + str(i) for i, s in enumerate(SECRETS)])
def test_each_secret_becomes_a_typed_placeholder(text: str, secret: str, kind: str) -> None:
    out, counts = redact(text)
    assert secret not in out
    assert f"[REDACTED:{kind}]" in out
    assert counts == {kind: 1}


def test_key_names_stay_and_values_go() -> None:
    out, _ = redact("password=hunter2 api_key=XYZ123 Authorization: Bearer abc123def456")
    assert out == "password=[REDACTED:password] api_key=[REDACTED:api-key] Authorization: Bearer [REDACTED:auth-header]"


def test_url_credentials_keep_scheme_and_host_and_are_not_taken_for_an_email() -> None:
    out, counts = redact("dsn redis://default:p4ss@cache.internal:6379/0")
    assert out == "dsn redis://[REDACTED:url-credentials]@cache.internal:6379/0"
    assert counts == {"url-credentials": 1}


def test_private_key_block_is_fully_gone() -> None:
    body = "MIIEowIBAAKCAQEA1x2y3z\nQ0FGRUdISUpLTE1OT1BRUlNUVVZX\nYWJjZGVmZ2hpamtsbW5vcA=="
    text = f"before\n-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\nafter"
    out, counts = redact(text)
    assert out == "before\n[REDACTED:private-key]\nafter"
    assert counts == {"private-key": 1}


def test_unterminated_private_key_is_redacted_to_the_end_of_its_body() -> None:
    out, _ = redact("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAABG5vbmUAAAAEbm9uZQ==")
    assert out == "[REDACTED:private-key]"


def test_counts_add_up_per_kind() -> None:
    _, counts = redact("a@example.com b@example.com password=x AKIAIOSFODNN7EXAMPLE")
    assert counts == {"email": 2, "password": 1, "aws-key": 1}


def test_token_value_already_redacted_is_not_counted_twice() -> None:
    out, counts = redact("token: xoxb-1234567890-abcdefghijkl")
    assert out == "token: [REDACTED:slack-token]"
    assert counts == {"slack-token": 1}


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T10:02:03Z 2024-05-01T10:02:03.123+00:00 2024-05-01 10:02:03,456",
        "May  1 10:02:03 host sshd[123]: session opened",
        "epoch 1714557723000 and 1714557723",
        "10.0.0.1 192.168.100.200:5432 ::1 fe80::1",
        "v1.2.3 2.14.0-rc.1 1.2.3.4567",
        "took 1500ms, timeout after 30s, p99 120 350 1200 ms, 99.95%",
        "order 123e4567-e89b-12d3-a456-426614174000",
        "ISO dates 2024-05-01 and 2024/05/01, sha 9f2c1ab0c4e5",
        "+1 from me, +1 500 502 503",
        "the Bearer token expired; Authorization: required",
        "image@sha256:4b1e8c2d and @alice in #incident",
        "counts 1234567890 2024050110",
    ],
)
def test_false_positives_are_untouched(text: str) -> None:
    assert redact(text) == (text, {})
