from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.redact import luhn_ok, redact, redact_text
from bot.core.redact.gitleaks import RuleFileError, load, shannon_entropy, to_python_regex
from bot.core.redact.scan import KeywordIndex, lower_same_length

# (input, secret that must disappear, placeholder kind)
SECRETS = [
    ("bot token xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp", "xoxb-123456789012", "slack-token"),
    ("user token xoxp-1111-2222-3333-abcdef", "xoxp-1111", "slack-token"),
    ("app token xapp-1-A012345-6789-abcdef0123", "xapp-1-A012345", "slack-token"),
    ("refresh xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTA", "xoxe.xoxp-1", "slack-token"),
    ("key AKIAIOSFODNN7EXAMPLE in env", "AKIAIOSFODNN7EXAMPLE", "aws-key"),
    ("temp ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A", "aws-key"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI", "api-key"),
    (
        "cookie eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
        "jwt",
    ),
    ("curl -H 'Authorization: Basic dXNlcjpwYXNz'", "dXNlcjpwYXNz", "curl-auth-header"),  # gitleaks rule id
    ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz", "auth-header"),
    ("sent Bearer abc123def456ghi789", "abc123def456ghi789", "bearer-token"),
    ("ghp_16C7e42F292c6912E7710c838347Ae178B4a in remote", "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "github-token"),
    ("DATABASE_URL=postgres://admin:pa55w0rd@db.internal:5432/app", "pa55w0rd", "url-credentials"),
    ("password=hunter2 retrying", "hunter2", "password"),
    ("passwd: s3cr3t!", "s3cr3t!", "password"),
    ('{"secret": "topsecretvalue"}', "topsecretvalue", "secret"),
    ("api_key=sk-abcdef0123", "sk-abcdef0123", "generic-api-key"),  # gitleaks: 10+ chars of high entropy
    ("api_key=XYZ123", "XYZ123", "api-key"),  # ours: too short for gitleaks, still a key
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
        "127.0.0.1 0.0.0.0:8080 255.255.255.0 ::1 fe80::1",  # private IPv4 addresses are redacted now
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


def test_redact_text_is_redact_without_counts() -> None:
    text = "password=hunter2 mail a@example.com"
    assert redact_text(text) == redact(text)[0] == "password=[REDACTED:password] mail [REDACTED:email]"


@pytest.mark.parametrize(
    ("go", "python"),
    [
        (r"\b(p8e-(?i)[a-z0-9]{32})", r"\b(p8e-(?i:[a-z0-9]{32}))"),  # flag to the end of its group
        (r"^/Users/(?i)[a-z]+$", r"^/Users/(?i:[a-z]+$)"),  # flag at top level: to the end
        (r"a(?:b(?i)c|d)e", r"a(?:b(?i:c)|(?i:d))e"),  # Go keeps the flag for later alternatives
        (r"[(]x(?i)y", r"[(]x(?i:y)"),  # parentheses inside a class are not groups
        (r"(pat[[:alnum:]]{14})", r"(pat[0-9A-Za-z]{14})"),  # POSIX class
        (r"(?:\s|\z)", r"(?:\s|\Z)"),  # end of text
        (r"(?i)abc", r"(?i)abc"),  # a leading flag is valid Python already
    ],
)
def test_go_regex_syntax_is_translated(go: str, python: str) -> None:
    assert to_python_regex(go) == python


def test_gitleaks_rules_load_with_keywords() -> None:
    gl = load()
    assert len(gl.rules) >= 200
    assert all(rule.keywords for rule in gl.rules)
    assert gl.rules[-1].id == "generic-api-key"  # the catch-all runs last on a line


def test_gitleaks_entropy_floor_keeps_low_entropy_values() -> None:
    # generic-api-key wants entropy above 3.5: a repetitive value is a placeholder, a random one a key.
    assert redact("auth_header_name = aaaabbbbccccdddd") == ("auth_header_name = aaaabbbbccccdddd", {})
    out, counts = redact("auth_header_name = Zx9Qw7Lm3Np5Rt8Vb2Kd")
    assert out == "auth_header_name = [REDACTED:generic-api-key]" and counts == {"generic-api-key": 1}
    assert shannon_entropy("aabb") == 1.0 and shannon_entropy("") == 0.0 and shannon_entropy("Zx9Qw7Lm3Np5Rt8Vb2Kd") > 3.5


def test_gitleaks_match_allowlist_sees_the_key_name_before_the_keyword() -> None:
    # The allowlist names "primary_key"; the search starts at "key", so the prefix must be added back.
    text = "primary_key = 8f14e45fceea167a5a36dedd"
    assert redact(text) == (text, {})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[[rules]]\nid = "x"\nregex = "(unclosed"\nkeywords = ["x"]\n', r"rule 'x' .*restore .*gitleaks\.toml"),
        ("[[rules]\n", r"not valid TOML.*restore .*gitleaks\.toml"),
    ],
)
def test_broken_rule_file_fails_with_a_clear_message(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "gitleaks.toml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(RuleFileError, match=message):
        load(bad)


@pytest.mark.parametrize("words", [["xoxb", "password"], [f"kw{i}" for i in range(20)] + ["xoxb", "password"]])
def test_keyword_index_finds_the_lines_holding_a_keyword(words: list[str]) -> None:
    # Both strategies (str.find for a few keywords, Aho-Corasick for many) give the same lines.
    index = KeywordIndex([words[:-1], [words[-1]]])
    text = "clean line\ntoken xoxb-1 and password\nnothing\nPASSWORD".lower()
    lines = index.lines(text)
    assert {text[a:b]: sorted(rules) for (a, b), rules in lines.items()} == {
        "token xoxb-1 and password": [0, 1],
        "password": [1],
    }


def test_lowering_keeps_offsets_for_characters_that_grow() -> None:
    text = "İstanbul token=x"
    assert len(lower_same_length(text)) == len(text)
    assert redact(text)[0] == "İstanbul token=[REDACTED:token]"


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("4111111111111111", True), ("4111111111111112", False), ("378282246310005", True), ("0", True), ("79927398713", True)],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_ok(digits) is valid


_HEX64 = "8f14e45fceea167a5a36dedd4bea2543c9f0f895fb98ab9159f51fd0297e236d"
_MIXED = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1V2w3X4y5Z6"


@pytest.mark.parametrize(
    ("prefix", "secret", "rule"),
    [
        # Provider formats only the gitleaks data covers: the rule id names what was found.
        ("shopify ", "shpat_" + _HEX64[:32], "shopify-access-token"),
        ("DO token ", "dop_v1_" + _HEX64, "digitalocean-pat"),
        ("hf ", "hf_" + "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi", "huggingface-access-token"),
        ("grafana ", "glsa_" + _MIXED[:32] + "_" + _HEX64[:8], "grafana-service-account-token"),
        ("doppler ", "dp.pt." + _MIXED[:43], "doppler-api-token"),  # mid-pattern (?i) in the Go regex
        ("linear ", "lin_api_" + _MIXED[:40], "linear-api-key"),
        ("databricks ", "dapi" + _HEX64[:32], "databricks-api-token"),
        ("NEW_RELIC_KEY=", "NRAK-" + _MIXED[:27].upper(), "new-relic-user-api-key"),  # a key-prefix rule
    ],
)
def test_gitleaks_provider_rules_name_what_they_find(prefix: str, secret: str, rule: str) -> None:
    assert redact(prefix + secret) == (f"{prefix}[REDACTED:{rule}]", {rule: 1})
