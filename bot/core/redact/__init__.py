"""Secrets and personal data → typed placeholders such as ``[REDACTED:aws-access-token]``.

The gitleaks rule list (data, ``gitleaks.toml``, run on RE2) does most of the work; ``local.py`` holds only
what it does not cover for chat and logs (low-entropy passwords, personal data, truncated vendor tokens), and
``structured.py`` the secrets whose name stands apart from the value (name/value fields, tables, YAML blocks,
Kubernetes Secrets).
"""

from bot.core.redact.engine import redact, redact_text
from bot.core.redact.local import luhn_ok, placeholder

__all__ = ["luhn_ok", "placeholder", "redact", "redact_text"]
