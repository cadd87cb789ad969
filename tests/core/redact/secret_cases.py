"""Secret forms that must be redacted and look-alikes that must survive; shared by unit and e2e tests.

Vendor tokens are assembled from pieces so that secret scanners reading this repository do not flag
the (fake) values. Each positive case names the substring that must not survive anywhere in the output.
"""

from __future__ import annotations

from typing import NamedTuple


class Secret(NamedTuple):
    id: str
    text: str
    secret: str  # must not occur in the redacted text


def _s(id: str, text: str, secret: str | None = None) -> Secret:
    return Secret(id, text, secret if secret is not None else text)


_B62 = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1V2w3X4y5Z6"  # 52 mixed characters to slice tokens from
_HEX = "8f14e45fceea167a5a36dedd4bea2543c9f0f895fb98ab9159f51fd0297e236d"
_AWS_ID = "AKIA" + "Z7Q4RM2XW5KJ3NPL"
_AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "h3kq9Ld2Wz"
_SLACK_BOT = "xoxb-" + "2489562301-4915847102355-" + _B62[:24]
_GH = "ghp_" + _B62[:36]
_OPENAI = "sk-proj-" + _B62[:40] + "_" + _B62[:20]
_STRIPE_TEST = "sk_" + "test_" + _B62[:24]
_STRIPE_LIVE = "sk_" + "live_" + _B62[4:28]
_STRIPE_RESTRICTED = "rk_" + "live_" + _B62[8:32]
_GLPAT = "glpat-" + _B62[:20]
_NPM = "npm_" + _B62[:36]
_WEBHOOK_PATH = "T0" + "4B7C9D1E/B05F6G7H8J9/" + _B62[:24]
_JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ." + "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
_GOOGLE = "AIza" + "SyD9" + _B62[:31]
_SENDGRID = "SG." + _B62[:22] + "." + (_B62 + _B62)[:43]
_PYPI = "pypi-AgEIcHlwaS5vcmc" + (_B62 + _B62)[:60]
_TWILIO = "SK" + _HEX[:32]
_SLACK_USER = "xoxp-" + "1234567890-1234567890-1234567890-" + _HEX[:32]
_DISCORD = _HEX
_AZURE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_SSH_BODY = (
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDkq3Rn8Xq0ZJ6m7c9Zt2mFvH1aVxkS4lJ8bYwQ3nTgAAAAJgnT0MXJ09D"
)

# base64 of "-----BEGIN RSA PRIVATE KEY-----\nMIIEow…" and of '{"auths":{"registry.example.com":{"auth":…}}}'
_PEM_B64 = "LS0tLS1CRUdJTi" + "BSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVB"
_DOCKER_CFG = "eyJhdXRocyI6" + "eyJyZWdpc3RyeS5leGFtcGxlLmNvbSI6eyJhdXRoIjoiZFhObGNqcHdZWE56In19fQ=="
_SLACK_UPPER = "XOXB-" + "2489562301-4915847102355-" + _B62[:8].upper()
_YA29 = "ya29." + "a0AfH6SMBx3k9Lq-" + _B62[:16]
_VAULT = "hvs." + "CAESIJlU9w8pq3a7sP0q" + _B62[:12]
_VAULT_BATCH = "hvb." + "AAAAAQJk5lZ8xMqjT3o1" + _B62[10:22]
_PEM_JSON_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\nBKcwggSjAgEAAoIBAQC7xyz"  # literal "\n" escapes, as in JSON

POSITIVE: list[Secret] = [
    # key = value, the keyword glued to a prefix (the old "\b" missed these)
    _s("db-password-env", "DB_PASSWORD=Tr0ub4dor&3 psql", "Tr0ub4dor"),
    _s("pgpassword", "PGPASSWORD=s3cr3tPg psql -h db", "s3cr3tPg"),
    _s("mysql-root-password-yaml", "  MYSQL_ROOT_PASSWORD: rootpw99", "rootpw99"),
    _s("slack-signing-secret", "SLACK_SIGNING_SECRET=" + _HEX[:32], _HEX[:32]),
    _s("password-equals", "password=hunter2 retrying", "hunter2"),
    _s("passwd-colon", "passwd: s3cr3t!", "s3cr3t!"),
    _s("password-quoted-spaces", 'password: "correct horse battery"', "correct horse battery"),
    _s("json-secret", '{"client_secret": "topsecretvalue"}', "topsecretvalue"),
    _s("json-password", '{"user":"svc","password":"Pa$$w0rd!"}', "Pa$$w0rd!"),
    _s("api-key-equals", "api_key=abcdef0123", "abcdef0123"),
    _s("x-api-key-header", "X-Api-Key: 9f8e7d6c5b4a", "9f8e7d6c5b4a"),
    _s("query-token", "GET /cb?token=abc.def.ghi&x=1", "abc.def.ghi"),
    _s("access-token-query", "GET /v1?access_token=ya29.A0ARrdaM-xyz&page=2", "ya29.A0ARrdaM-xyz"),
    _s("auth-token-env", "AUTH_TOKEN='tok-77-prod'", "tok-77-prod"),
    _s("secret-key-django", "SECRET_KEY = 'django-insecure-9x!k2@p'", "django-insecure-9x!k2@p"),
    _s("private-key-var", "PRIVATE_KEY=MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
    _s("credentials-colon", "credentials: admin/Hunter22", "admin/Hunter22"),
    _s("pwd-short", "PWD=qwerty123 ./run.sh", "qwerty123"),
    _s("password-flag-space", "app --password hunter2 --verbose", "hunter2"),
    _s("token-flag-space", "cli login --token tk_9f8e7d6c5b4a3", "tk_9f8e7d6c5b4a3"),
    _s("mysql-p-glued", "mysql -u root -pS3cretRoot db", "S3cretRoot"),
    _s("yaml-arrow", ":password => 'rubypass1'", "rubypass1"),
    _s("go-walrus", 'dbPassword := "gopass42"', "gopass42"),
    _s(
        "azure-account-key",
        f"DefaultEndpointsProtocol=https;AccountName=prod;AccountKey={_AZURE_KEY};EndpointSuffix=core.windows.net",
        _AZURE_KEY[:40],
    ),
    _s("aws-secret-access-key", f"aws_secret_access_key = {_AWS_SECRET}", _AWS_SECRET),
    _s("aws-secret-env-upper", f"AWS_SECRET_ACCESS_KEY={_AWS_SECRET}", _AWS_SECRET),
    # vendor tokens
    _s("aws-access-key-id", f"key {_AWS_ID} in env", _AWS_ID),
    _s("aws-example-key", "key AKIAIOSFODNN7EXAMPLE in env", "AKIAIOSFODNN7EXAMPLE"),
    _s("aws-sts-key", "temp ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A"),
    _s("slack-bot-token", f"bot token {_SLACK_BOT}", _SLACK_BOT),
    _s("slack-user-token", f"user token {_SLACK_USER}", _SLACK_USER),
    _s("slack-short-token", "user token xoxp-1111-2222-3333-abcdef", "xoxp-1111-2222-3333-abcdef"),
    _s("slack-app-token", "app token xapp-1-A012345-6789-abcdef0123", "xapp-1-A012345-6789-abcdef0123"),
    _s("slack-refresh-token", "refresh xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTA", "xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTA"),
    _s("slack-webhook", f"posting to https://hooks.slack.com/services/{_WEBHOOK_PATH} failed", _WEBHOOK_PATH),
    _s("slack-webhook-short", "https://hooks.slack.com/services/T000/B000/XXXXshort", "T000/B000/XXXXshort"),
    _s("github-pat", f"{_GH} in remote", _GH),
    _s("github-fine-grained", "github_pat_" + _B62[:22] + "_" + (_B62 * 2)[:59]),
    _s("github-oauth", "gho_" + _B62[:36]),
    _s("github-app-short", "ghs_" + _B62[:20]),
    _s("gitlab-pat", f"remote https://oauth2:{_GLPAT}@gitlab.com/x.git", _GLPAT),
    _s("gitlab-pat-bare", f"export GL={_GLPAT}", _GLPAT),
    _s("openai-project-key", f"OPENAI key {_OPENAI} leaked", _OPENAI),
    _s("openai-legacy-key", "sk-" + _B62[:48]),
    _s("anthropic-key", "sk-ant-api03-" + _B62[:40]),
    _s("stripe-test", f"stripe {_STRIPE_TEST}", _STRIPE_TEST),
    _s("stripe-live", f"stripe {_STRIPE_LIVE}", _STRIPE_LIVE),
    _s("stripe-restricted", f"stripe {_STRIPE_RESTRICTED}", _STRIPE_RESTRICTED),
    _s("stripe-webhook-secret", "whsec_" + _B62[:32]),
    _s("npm-token", f"//registry.npmjs.org/:_authToken={_NPM}", _NPM),
    _s("npm-token-bare", f"NPM {_NPM}", _NPM),
    _s("google-api-key", f"maps key {_GOOGLE}", _GOOGLE),
    _s("sendgrid-key", f"mail via {_SENDGRID}", _SENDGRID),
    # Tokens end at punctuation and file extensions in chat and logs, not only at quotes and spaces.
    _s("sendgrid-key-file-name", f"attached {_SENDGRID}.log", _SENDGRID),
    _s("sendgrid-key-in-parens", f"(key {_SENDGRID}), rotated", _SENDGRID),
    _s("pypi-token", f"twine -p {_PYPI}", _PYPI),
    _s("twilio-key", f"twilio {_TWILIO}", _TWILIO),
    _s("discord-token", f"discord_token = {_DISCORD}", _DISCORD),
    _s("jwt", f"cookie {_JWT}", _JWT.split(".")[1]),
    _s("jwt-signature", f"session={_JWT}", _JWT.split(".")[2]),
    # authorization
    _s("basic-auth-header", "curl -H 'Authorization: Basic dXNlcjpwYXNz'", "dXNlcjpwYXNz"),
    _s("bearer-header", "Authorization: Bearer abc123def456ghi789", "abc123def456ghi789"),
    _s("bearer-bare", "sent Bearer abc123def456ghi789", "abc123def456ghi789"),
    _s("auth-header-json", '"authorization": "Token 9a8b7c6d5e4f"', "9a8b7c6d5e4f"),
    _s("curl-user", "curl -u deploy:Winter2024! https://ci.example/api", "Winter2024!"),
    _s("curl-user-long-flag", "curl --user ops:letmein99 https://x", "letmein99"),
    _s("curl-user-continued", "curl -X POST \\\n  -u ci-bot:hunter2pw \\\n  https://x", "hunter2pw"),
    _s("wget-http-user", "wget --http-user=admin --http-password=pw12345 https://x", "pw12345"),
    # credentials in URLs
    _s("postgres-dsn", "DATABASE_URL=postgres://admin:pa55w0rd@db.internal:5432/app", "pa55w0rd"),
    _s("redis-dsn", "dsn redis://default:p4ss@cache.internal:6379/0", "p4ss"),
    _s("https-userinfo", "git clone https://bob:Sup3rS3cret@git.example.com/repo.git", "Sup3rS3cret"),
    _s("mongodb-srv", "mongodb+srv://app:m0ngoPW@cluster0.mongodb.net/db", "m0ngoPW"),
    # URL-encoded forms
    _s("url-encoded-token", "GET /api?q=1&auth=token%3Dxoxb-1234567890-abcdefghijkl", "xoxb-1234567890"),
    _s("url-encoded-password", "callback?state=password%3Dhunter2%26next%3D%2F", "hunter2"),
    _s("double-encoded", "r=api_key%253Dabcdef0123", "abcdef0123"),
    _s("encoded-dsn", "u=postgres%3A%2F%2Fadmin%3Apa55w0rd%40db%3A5432", "pa55w0rd"),
    # prose, signed URLs, cookies, sessions
    _s("password-is-prose", "the new password is Hunter2! don't share", "Hunter2"),
    _s("pwd-was-prose", "the pwd was s3cret-77.", "s3cret-77"),
    _s("azure-sas", "https://acct.blob.core.windows.net/c/f?sv=2022-11-02&se=2024-05-02&sig=Zm9vYmFyYmF6cXV4%2Bq%3D", "Zm9vYmFyYmF6cXV4"),
    _s(
        "s3-presigned",
        "GET /b/k?X-Amz-Credential=AKIAEXAMPLE%2F20240501&X-Amz-Signature=5d6e7f8a9b0c1d2e3f4a&X-Amz-Expires=60",
        "5d6e7f8a9b0c1d2e3f4a",
    ),
    _s("cookie-header", "Cookie: _session=eyJ1c2VyIjo0Mn0--a9f8e7; theme=dark", "a9f8e7"),
    _s("set-cookie", "< Set-Cookie: JSESSIONID=7A9B3C4D5E6F; Path=/; HttpOnly", "7A9B3C4D5E6F"),
    _s("session-id", "login ok session_id=f3a9c2d1b7e6 user=42", "f3a9c2d1b7e6"),
    _s(
        "gcp-service-account-json",
        '{"type": "service_account", "private_key": '
        '"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\n-----END PRIVATE KEY-----\\n"}',
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
    ),
    # private keys
    _s("private-key-block", f"-----BEGIN OPENSSH PRIVATE KEY-----\n{_SSH_BODY}\n-----END OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAA"),
    _s(
        "private-key-truncated",
        f"-----BEGIN RSA PRIVATE KEY-----\n{_SSH_BODY}",
        "QyNTUxOQAAACDkq3Rn8Xq0ZJ6m7c9Zt2mFvH1aVxkS4lJ8bYwQ3nTgAAAAJgnT0MXJ09D",
    ),
    # personal data
    _s("email", "mail jane.doe+ops@example.co.uk about it", "jane.doe+ops@example.co.uk"),
    _s("email-in-brackets", "From: <oncall@acme.io>", "oncall@acme.io"),
    _s("phone-us-intl", "call +1 415 555 2671 now", "415 555 2671"),
    _s("phone-uk", "call +44 20 7946 0958 now", "7946 0958"),
    _s("phone-us-parens", "call (415) 555-2671 now", "555-2671"),
    _s("phone-us-dashes", "call 415-555-2671 now", "415-555-2671"),
    _s("card-visa-spaces", "card 4111 1111 1111 1111 declined", "4111 1111 1111 1111"),
    _s("card-mastercard-plain", "pan=5555555555554444 in log", "5555555555554444"),
    _s("card-amex-dashes", "amex 3782-822463-10005", "3782-822463-10005"),
    _s("ipv4-public", "client 203.0.113.42 sent 500s", "203.0.113.42"),
    _s("ipv4-private-port", "upstream 10.12.0.7:8080 timed out", "10.12.0.7"),
    _s("ipv4-in-url", "GET http://192.168.1.20/health", "192.168.1.20"),
    # name and value in separate fields (k8s/ECS env, Terraform state), either order, YAML over lines
    _s("k8s-env-name-value", "env:\n  - name: DB_PASSWORD\n    value: hunter2k8s\n  - name: LOG_LEVEL\n    value: debug", "hunter2k8s"),
    _s("k8s-env-quoted", '- name: "STRIPE_SECRET"\n  value: "whatever-77"', "whatever-77"),
    _s("k8s-env-value-first", "- value: Sup3rPw\n  name: ADMIN_PASSWORD", "Sup3rPw"),
    _s("ecs-env-json", '{"name": "API_TOKEN", "value": "tok_ecs_77ab"}', "tok_ecs_77ab"),
    _s("ecs-env-json-value-first", '{"value": "tok_ecs_88cd", "name": "API_TOKEN"}', "tok_ecs_88cd"),
    _s("tfstate-name-value", '{"name":"db_password","value":"x"}', '"value":"x"'),
    _s("tfstate-sensitive-between", '{"name":"db_password","sensitive":true,"value":"Tf-pw-1"}', "Tf-pw-1"),
    _s("json-name-value-pretty", '{\n  "name": "SLACK_BOT_TOKEN",\n  "value": "plainvalue"\n}', "plainvalue"),
    _s("ssm-parameter-json", '{"Name": "/prod/db/password", "Type": "SecureString", "Value": "ssmPw-9"}', "ssmPw-9"),
    _s("dotnet-app-config", '<add key="DbPassword" value="netPw1"/>', "netPw1"),
    _s("dotnet-app-config-value-first", "<add value='netPw2' key='ApiKey'/>", "netPw2"),
    _s("yaml-key-value-pair", "- key: /prod/api/token\n  value: yamlTok3n", "yamlTok3n"),
    # URL credentials: empty user, "/" or an unencoded "@" in the password
    _s("redis-empty-user", "redis://:r3disPw@cache:6379", "r3disPw"),
    _s("dsn-password-slash", "postgres://admin:pa/ss99@db:5432/app", "pa/ss99"),
    _s("dsn-password-at", "postgres://admin:p@ss99@db/app", "p@ss99"),
    _s("dsn-password-two-ats", "mysql://root:a@b@c9Zq7x@db.internal:3306/x", "c9Zq7x"),
    # Markdown tables: a key cell, or a secret-named column
    _s("markdown-key-cell", "| DB_PASSWORD | s3cretTbl |", "s3cretTbl"),
    _s("markdown-key-cell-code", "| `STRIPE_SECRET_KEY` | `sk9_abcdef` | prod |", "sk9_abcdef"),
    _s("markdown-password-column", "| user | password | host |\n|---|---|---|\n| svc | Zq9vv!x | db1 |\n| app | hunter | db2 |", "Zq9vv!x"),
    _s("markdown-token-column", "| service | token |\n| :--- | :--- |\n| ci | plaintokenvalue |", "plaintokenvalue"),
    # YAML value on the next line, or a block scalar
    _s("yaml-next-line", "password:\n  Xy7!next", "Xy7!next"),
    _s("yaml-literal-block-nested", "db:\n  password: |\n    Xy7blockpw\n  host: db", "Xy7blockpw"),
    _s("yaml-folded-block", "client_secret: >-\n  foldedsecret\n  morefolded\nother: 1", "morefolded"),
    # PEM in JSON with literal \n escapes, truncated or whole
    _s("pem-json-truncated", '{"private_key": "-----BEGIN PRIVATE KEY-----\\n' + _PEM_JSON_BODY, "BKcwggSjAgEAAoIBAQC7xyz"),
    _s(
        "pem-json-escaped-end",
        '"private_key": "-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEA1x2y3z\\nQ0FGRUdISUpLTE1O\\n-----END RSA PRIVATE KEY-----\\n"',
        "Q0FGRUdISUpLTE1O",
    ),
    _s(
        "pem-json-double-escaped",
        '"{\\"private_key\\": \\"-----BEGIN PRIVATE KEY-----\\\\nMIIEvQIBADANBgkqhkiG9w0B\\\\nAAOCAQ8AMIIBCgKCAQEA2d"',
        "AAOCAQ8AMIIBCgKCAQEA2d",
    ),
    # Kubernetes Secrets, kubeconfig, Docker logins
    _s(
        "k8s-secret-kubectl-order",
        "apiVersion: v1\ndata:\n  tls.crt: Y2VydGlmaWNhdGU=\n  app.conf: c2VjcmV0Y29uZg==\nkind: Secret\nmetadata:\n  name: app",
        "c2VjcmV0Y29uZg==",
    ),
    _s(
        "k8s-secret-data",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  username: YWRtaW4=\n  db-pass: aHVudGVyMg==\ntype: Opaque",
        "aHVudGVyMg==",
    ),
    _s("k8s-secret-string-data", "kind: Secret\nstringData:\n  config.json: plainconf\n  other: val", "plainconf"),
    _s(
        "k8s-secret-json",
        '{"apiVersion": "v1", "data": {"db.conf": "aHVudGVyMmpzb24=", "user": "YWRtaW4="}, "kind": "Secret"}',
        "aHVudGVyMmpzb24=",
    ),
    _s("pem-in-base64", f"tls.key: {_PEM_B64}", _PEM_B64),
    _s("dockerconfigjson", f"  .dockerconfigjson: {_DOCKER_CFG}", _DOCKER_CFG),
    _s("kubeconfig-client-key", "    client-key-data: QUJDREVGR0hJSktMTU5PUA==", "QUJDREVGR0hJSktMTU5PUA=="),
    _s("kubeconfig-client-cert", "    client-certificate-data: Q0VSVERBVEExMjM0NTY3OA==", "Q0VSVERBVEExMjM0NTY3OA=="),
    _s("kubeconfig-user-token", "  user:\n    token: kubetok3n.abcdef0123456789", "kubetok3n.abcdef0123456789"),
    # cheap vendor and tool forms
    _s("google-oauth-ya29", f"token {_YA29}", _YA29),
    _s("vault-service-token", f"VAULT {_VAULT}", _VAULT),
    _s("vault-batch-token", f"batch {_VAULT_BATCH}", _VAULT_BATCH),
    _s("sshpass-quoted", "sshpass -p 'S3cr3tSSH' ssh ops@host", "S3cr3tSSH"),
    _s("sshpass-bare", "sshpass -p hunter2ssh ssh host", "hunter2ssh"),
    _s("redis-cli-a", "redis-cli -h cache -a R3disPass ping", "R3disPass"),
    _s("redis-cli-pass", "redis-cli --pass R3disPass2 ping", "R3disPass2"),
    _s("xml-password", "<password>xmlPw99</password>", "xmlPw99"),
    _s("xml-client-secret", "<clientSecret>abcxyz</clientSecret>", "abcxyz"),
    _s("slack-upper-case", _SLACK_UPPER),
    # zero-width and soft-hyphen characters inside keys and tokens
    _s("zero-width-in-key", "pass\u200dword=hunter2zw", "hunter2zw"),
    _s("zero-width-in-token", "xox\u200bb-2489562301-4915847102355-abcdefgh", "4915847102355"),
    _s("soft-hyphen-in-key", "api\u00adkey=Zq9vvmm", "Zq9vvmm"),
    _s("bom-and-word-joiner", "\ufeffsecret=\u2060Xq1wer", "Xq1wer"),
    _s("phone-us-trunk-prefix", "call 1-800-555-0199 now", "555-0199"),
    # name and value apart: other elements or attributes, later lines, nested objects, heredocs, continued commands
    _s("xml-name-value-elements", "<property>\n  <name>db.password</name>\n  <value>Hx7pQ2mZ9w</value>\n</property>", "Hx7pQ2mZ9w"),
    _s("xml-value-before-name", "<property>\n  <value>Kq8vN3tR5y</value>\n  <name>ssl.keystore.password</name>\n</property>", "Kq8vN3tR5y"),
    _s("xml-value-on-its-own-line", "<name>db.password</name>\n<value>\n  Wp4sL7xC1v\n</value>", "Wp4sL7xC1v"),
    _s("plist-key-string", "<key>Password</key>\n<string>Zr6tB9nM2q</string>", "Zr6tB9nM2q"),
    _s("xml-property-attribute-wrapped", '<property name="javax.net.ssl.trustStorePassword"\n          value="Tj3kF8wQ5e"/>', "Tj3kF8wQ5e"),
    _s("xml-entry-key-text", '<entry key="db.password">Gm5rV2cX8z</entry>', "Gm5rV2cX8z"),
    _s("xml-entry-attributes-between", '<entry key="smtp.password" type="string" encrypted="false"\n  value="Ly9qD4hN7s"/>', "Ly9qD4hN7s"),
    _s("yaml-secret-over-a-value-field", "db_password:\n  value: Np2wK7tR4x\n", "Np2wK7tR4x"),
    _s("yaml-secret-nested-deeper", "secrets:\n  password:\n    current: Bv8mQ3zL6p\n", "Bv8mQ3zL6p"),
    _s("json-secret-over-an-object", '{"db": {"password": {"value": "Fc5nT9yW2k"}}}', "Fc5nT9yW2k"),
    _s("json-secret-object-over-lines", '{\n  "client_secret": {\n    "type": "string",\n    "value": "Qd7hR3mV9b"\n  }\n}', "Qd7hR3mV9b"),
    _s("json-value-on-the-next-line", '{\n  "api_token":\n    "Ut4pX8cK2n"\n}', "Ut4pX8cK2n"),
    _s("terraform-heredoc", "password = <<EOT\nRx9vH2kP5m\nEOT", "Rx9vH2kP5m"),
    _s("terraform-heredoc-indented", 'resource "aws_db_instance" "db" {\n  master_password = <<-EOF\n    Sg3wJ7qN1z\n  EOF\n}', "Sg3wJ7qN1z"),
    _s("shell-continued-mysql-p", "mysql -u root \\\n  -pVn6tY2rL8c db", "Vn6tY2rL8c"),
    _s("shell-continued-flag-value", "curl https://api.internal/v1 \\\n  --token \\\n  Ew5kM9pB3x", "Ew5kM9pB3x"),
    _s("powershell-continued", "Invoke-Sqlcmd -ServerInstance db `\n  -Password Jh8nC4wT6v", "Jh8nC4wT6v"),
    _s("cmd-continued", "docker login registry.internal ^\n  --password Hq2vZ7nK4m", "Hq2vZ7nK4m"),
    _s("azure-sas-in-connection-string",
       "BlobEndpoint=https://acct.blob.core.windows.net/;SharedAccessSignature=sig=Ab3dEf6hIj9kLmNo&se=2027-01-01&sr=c&sp=rl",
       "Ab3dEf6hIj9kLmNo"),
    _s("service-bus-connection-string",
       "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=Gt4+kP9/wQ2=", "Gt4+kP9/wQ2="),
    _s("event-hubs-connection-string",
       "Endpoint=sb://eh.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=Mz8+Wq3/Lp6=;EntityPath=orders",
       "Mz8+Wq3/Lp6="),
    _s("iot-hub-connection-string", "HostName=hub.azure-devices.net;DeviceId=dev1;SharedAccessKey=Rk2+Jn8/Vx5=", "Rk2+Jn8/Vx5="),
    _s("signalr-connection-string", "Endpoint=https://sig.service.signalr.net;AccessKey=Yb7+Hm2/Qc9=;Version=1.0;", "Yb7+Hm2/Qc9="),
    _s("ado-net-password-with-spaces",
       "Server=tcp:db.database.windows.net,1433;Initial Catalog=app;User ID=admin;Password=correct horse 9battery;Encrypt=True",
       "horse 9battery"),
    _s("odbc-pwd-in-braces", "Driver={ODBC Driver 18};Server=db;Uid=sa;Pwd={p;ss w0rd};", "ss w0rd"),
    _s("ado-net-password-quoted", "Data Source=db;User Id=app;Password='Pq 7;xz';", "Pq 7;xz"),
    _s("connection-string-password-first", "Password=my s3cret phrase;Server=db;Database=app", "s3cret phrase"),
]

NEGATIVE: list[tuple[str, str]] = [
    ("git-sha-40", "deployed 9f2c1ab0c4e5d6f7a8b9c0d1e2f3a4b5c6d7e8f9 to prod"),
    ("git-sha-7", "reverted 9f2c1ab in #4521"),
    ("uuid", "order 123e4567-e89b-12d3-a456-426614174000 failed"),
    ("semver", "upgraded to 1.2.3 yesterday"),
    ("semver-rc", "rollout of v2.14.0-rc1 paused"),
    ("four-part-version-v", "agent v1.2.3.4 and 1.2.3.4567"),
    ("iso-timestamps", "2024-05-01T10:02:03Z 2024-05-01T10:02:03.123+00:00 2024-05-01 10:02:03,456"),
    ("syslog", "May  1 10:02:03 host sshd[123]: session opened"),
    ("epochs", "epoch 1714557723000 and 1714557723"),
    ("durations", "took 1500ms, timeout after 30s, retry in 2m30s"),
    ("ports", "listening on :8080 and 0.0.0.0:9090, localhost:5432"),
    ("loopback", "curl http://127.0.0.1:8000/health"),
    ("netmask", "netmask 255.255.255.0 gateway"),
    ("ipv6", "::1 fe80::1 bound"),
    ("http-status", "got HTTP 502 then 503, 200 after rollback"),
    ("metrics", "p99=2300ms p50=120ms error_rate=0.04 cpu=93%"),
    ("latencies", "p99 120 350 1200 ms, 99.95% availability"),
    ("k8s-pod", "pod checkout-7d9f8b6c4-x2x9q OOMKilled"),
    ("k8s-node", "node ip-10-0-3-17.ec2.internal NotReady"),
    ("password-prose", "the password reset flow sent no email"),
    ("secret-prose", "the secret is to retry with backoff"),
    ("token-bucket", "token bucket refill rate too low"),
    ("keyword-names", "secret_name: db-creds, token_count=3, max_tokens: 512"),
    ("password-field-names", "password_reset_enabled=true, passwordless login"),
    ("env-reference", "password=${DB_PASSWORD} token=$SLACK_TOKEN"),
    ("empty-markers", "password: null, secret=*** api_key=<redacted>"),
    ("file-paths", "/var/log/nginx/access.log and src/auth/token_store.py:42"),
    ("bearer-prose", "the Bearer token expired; Authorization: required"),
    ("docker-digest", "image@sha256:4b1e8c2d and @alice in #incident"),
    ("counts", "counts 1234567890 2024050110"),
    ("plus-ones", "+1 from me, +1 500 502 503"),
    ("dates", "ISO dates 2024-05-01 and 2024/05/01"),
    ("docker-user", "docker run -u 1000:1000 app"),
    ("percent-text", "error rate 5% then 12%, 100%25 is not a token"),
    ("url-encoded-plain", "GET /search?q=hello%20world&page=2"),
    ("luhn-failing-digits", "order 4111111111111112 shipped"),
    ("slack-ts", "thread 1714557723.123456 reply"),
    ("monkey-key", "sort key=created_at, cache key=users:42"),
    ("grafana", "p99 latency on checkout-api above 2s for 5m"),
    ("git-ssh-remote", "git clone git@github.com:acme/checkout.git failed"),
    ("datadog-trace-id", "dd.trace_id=4839201948372019384 span ok"),  # 19 digits, Luhn-valid, not a card
    ("password-prose-is", "the password is wrong for svc-deploy, password was reset"),
    ("signature-prose", "signature verification failed for webhook"),
    ("cookie-prose", "cookie banner shows twice"),
    # Docker digests are content hashes of public images, not secrets: kept (as are git SHAs).
    ("docker-digest-full", "pulled nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31"),
    ("trace-ids", "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7"),
    ("request-id-uuid", "x-request-id: 7f3c9a2e-1b4d-4e8a-9c6f-2d5b8e1a3f7c"),
    ("api-key-prose", "ERROR auth: invalid api key for tenant 42"),
    ("redis-key", "Redis key=cart:1234 evicted; keyspace hits 98%"),
    ("token-expired-prose", "JWT validation failed: token expired at 2024-05-01T10:00:00Z"),
    ("access-log-path", "access_log=/var/log/access.log api_version=2023-10-01"),
    ("test-results", "passed 120/120 tests in 4.2s"),
    # ordinary words after a key name are prose, not values
    ("token-expired-word", "token: expired"),
    ("password-rotated-word", "password: rotated (see vault)"),
    ("secret-mounted-word", "Secret: db-creds mounted"),
    ("api-key-see-1password", "api-key: see 1password"),
    # name/value, tables, YAML and k8s look-alikes that hold no secret
    ("k8s-env-plain", "env:\n  - name: LOG_LEVEL\n    value: debug\n  - name: REGION\n    value: eu-west-1"),
    ("json-name-value-plain", '{"name": "replicas", "value": "3"}'),
    ("dotnet-app-config-plain", '<add key="LogLevel" value="Debug"/>'),
    ("ssm-parameter-plain", '{"Key": "region", "Value": "eu-west-1"}'),
    ("hostname-value-yaml", "hostname: db-password-rotator\nvalue: 3"),
    ("k8s-configmap-json", '{"kind": "ConfigMap", "data": {"region": "eu-west-1"}}'),
    ("k8s-configmap-data", "kind: ConfigMap\ndata:\n  LOG_LEVEL: debug\n  region: eu-west-1"),
    ("k8s-secret-key-ref", "env:\n  - name: DB_PASSWORD\n    valueFrom:\n      secretKeyRef:\n        name: db\n        key: password"),
    ("markdown-table-plain", "| service | p99 | errors |\n|---|---|---|\n| checkout | 2.3s | 4% |"),
    ("markdown-token-column-empty", "| token | status |\n|---|---|\n| (none) | expired |\n| n/a | - |"),
    ("markdown-password-policy", "| password policy | status |\n|---|---|\n| rotate every 90 days | done |"),
    ("yaml-nested-mapping", "credentials:\n  username: svc-deploy\n  passwordFile: /etc/pw"),
    ("url-port-path-at", "see https://wiki.internal:8443/users/ops@acme"),
    ("redis-url-no-credentials", "connect redis://cache:6379/0 refused"),
    ("xml-count-tag", "<token-count>3</token-count>"),
    ("zero-width-prose", "deploy\u200b done"),
    ("vault-word", "the hvs.legacy flag"),
    ("yaml-next-line-prose", "error: invalid value\n  at line 3"),
    ("phone-toll-free-words", "call 1-800-FLOWERS"),
    # spanning look-alikes: pairs that name no secret, commands continued without one, heredocs of plain text
    ("xml-property-plain", "<property>\n  <name>dfs.replication</name>\n  <value>3</value>\n</property>"),
    ("xml-entry-plain", '<entry key="log.level"\n  value="debug"/>'),
    ("xml-password-policy-element", "<name>password.min.length</name>\n<value>12</value>"),
    ("continued-command-plain", "kubectl rollout undo deploy/checkout \\\n  --to-revision=41 \\\n  -n prod"),
    ("markdown-fence-backticks", "```\nkubectl get pods\n```\nthen it recovered"),
    ("heredoc-plain", "user_data = <<EOT\n#!/bin/bash\nyum update -y\nEOT"),
    ("connection-string-plain", "Server=tcp:db.database.windows.net,1433;Database=app;Encrypt=True;Connection Timeout=30"),
    ("yaml-secret-ref-nested", "password:\n  secretRef: db-creds\n  file: /run/secrets/db\n"),
]
