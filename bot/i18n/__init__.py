"""Translations: Japanese is the source language; the locale is chosen per event.

Strings are written in Japanese in the code and translated in `locales/<lang>/LC_MESSAGES`.
The current locale lives in a ContextVar, as aiogram's i18n middleware keeps it, so every
builder called while handling an event speaks that person's language.
"""

from __future__ import annotations

import gettext as _gettext
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.support import LazyProxy, Translations

import locales

SOURCE_LOCALE = "ja"
LOCALES = ("ja", "en")
LOCALE_DIR = Path(locales.__file__).parent

_current: ContextVar[str] = ContextVar("locale", default=SOURCE_LOCALE)


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    if locale == SOURCE_LOCALE:
        return _gettext.NullTranslations()
    return Translations.load(str(LOCALE_DIR), [locale], domain="messages")


def current_locale() -> str:
    return _current.get()


@contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    chosen = locale if locale in LOCALES else SOURCE_LOCALE
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, n)


def lazy_gettext(message: str) -> LazyProxy:
    """For strings defined at import time: translated when used, in that moment's locale."""
    return LazyProxy(gettext, message, enable_cache=False)


def mark(message: str) -> str:
    """Marks a msgid for extraction where it is translated later (command words)."""
    return message


_ = gettext
_l = lazy_gettext
N_ = mark


def in_every_locale(message: str) -> set[str]:
    """The message in each supported language, for matching typed commands."""
    forms = set()
    for locale in LOCALES:
        with use_locale(locale):
            forms.add(fold(gettext(message)))
    return forms


def typed_as(text: str, message: str) -> bool:
    """Whether typed text is this msgid in one of the languages (「スキップ」, "Skip")."""
    return fold(text) in typed_forms(message)


@cache
def typed_forms(message: str) -> frozenset[str]:
    """`in_every_locale`, kept: catalogues are loaded once per process, so a message's forms
    never change."""
    return frozenset(in_every_locale(message))


def fold(text: str) -> str:
    """Compare typed text loosely: full-width to half-width, case, surrounding blanks."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def locale_from_language_tag(tag: str | None) -> str | None:
    """LINE's profile gives a BCP 47 tag (`ja`, `en`, `en-US`, `zh-Hant`); map it to ours."""
    if not tag:
        return None
    primary = tag.split("-")[0].lower()
    if primary in LOCALES:
        return primary
    return "en"  # Someone who does not read Japanese is better served in English.
