"""The verification pages in headless Chromium (Debian's package, driven by Playwright),
through the sandbox provider, against the live test server: what a person taps and reads.
Every page runs under its Content-Security-Policy (web/security_headers.py): a style or script
the policy refused would show in the console, and fails the test; the staff's rotating-code
screen, the one page whose script draws what it shows, is driven here too."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import select

from bot.codes import links
from bot.identity import records
from bot.services import people
from bot.store.models import GuardianConsent
from cli import walkthrough
from tests.factories import KAMIYAMA, PIN, open_activity, staff_member, verification_uri

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # the `test` extra installs it
    sync_playwright = None

pytestmark = [
    pytest.mark.skipif(sync_playwright is None,
                       reason="playwright is not installed (pip install -e '.[test]')"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM),
                       reason=f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"),
]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert refused == [], "the policy refused part of a page"


def sign_in(page, persona: str) -> None:
    page.wait_for_selector("#persona-form")
    page.check(f'input[name="persona"][value="{persona}"]')
    page.fill('input[name="pin"]', PIN)
    page.click("#authenticate")


def outcome(page, expected: str) -> str:
    page.wait_for_selector(f'#outcome[data-outcome="{expected}"]', timeout=15_000)
    return page.inner_text("main")


def send_code(page, chat) -> None:
    """Tap the page's button: LINE opens the chat with the code typed in; send it."""
    href = page.get_attribute("#send-code", "href")
    assert href.startswith("https://line.me/R/oaMessage/%40furusato-demo/?")
    chat.say(unquote(urlsplit(href).query))


def test_an_adult_verifies_in_the_browser(app, chat, db, page):
    page.goto(verification_uri(chat))
    assert "同意して本人確認に進む" in page.inner_text("#proceed")
    assert "暗証番号" in page.inner_text("main")  # what is kept and what is not, before consent
    assert "LINEの「花子」さんとして本人確認します" in page.inner_text("main")  # whose account
    assert "ご自分のLINEのトークから送る" in page.inner_text("main")  # how it will end
    # The page's own style applies under its policy (#1f4e99).
    assert page.eval_on_selector("#proceed", "b => getComputedStyle(b).backgroundColor") \
        == "rgb(31, 78, 153)"
    page.click("#proceed")
    sign_in(page, "adult")
    shown = outcome(page, "confirm_in_chat")  # a link may have been forwarded: the chat decides
    assert "LINEの「花子」さんのトーク" in shown and "山田" not in shown
    send_code(page, chat)
    assert "本人確認ができました" in chat.text() and "神山町（徳島県）" in chat.text()
    page.reload()
    outcome(page, "verified")
    # LINE documents the percent-encoded form; a bare "@" still works but is deprecated.
    assert page.get_attribute("#back", "href") == "https://line.me/R/oaMessage/%40furusato-demo/"
    with db.transaction() as session:
        assert records.verification_of(session, people.find(session, chat.user_id)).name == "山田 太郎"


def test_a_cancel_then_trying_again_in_the_browser(app, chat, page):
    page.goto(verification_uri(chat))
    page.click("#proceed")
    sign_in(page, "cancel")
    assert "本人確認を中止しました" in outcome(page, "cancelled")
    page.click("#try-again")
    sign_in(page, "adult")
    outcome(page, "confirm_in_chat")
    send_code(page, chat)
    assert "本人確認ができました" in chat.text()


def test_a_minor_hands_the_device_to_a_guardian(app, chat, db, page):
    page.goto(verification_uri(chat))
    page.click("#proceed")
    sign_in(page, "age17")
    outcome(page, "confirm_in_chat")
    send_code(page, chat)
    assert "保護者の同意が必要です" in chat.text()
    [link] = walkthrough.links_in(chat.text())
    page.goto(link)  # the guardian, on the same device

    page.wait_for_selector("#consent")
    assert "鈴木 さくらさんは18歳未満のため" in page.inner_text("main")
    page.click("#proceed")  # nothing chosen yet
    assert "同意のチェックを入れてください" in page.inner_text(".problem")
    page.check('input[name="relationship"][value="parent"]')
    page.check('input[name="consent"]')
    page.click("#proceed")
    sign_in(page, "parent")
    assert "同意を受け付けました" in outcome(page, "guardian_consented")
    with db.transaction() as session:
        consent = session.scalars(select(GuardianConsent)).one()
        assert consent.relationship_to_minor == "parent"


def test_the_rotating_code_screen_draws_its_code(app, client, line, runner, db, page):
    """Its script fetches each step's image and shows it as a blob: all within its policy."""
    officer = staff_member(app, client, line, runner)
    _activity, session_id, _token = open_activity(app, KAMIYAMA, rotate_seconds=30)
    with db.transaction() as session:
        person_id = people.find(session, officer.user_id).id
    page.goto(links.rotating_url(app.config, session_id, person_id))
    page.click("button[type=submit]")
    page.wait_for_selector('#qr[src^="blob:"]', timeout=15_000)
    assert page.inner_text("#left") != "–"  # the countdown runs
