"""Hepburn romanisation of the shipped kana readings, for English names and romaji search.

The data has no English names for municipalities; their kana reading is exact, so a small
table gives 神山町 → "Kamiyama-cho" without a dictionary. Long vowels are written plainly
(とうきょう → "tokyo"), as on most signs.
"""

from __future__ import annotations

import re

_LONG_VOWEL = re.compile(r"(o)[ou](?![aeiou])|(u)u(?![aeiou])")

_DIGRAPHS = {
    "きゃ": "kya", "きゅ": "kyu", "きょ": "kyo", "しゃ": "sha", "しゅ": "shu", "しょ": "sho",
    "ちゃ": "cha", "ちゅ": "chu", "ちょ": "cho", "にゃ": "nya", "にゅ": "nyu", "にょ": "nyo",
    "ひゃ": "hya", "ひゅ": "hyu", "ひょ": "hyo", "みゃ": "mya", "みゅ": "myu", "みょ": "myo",
    "りゃ": "rya", "りゅ": "ryu", "りょ": "ryo", "ぎゃ": "gya", "ぎゅ": "gyu", "ぎょ": "gyo",
    "じゃ": "ja", "じゅ": "ju", "じょ": "jo", "びゃ": "bya", "びゅ": "byu", "びょ": "byo",
    "ぴゃ": "pya", "ぴゅ": "pyu", "ぴょ": "pyo", "ぢゃ": "ja", "ぢゅ": "ju", "ぢょ": "jo",
}
_SINGLE = dict(zip(
    "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわゐゑをん"
    "がぎぐげござじずぜぞだぢづでどばびぶべぼぱぴぷぺぽぁぃぅぇぉゃゅょゔ",
    ["a", "i", "u", "e", "o", "ka", "ki", "ku", "ke", "ko", "sa", "shi", "su", "se", "so",
     "ta", "chi", "tsu", "te", "to", "na", "ni", "nu", "ne", "no", "ha", "hi", "fu", "he", "ho",
     "ma", "mi", "mu", "me", "mo", "ya", "yu", "yo", "ra", "ri", "ru", "re", "ro", "wa", "i",
     "e", "o", "n", "ga", "gi", "gu", "ge", "go", "za", "ji", "zu", "ze", "zo", "da", "ji",
     "zu", "de", "do", "ba", "bi", "bu", "be", "bo", "pa", "pi", "pu", "pe", "po", "a", "i",
     "u", "e", "o", "ya", "yu", "yo", "vu"]))

#: The kana ending of each kind of municipality, longest first, and how English writes it.
_SUFFIXES = (("ちょう", "cho"), ("まち", "machi"), ("むら", "mura"), ("そん", "son"),
             ("し", "shi"), ("く", "ku"))
_KIND_OF_SUFFIX = {"cho": "町", "machi": "町", "mura": "村", "son": "村", "shi": "市", "ku": "区"}


def romanise(kana: str) -> str:
    """Hiragana to plain Hepburn: かみやま → "kamiyama", とうきょう → "tokyo"."""
    out: list[str] = []
    i = 0
    while i < len(kana):
        pair, char = kana[i:i + 2], kana[i]
        if pair in _DIGRAPHS:
            out.append(_DIGRAPHS[pair])
            i += 2
            continue
        if char == "っ" and i + 1 < len(kana):
            following = _DIGRAPHS.get(kana[i + 1:i + 3]) or _SINGLE.get(kana[i + 1], "")
            out.append("t" if following.startswith("ch") else following[:1])
        elif char == "ー":
            pass
        else:
            out.append(_SINGLE.get(char, char))
        i += 1
    # Long vowels before a consonant or at the end; いのうえ keeps its "ue".
    return _LONG_VOWEL.sub(lambda match: match.group(1) or match.group(2), "".join(out))


def mixed_spellings(name: str, kana: str) -> list[str]:
    """神山町, かみやまちょう → ["神山ちょう", "かみやま町"]: the place written half in kanji,
    half in kana, as people type it; [] when the reading's ending is not the kind's."""
    for ending, english in _SUFFIXES:
        kind = _KIND_OF_SUFFIX[english]
        if kana.endswith(ending) and name.endswith(kind) and len(kana) > len(ending):
            return [name[:-len(kind)] + ending, kana[:-len(ending)] + kind]
    return []


def municipality_name_en(name: str, kana: str) -> str:
    """神山町, かみやまちょう → "Kamiyama-cho"; the suffix follows the kanji and its reading."""
    for ending, english in _SUFFIXES:
        if kana.endswith(ending) and name.endswith(_KIND_OF_SUFFIX[english]) and len(kana) > len(ending):
            return romanise(kana[:-len(ending)]).capitalize() + "-" + english
    return romanise(kana).capitalize()
