"""Folding typed Japanese so that 「カミヤマ」「かみやま」「ｶﾐﾔﾏ」 all find 神山町."""

from __future__ import annotations

import unicodedata

_KATAKANA_START, _KATAKANA_END = ord("ァ"), ord("ヶ")
_HIRAGANA_OFFSET = ord("ぁ") - ord("ァ")


def to_hiragana(text: str) -> str:
    return "".join(
        chr(ord(c) + _HIRAGANA_OFFSET) if _KATAKANA_START <= ord(c) <= _KATAKANA_END else c
        for c in text)


def search_key(text: str) -> str:
    """NFKC (half-width kana, full-width digits), hiragana, no blanks or hyphens, lower case."""
    folded = unicodedata.normalize("NFKC", text)
    folded = to_hiragana(folded).replace("ゖ", "け").replace("ゕ", "か")  # 鶴ヶ島 = 鶴ケ島
    return "".join(folded.split()).replace("-", "").casefold()  # "Fuchu-shi" = "fuchushi"


def utf16_length(text: str) -> int:
    """LINE counts text limits in UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2
