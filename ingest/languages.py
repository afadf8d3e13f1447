"""Language tags: masters carry ISO 639-2 codes, manifests want BCP 47 (RFC 5646)."""

from __future__ import annotations

import re

_TWO_LETTER = {
    "eng": "en",
    "fra": "fr",
    "fre": "fr",
    "deu": "de",
    "ger": "de",
    "spa": "es",
    "ita": "it",
    "por": "pt",
    "nld": "nl",
    "dut": "nl",
    "jpn": "ja",
    "zho": "zh",
    "chi": "zh",
    "kor": "ko",
    "rus": "ru",
    "ara": "ar",
    "hin": "hi",
    "swe": "sv",
    "nor": "no",
    "dan": "da",
    "fin": "fi",
    "pol": "pl",
    "tur": "tr",
    "ces": "cs",
    "cze": "cs",
    "ell": "el",
    "gre": "el",
    "heb": "he",
}


def bcp47(code: str | None) -> str:
    """``eng`` -> ``en``; anything unknown or malformed becomes ``und``."""
    if not code:
        return "und"
    code = code.strip().lower()
    if code in _TWO_LETTER:
        return _TWO_LETTER[code]
    return code if re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})*", code) else "und"
