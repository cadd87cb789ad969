"""Strip chat-template tokens that leak into an answer when a server's template does not match the model.

llama-server falls back to ChatML for a model without a template, and the answer fills with ``<|im_end|>``;
Gemma's ``<end_of_turn>`` and Llama's ``<|eot_id|>`` leak the same way. They are one class: ``<|word|>`` tokens
plus Gemma's bracketed turn markers. A role word right after a turn-start token (``<|im_start|>assistant``) goes
with it. Text is held back only while its tail could still become a token, so a token split across chunks is
caught and ordinary ``<`` comparisons pass through.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"<\|[a-z0-9_]{1,32}\|>|<(?:start_of_turn|end_of_turn|eos|bos)>")
_BRACKETED = ("<start_of_turn>", "<end_of_turn>", "<eos>", "<bos>")
_PIPE_PREFIX = re.compile(r"<\|[a-z0-9_]{0,32}\|?")
_TURN_STARTS = frozenset({"<|im_start|>", "<start_of_turn>", "<|start_header_id|>"})
_ROLES = ("system", "user", "assistant", "model")


def _may_become_token(tail: str) -> bool:
    return bool(_PIPE_PREFIX.fullmatch(tail)) or any(t.startswith(tail) for t in _BRACKETED)


def _role_length(rest: str, final: bool) -> int | None:
    """Characters of a role word (and its newline) at the start of ``rest``; None = wait for more text."""
    for role in _ROLES:
        if rest.startswith(role):
            after = rest[len(role) : len(role) + 1]
            if not after and not final:
                return None
            if after.isalnum() or after == "_":  # "users": a word that starts like a role is text
                return 0
            return len(role) + (after == "\n")
        if role.startswith(rest) and not final:  # a strict prefix, including the empty string
            return None
    return 0


class TemplateTokenFilter:
    """Feed raw deltas, get clean text back; ``count`` is the number of tokens removed so far."""

    def __init__(self) -> None:
        self.count = 0
        self._held = ""
        self._after_turn_start = False

    def feed(self, chunk: str, *, final: bool = False) -> str:
        text, self._held = self._held + chunk, ""
        out: list[str] = []
        pos = 0
        while True:
            if self._after_turn_start:
                role = _role_length(text[pos:], final)
                if role is None:
                    self._held = text[pos:]
                    break
                pos += role
                self._after_turn_start = False
            match = _TOKEN.search(text, pos)
            if match is not None:
                out.append(text[pos : match.start()])
                self.count += 1
                self._after_turn_start = match.group() in _TURN_STARTS
                pos = match.end()
                continue
            cut = text.rfind("<", pos)
            if cut != -1 and not final and _may_become_token(text[cut:]):
                out.append(text[pos:cut])
                self._held = text[cut:]
            else:
                out.append(text[pos:])
            break
        return "".join(out)

    def close(self) -> str:
        """Whatever was held back, now that no more text can complete it."""
        return self.feed("", final=True)
