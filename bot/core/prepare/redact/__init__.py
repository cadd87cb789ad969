"""Secrets and personal data → typed placeholders such as ``[REDACTED:aws-access-token]``.

The gitleaks rule list (data, ``gitleaks.toml``) does most of the work; ``local.py`` holds only what it
does not cover for chat and logs (low-entropy passwords, personal data, truncated vendor tokens).
"""

from bot.core.prepare.redact.engine import redact, redact_text
from bot.core.prepare.redact.local import luhn_ok, placeholder

__all__ = ["luhn_ok", "placeholder", "redact", "redact_text"]
