"""Incident bytes → text: size cap, binary detection, BOMs and legacy encodings (via charset-normalizer)."""

from __future__ import annotations

import codecs
import re

import charset_normalizer

from bot.errors import InputError

# 50 MB is ~10x the biggest log the benchmarks fold in ~1 s; past that the prompt keeps <1% of it anyway, so
# refusing with a fix (cut the log to the incident window) serves the user better than a minute of folding.
MAX_INPUT_BYTES = 50 * 1024 * 1024

# Byte-order marks, longest first (UTF-32 LE starts with the UTF-16 LE mark).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Compressed files get their own fix (decompress first); other binaries get the generic one.
_COMPRESSED = {b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"(\xb5/\xfd": "zstd"}

# Unicode control characters (category Cc) except those real text carries: tab, newlines, form feed, and ESC
# for the ANSI colour codes in logs.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
# More than this share of other control characters means the "text" is really binary data.
_MAX_CONTROL_SHARE = 0.01


def too_big(size: int, where: str) -> InputError:
    return InputError(
        f"{where} is {size / 1e6:.0f} MB, over the {MAX_INPUT_BYTES // (1024 * 1024)} MB limit",
        "cut it to the incident's time window (e.g. grep the minutes around the outage) and pass that",
    )


def decode_incident(data: bytes, where: str) -> str:
    """Decode incident bytes, refusing binary data. ``where`` names the input in messages."""
    for magic, kind in _COMPRESSED.items():
        if data.startswith(magic):
            raise InputError(f"{where} is a {kind}-compressed file, not text", "decompress it first and pass the text")
    text = _decode(data)
    if text is None or _control_share(text) > _MAX_CONTROL_SHARE:
        raise InputError(
            f"{where} is a binary file (an image, archive or program?), not text",
            "pass the incident as text, a log file, or a Slack JSON export",
        )
    # Stray NULs and other controls in otherwise good text only confuse the model.
    return _CONTROL.sub("", text)


def _decode(data: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                return None
    # UTF-16 without a BOM is valid UTF-8 full of NULs, so NULs send the bytes to the detector instead.
    if b"\x00" not in data:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return _detect(data)


def _detect(data: bytes) -> str | None:
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    # Short Western text fits several code pages equally well; the detector then picks one alphabetically
    # (cp1250, turning "à" into "ŕ"). Windows-1252 is by far the commonest legacy encoding, so it wins ties.
    for match in matches:
        if match.chaos <= best.chaos and "cp1252" in match.could_be_from_charset:
            return data.decode("cp1252", errors="replace")
    return str(best)


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    sample = text[:65536]
    return len(_CONTROL.findall(sample)) / len(sample)
