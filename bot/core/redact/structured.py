"""Secrets whose name and value are apart: name/value fields, tables, YAML blocks, Kubernetes Secrets.

The key=value rules in ``local.py`` need the key right before the value on one line. Manifests, Terraform
state, Markdown tables and YAML block scalars put the name in another field, cell or line; these rules
find the value from its name. Single-line forms are ``Rule``s for the engine; multi-line ones are passes
over the whole text, each behind a cheap literal check so that ordinary logs pay almost nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import partial

from bot.core.redact.local import KEY_NAMES, NOT_A_VALUE, SECRET_FIELD, Rule, key_value, placeholder, value, whole

# A field or cell that names a secret: the key name ends it (DB_PASSWORD, stripe.secret), as in local.py.
_NAME = rf"[\w.-]{{0,40}}?(?:{KEY_NAMES})"
_SECRET_NAME = re.compile(rf"(?i){_NAME}")
_KIND_OF = {"pass": "password", "pwd": "password", "secret": "secret", "token": "token"}

# The name field may be a path (AWS SSM "/prod/db/password") and be called "Name" or "Key".
_FIELD_NAME = SECRET_FIELD
_NAME_FIELD = rf'"(?i:name|key)"\s*:\s*"(?P<key>(?i:{_FIELD_NAME}))"'
_VALUE_FIELD = r'"(?i:value)"\s*:\s*"(?P<value>[^"\n]*)"'
_NAME_ATTR = rf"""(?<![\w-])(?i:key|name)=["'](?P<key>(?i:{_FIELD_NAME}))["']"""
_VALUE_ATTR = r"""(?<![\w-])(?i:value)=["'](?P<value>[^"'\n]*)["']"""
# Other JSON fields that may stand between the two (Terraform state: "sensitive": true).
_JSON_GAP = r"""(?:\s*,\s*"[\w-]+"\s*:\s*(?:"[^"\n]*"|[\w.-]+)){0,4}\s*,\s*"""
_DELIMITED = partial(key_value, delimited=True)

RULES: tuple[Rule, ...] = (
    # k8s/ECS env, Terraform state, SSM parameters: {"name": "API_TOKEN", "value": "…"}, either order, maybe
    # over lines (so no line hints: the literal start keeps the whole-text search cheap).
    Rule(re.compile(rf"{_NAME_FIELD}{_JSON_GAP}{_VALUE_FIELD}"), _DELIMITED),
    Rule(re.compile(rf"{_VALUE_FIELD}{_JSON_GAP}{_NAME_FIELD}"), _DELIMITED),
    # .NET and Java XML config: <add key="DbPassword" value="…"/>, either order.
    Rule(re.compile(rf"{_NAME_ATTR}\s+{_VALUE_ATTR}"), _DELIMITED, ("value=",)),
    Rule(re.compile(rf"{_VALUE_ATTR}\s+{_NAME_ATTR}"), _DELIMITED, ("value=",)),
    # Markdown table row: | DB_PASSWORD | s3cret |
    Rule(
        re.compile(rf"\|[ \t]*`?(?P<key>(?i:{_NAME}))`?[ \t]*\|[ \t]*`?(?P<value>[^|`\s][^|`\n]*?)`?[ \t]*(?=\|)"),
        key_value,
        ("|",),
    ),
    # XML/HTML config: <password>x</password>, <db:secret>x</db:secret>.
    Rule(re.compile(rf"<(?P<key>(?i:{_NAME}))>(?P<value>[^<\n]+)</(?P=key)>"), _DELIMITED, ("<",)),
    # CLI tools whose password flag is a short letter local.py cannot know: sshpass -p, redis-cli -a / --pass.
    Rule(
        re.compile(r"(?:sshpass\b[^\n]*?\s-p|redis-cli\b[^\n]*?\s(?:-a|--pass))[ \t]*[\"']?(?P<value>[^\s\"'-][^\s\"']*)"),
        value("password"),
        ("sshpass", "redis-cli"),
    ),
    # Google OAuth access tokens and Vault service/batch tokens: gitleaks wants exact lengths.
    Rule(re.compile(r"ya29(?<!\wya29)\.[A-Za-z0-9_-]{8,}"), whole("google-oauth-token")),
    Rule(re.compile(r"hv[sb](?<!\whv[sb])\.[A-Za-z0-9_-]{20,}"), whole("vault-token")),
    # base64 of "-----BEGIN" (a PEM key in a Secret or kubeconfig) and of '{"auths":' (a Docker login).
    Rule(re.compile(r"LS0tLS1CRUdJTi[A-Za-z0-9+/=]*"), whole("pem-base64"), ("ls0tls1crudjti",)),
    Rule(re.compile(r"eyJhdXRocyI6[A-Za-z0-9+/=]*"), whole("docker-config"), ("eyjhdxrocyi6",)),
    # kubeconfig client credentials, whatever their encoding.
    Rule(
        re.compile(r"(?i)(?P<key>client-(?:key|certificate)-data|\.dockerconfigjson)[\"']?\s*:\s*[\"']?(?P<value>[A-Za-z0-9+/=]{8,})"),
        value("kubeconfig-credential"),
        ("-data", ".dockerconfigjson"),
    ),
)

# YAML: "- name: DB_PASSWORD" with "value: x" on the next line (or before it). Name first is tried over the whole
# text before value first: in a list of pairs, "value: debug" over "- name: API_TOKEN" belongs to the item above.
_YAML_PAIRS = (
    re.compile(
        rf"(?<![\w-])(?i:name|key):[ \t]*[\"']?(?P<key>(?i:{_FIELD_NAME}))[\"']?[ \t]*\r?\n"
        rf"[ \t]*(?:-[ \t]+)?(?i:value):[ \t]*[\"']?(?P<value>[^\s\"'][^\"'\n]*?)[\"']?[ \t]*$",
        re.MULTILINE,
    ),
    re.compile(
        rf"(?<![\w-])(?i:value):[ \t]*[\"']?(?P<value>[^\s\"'][^\"'\n]*?)[\"']?[ \t]*\r?\n"
        rf"[ \t]*(?:-[ \t]+)?(?i:name|key):[ \t]*[\"']?(?P<key>(?i:{_FIELD_NAME}))[\"']?[ \t]*$",
        re.MULTILINE,
    ),
)
# YAML value on the next, indented line(s): "password:\n  x", "password: |\n  x", "password: >-\n  x".
_YAML_NEXT = re.compile(r":[ \t]*(?P<block>[|>][+-]?[0-9]?)?[ \t]*\r?\n(?=(?P<indent>[ \t]+)\S)")
# The key ends the line before the colon. It need not start it: a pasted manifest follows "found in the logs: "
# as often as not, and a log line ending "bad password:" losing its next line is the cheaper mistake.
_YAML_KEY_BEFORE = re.compile(rf"(?im)(?:^|[\s\"'])(?P<key>{_NAME})[\"']?[ \t]*$")
_MAPPING_LINE = re.compile(r"(?:- |[\w.\"'-]+:(?:\s|$))")
# Kubernetes Secret: every value under data:/stringData: is a secret, whatever its key is called.
_SECRET_KIND = re.compile(r"kind:[ \t]*[\"']?Secret\b|\"kind\"\s*:\s*\"Secret\"")
_DATA_BLOCK = re.compile(r"(?m)^(?P<indent>[ \t]*)(?:data|stringData):[ \t]*\r?\n")
# kubectl get secret -o json: "data": {"key": "base64", …}
_JSON_DATA = re.compile(r'"(?:data|stringData)"\s*:\s*\{[^{}]*\}')
_JSON_DATA_VALUE = re.compile(r'(?P<head>"[^"\n]+"\s*:\s*")(?P<value>[^"\n]+)"')
_DATA_ENTRY = re.compile(r"(?P<head>[ \t]+[\"']?[\w.-]+[\"']?:[ \t]*[\"']?)(?P<value>[^\s\"'][^\"'\n]*)")
# Markdown table: header row (maybe after a chat prefix), separator row, body rows.
_TABLE = re.compile(r"(?m)^[^\n|]*(?P<head>\|[^\n]*\|)[ \t]*\r?\n[ \t]*\|[ \t:|-]*-{3,}[ \t:|-]*\r?\n(?P<body>(?:[ \t]*\|[^\n]*(?:\n|$))+)")


def _kind(name: str) -> str:
    lowered = name.lower()
    return next((k for prefix, k in _KIND_OF.items() if prefix in lowered), "api-key" if "key" in lowered else "credential")


def _yaml_pairs(text: str, counts: Counter[str]) -> str:
    def sub(m: re.Match[str]) -> str:
        found = m.group("value")
        if NOT_A_VALUE.match(found):
            return m.group()
        kind = _kind(m.group("key"))
        counts[kind] += 1
        start, end = m.start("value") - m.start(), m.end("value") - m.start()
        return m.group()[:start] + placeholder(kind) + m.group()[end:]

    for pattern in _YAML_PAIRS:
        text = pattern.sub(sub, text)
    return text


def _yaml_next_line(text: str, counts: Counter[str]) -> str:
    out: list[str] = []
    last = 0
    # The match is only the ":" and line break (the lines after it are looked at, not consumed), so an outer
    # key that names no secret ("db:") does not hide the inner one ("  password: |").
    for m in _YAML_NEXT.finditer(text):
        if m.start() < last:
            continue
        key = _YAML_KEY_BEFORE.search(text, text.rfind("\n", 0, m.start()) + 1, m.start())
        if not key:
            continue
        start = end = m.end() + len(m.group("indent"))
        while True:  # a block scalar runs over every line indented at least as deep; a plain value is one line
            newline = text.find("\n", end)
            end = len(text) if newline == -1 else newline
            if not m.group("block") or not text.startswith(m.group("indent"), end + 1):
                break
            end += 1
        found = text[start:end]
        if found.startswith("[REDACTED") or NOT_A_VALUE.match(found.strip()):
            continue
        if not m.group("block") and _MAPPING_LINE.match(found):
            continue  # a nested mapping or list ("credentials:\n  user: x") is left to the line rules
        kind = _kind(key.group("key"))
        counts[kind] += 1
        out += [text[last:start], placeholder(kind)]
        last = end
    return "".join(out) + text[last:] if out else text


# A secret's name over a nested object: {"password": {"value": "…"}}, or YAML "password:" over indented fields.
# Every leaf under it goes, but for fields that describe the secret rather than hold it.
_JSON_NESTED = re.compile(rf'"(?P<key>{_NAME})"\s*:\s*\{{')
_JSON_LEAF = re.compile(r'"(?P<field>[^"\n]{1,100})"\s*:\s*(?:"(?P<value>[^"\n]*)"|(?P<bare>[^\s,{}\[\]"]+))')
# Lines ending in ":" (found cheaply) whose key names a secret; as in _YAML_KEY_BEFORE the key need not start its line
# ("found in the logs: password:").
_LINE_ENDS_IN_COLON = re.compile(r":[ \t]*\r?\n")
_YAML_NESTED = re.compile(rf"(?P<indent>[ \t]*)(?P<prefix>[^\n]*?[\s\"'])??(?:-[ \t]+)?[\"']?(?P<key>{_NAME})[\"']?:[ \t]*\r?\n")
_YAML_LEAF = re.compile(
    r"(?P<indent>[ \t]+)(?:-[ \t]+)?(?:[\"']?(?P<field>[\w.-]{1,100})[\"']?:[ \t]+)?[\"']?(?P<value>[^\s\"'#][^\"'\n]*?)[\"']?[ \t]*$"
)
# Fields that say about the secret (its name, type, where it is kept, when it expires), judged by how they end:
# "passwordFile", "secretRef", "clientId" hold no secret.
_DESCRIBES = re.compile(
    r"(?i)(?:name|type|kind|id|description|version|algorithm|encoding|format|enabled|sensitive|length|ttl|path|file|"
    r"ref|url|uri|host|port|region|user|login|(?:created|updated|expires|rotated)(?:_?(?:at|in|on))?)$"
)
_NESTED_SPAN = 4000  # how far an unclosed object is followed


def _leaf_is_secret(field: str | None, found: str) -> bool:
    return not (field and _DESCRIBES.search(field)) and not NOT_A_VALUE.match(found.strip())


def _json_nested(text: str, counts: Counter[str]) -> str:
    out: list[str] = []
    last = 0
    for m in _JSON_NESTED.finditer(text):
        if m.end() <= last:
            continue
        depth, end = 1, m.end()
        while depth and end < min(len(text), m.end() + _NESTED_SPAN):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        kind = _kind(m.group("key"))
        for leaf in _JSON_LEAF.finditer(text, m.end(), end):
            group = "value" if leaf.group("value") is not None else "bare"
            if not leaf.group(group) or not _leaf_is_secret(leaf.group("field"), leaf.group(group)):
                continue
            out += [text[last : leaf.start(group)], placeholder(kind)]
            last = leaf.end(group)
            counts[kind] += 1
    return "".join(out) + text[last:] if out else text


def _yaml_nested(text: str, counts: Counter[str]) -> str:
    out: list[str] = []
    last = 0
    for colon in _LINE_ENDS_IN_COLON.finditer(text):
        m = _YAML_NESTED.fullmatch(text, text.rfind("\n", 0, colon.start()) + 1, colon.end())
        if m is None or m.start() < last:
            continue
        # After other text on its line, the key's own depth is unknown: any indented line below is under it.
        depth = 0 if m.group("prefix") else len(m.group("indent").expandtabs())
        pos, kind = m.end(), _kind(m.group("key"))
        while pos < len(text):
            end = text.find("\n", pos)
            end = len(text) if end == -1 else end
            line = text[pos:end]
            if line.strip() and len(line) - len(line.lstrip()) <= depth:
                break
            leaf = _YAML_LEAF.match(line)
            if leaf and _leaf_is_secret(leaf.group("field"), leaf.group("value")) and not leaf.group("value").endswith(":"):
                out += [text[last : pos + leaf.start("value")], placeholder(kind)]
                last = pos + leaf.end("value")
                counts[kind] += 1
            pos = end + 1
    return "".join(out) + text[last:] if out else text


# Terraform / HCL heredocs: password = <<EOT … EOT (<<-EOT indented). The body runs to its end marker; a body not
# ended yet (a preview of text still being typed, a truncated paste) runs to a blank line, a code fence or the end.
_HEREDOC_HEAD = re.compile(rf"(?P<key>{_NAME})[\"']?[ \t]*[=:][ \t]*<<[-~]?[ \t]*[\"']?(?P<tag>[A-Za-z_]\w*)[\"']?[ \t]*\r?$")
_FENCE_LINE = re.compile(r"[ \t]*(?:```|~~~)")


def _heredocs(text: str, counts: Counter[str]) -> str:
    out: list[str] = []
    last = 0
    marker = text.find("<<")
    while marker != -1:
        line_end = text.find("\n", marker)
        if line_end == -1:
            break
        # Only a line's last "<<" can open a heredoc (its tag ends the line), and the name stands just before it.
        marker = text.rfind("<<", marker, line_end)
        line_start = text.rfind("\n", 0, marker) + 1
        head = _HEREDOC_HEAD.search(text, max(line_start, marker - 120), line_end)
        if head is None or line_start < last:
            marker = text.find("<<", line_end)
            continue
        start = end = line_end + 1
        while end < len(text):
            stop = text.find("\n", end)
            line = text[end : len(text) if stop == -1 else stop].rstrip("\r")
            if line.strip() in (head.group("tag"), "") or _FENCE_LINE.match(line):
                break
            end = len(text) if stop == -1 else stop + 1
        body_end = end - 1 if end > start and text[end - 1] == "\n" else end
        if body_end > start and not text.startswith("[REDACTED", start):
            kind = _kind(head.group("key"))
            out += [text[last:start], placeholder(kind)]
            last = body_end
            counts[kind] += 1
        marker = text.find("<<", max(end, line_end))
    return "".join(out) + text[last:] if out else text


def _k8s_secret_data(text: str, counts: Counter[str]) -> str:
    out: list[str] = []
    last = 0
    for block in _DATA_BLOCK.finditer(text):
        if block.start() < last:
            continue
        indent = len(block.group("indent").expandtabs())
        pos = block.end()
        while pos < len(text):
            end = text.find("\n", pos)
            end = len(text) if end == -1 else end
            line = text[pos:end]
            entry = _DATA_ENTRY.match(line)
            if not entry or len(line) - len(line.lstrip()) <= indent:
                break
            if not entry.group("value").startswith("[REDACTED"):
                out += [text[last : pos + entry.start("value")], placeholder("k8s-secret")]
                last = pos + entry.end("value")
                counts["k8s-secret"] += 1
            pos = end + 1
    return "".join(out) + text[last:] if out else text


def _k8s_secret_json(text: str, counts: Counter[str]) -> str:
    def entry(m: re.Match[str]) -> str:
        if m.group("value").startswith("[REDACTED"):
            return m.group()
        counts["k8s-secret"] += 1
        return f'{m.group("head")}{placeholder("k8s-secret")}"'

    return _JSON_DATA.sub(lambda block: _JSON_DATA_VALUE.sub(entry, block.group()), text)


def _table_columns(text: str, counts: Counter[str]) -> str:
    def cells(row: str) -> list[str]:
        return row.strip().strip("|").split("|")

    def sub(m: re.Match[str]) -> str:
        secret_cols = [i for i, cell in enumerate(cells(m.group("head"))) if _SECRET_NAME.fullmatch(cell.strip(" `*"))]
        if not secret_cols:
            return m.group()
        rows = []
        for row in m.group("body").split("\n"):
            parts = cells(row) if row.strip() else []
            changed = False
            for i in secret_cols:
                if i < len(parts) and parts[i].strip() and not NOT_A_VALUE.match(parts[i].strip()):
                    kind = _kind(cells(m.group("head"))[i])
                    parts[i], changed = f" {placeholder(kind)} ", True
                    counts[kind] += 1
            rows.append(row[: len(row) - len(row.lstrip())] + "|" + "|".join(parts) + "|" if changed else row)
        return m.group()[: m.start("body") - m.start()] + "\n".join(rows)

    return _TABLE.sub(sub, text)


def redact_blocks(text: str, counts: Counter[str]) -> str:
    """The multi-line forms; each runs only when its literal marker is in the text."""
    if "<<" in text:
        text = _heredocs(text, counts)
    if ("name:" in text or "key:" in text) and "value:" in text:
        text = _yaml_pairs(text, counts)
    if ":" in text and "\n" in text:
        text = _yaml_next_line(text, counts)
        text = _yaml_nested(text, counts)
    if "{" in text:
        text = _json_nested(text, counts)
    if _SECRET_KIND.search(text):  # starts with a literal: cheap on any text
        text = _k8s_secret_data(text, counts)
        text = _k8s_secret_json(text, counts)
    if "|" in text and "---" in text:
        text = _table_columns(text, counts)
    return text
