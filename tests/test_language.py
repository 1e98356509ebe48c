"""Japanese by default, English too: from the LINE profile, switchable in the chat."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALE_DIR, locale_from_language_tag
from tests.factories import KAMIYAMA, TOKUSHIMA, Chat

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_the_profile_language_picks_the_locale():
    assert locale_from_language_tag("ja") == "ja"
    assert locale_from_language_tag("en-US") == "en"
    assert locale_from_language_tag("zh-Hant") == "en"
    assert locale_from_language_tag(None) is None


def test_an_english_profile_is_greeted_in_english(app, client, line):
    chat = Chat(app, client, line, "Alice", "en")
    chat.follow()
    assert "Alice" in chat.text() and "furusato" in chat.text().lower()
    assert "Register" in chat.labels()


def test_a_profile_without_language_gets_japanese(app, client, line):
    chat = Chat(app, client, line, "名無し", None)
    chat.follow()
    assert "はじめまして" in chat.text()


def test_english_registration_end_to_end_has_no_untranslated_text(app, client, line, join):
    join(KAMIYAMA, TOKUSHIMA)
    chat = Chat(app, client, line, "Bob", "en")
    chat.follow()
    chat.tap("Register")
    chat.say("神山")
    chat.tap("Register")
    steps = [chat.text()]
    for _ in range(3):
        chat.tap("Skip")
        steps.append(chat.text())
    chat.tap("Skip")
    steps.append(chat.text())
    for text in steps:
        without_place_names = re.sub(r"神山町|徳島県|Tokushima", "", text)
        assert not JAPANESE.search(without_place_names), text


def test_switching_language_in_the_chat(app, client, line):
    chat = Chat(app, client, line, "花子", "ja")
    chat.follow()
    chat.say("設定")
    chat.tap("English")
    assert "English" in chat.text() and not JAPANESE.search(chat.text())
    chat.say("help")
    assert "Register" in chat.text()
    chat.say("日本語")
    assert "日本語で表示します" in chat.text()


CATALOGUE = LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po"


def test_the_english_catalogue_is_complete_and_keeps_placeholders():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings) and not message.fuzzy, f"untranslated: {ids[0]}"
        for string in strings:
            assert set(re.findall(r"\{\w+\}", ids[0])) == set(re.findall(r"\{\w+\}", string)), ids[0]


def test_the_compiled_catalogue_matches_its_source():
    from babel.messages.mofile import read_mo
    def entries(catalogue):
        return {_plain(m.id): _plain(m.string) for m in catalogue if m.id}

    with CATALOGUE.open("rb") as handle:
        source = entries(read_po(handle))
    with (CATALOGUE.with_suffix(".mo")).open("rb") as handle:
        compiled = entries(read_mo(handle))
    assert compiled == source, "run: pybabel compile -d locales"


def _plain(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def test_every_marked_string_is_in_the_template():
    """The template is extracted from the code: a string added without extraction fails here."""
    from babel.messages.extract import extract_from_dir
    root = LOCALE_DIR.parent
    keywords = {"_": None, "_l": None, "N_": None, "gettext": None, "ngettext": (1, 2)}
    found = set()
    for folder in ("bot", "conversations", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
                root / folder, keywords=keywords):
            found.add(message if isinstance(message, str) else message[0])
    with (LOCALE_DIR / "messages.pot").open("rb") as handle:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    assert found - template == set(), "run pybabel extract and update (README, Languages)"


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_button_labels_fit_lines_limit_in_every_language(locale):
    from bot.i18n import use_locale
    from conversations.common import menu_actions
    from conversations.registration.messages import CHOICE_LABELS
    with use_locale(locale):
        for action in menu_actions():
            assert len(action.label) <= 20
        for choices in CHOICE_LABELS.values():
            for label in choices.values():
                assert len("✓ " + str(label)) <= 20, label
