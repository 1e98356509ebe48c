"""A verification belongs to the browser that started it (login CSRF), and the provider is
reached outside any transaction: what an attacker, a victim and a slow provider run into."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from bot.identity import binding, confirmation
from bot.store.models import IdentityVerification, VerificationAttempt, VerificationTicket
from cli import walkthrough
from tests.factories import (
    Chat,
    identity_rows,
    typed_text,
    url_path,
    verification_uri,
    verify_in_chat,
)


def attempts(db) -> list[VerificationAttempt]:
    with db.transaction() as session:
        return list(session.scalars(select(VerificationAttempt)))


def test_the_consent_page_names_the_line_account_and_binds_the_browser(app, chat, client):
    link = verification_uri(chat)
    page = walkthrough.Browser().get(link)
    assert "LINEの「花子」さんとして本人確認します" in page.text
    assert page.form("consent").fields["token"]

    response = client.get(link)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/identity/" in cookie
    assert "Secure" not in cookie  # the test server speaks http
    app.config["PUBLIC_BASE_URL"] = "https://furusato.example"
    assert "Secure" in client.get(link).headers["Set-Cookie"]


def test_an_authorisation_url_sent_to_a_victim_records_nothing(app, client, line, chat, db):
    """The attacker consents in their own browser, then sends the provider's page onward.
    The victim's browser holds no binding: it is shown a code for the attacker's chat, with a
    warning, and nothing is recorded unless that code is sent there; guessing it fails."""
    victim = Chat(app, client, line, name="被害者")
    victim.follow()
    attacker = walkthrough.Browser()
    consent = attacker.get(verification_uri(chat))
    at_provider = attacker.submit(consent, consent.form("consent"))

    elsewhere = walkthrough.Browser()
    page = walkthrough.sign_in(elsewhere, elsewhere.get(at_provider.url), "adult")
    assert page.status == 200 and page.outcome == "confirm_in_chat"
    assert "LINEの「花子」さんのトーク" in page.text
    assert "ご自分のLINEアカウントでなければ、コードを送ったり、人に教えたりしないでください" in page.text
    assert identity_rows(db, chat)[1] is None
    [attempt] = attempts(db)
    assert attempt.browser_binding and len(attempt.browser_binding) == 64
    assert attempt.outcome == "awaiting_chat" and attempt.code_verifier is None

    real = confirmation.find_code(typed_text(page))
    for k in range(1, 6):  # the attacker guesses; never the victim's code
        chat.say(f"本人確認コード {(int(real) + k) % 10 ** 6:06d}")
    assert "今回の本人確認は取り消し" in chat.text()
    assert identity_rows(db, chat)[1] is None
    assert attempts(db)[0].pending_result is None


def test_a_forwarded_start_link_puts_nothing_on_the_owners_account(app, client, line, chat, db):
    """花子 forwards her unused link. Whoever opens it consents in a browser of their own (it
    holds a binding, as hers would) and verifies their own card: the page shows a code for
    花子's chat, with the warning, and nothing is recorded. Their card reaches 花子's account
    only if that code is sent in 花子's own chat; from their own chat it does nothing."""
    link = verification_uri(chat)
    other = Chat(app, client, line, name="次郎")
    other.follow()
    browser = walkthrough.Browser()
    consent = browser.get(link)
    assert "LINEの「花子」さんとして本人確認します" in consent.text
    assert "ご自分のLINEのトークから送ると、本人確認が終わります" in consent.text
    page = walkthrough.sign_in(browser, browser.submit(consent, consent.form("consent")),
                               "parent")
    assert (page.status, page.outcome) == (200, "confirm_in_chat")
    assert "LINEの「花子」さんのトーク" in page.text
    assert "ご自分のLINEアカウントでなければ、コードを送ったり、人に教えたりしないでください" in page.text
    assert identity_rows(db, chat)[1] is None
    assert attempts(db)[0].outcome == "awaiting_chat"

    # The page's button opens LINE, where 次郎 is logged in: his chat, not 花子's.
    other.say(typed_text(page))
    assert "コードを待っている本人確認はありません" in other.text()
    assert identity_rows(db, chat)[1] is None and identity_rows(db, other)[1] is None
    assert page.browser.get(page.url).outcome == "awaiting_chat"  # no second look at the code
    assert identity_rows(db, chat)[1] is None
    # Only 花子's own chat finishes it: 次郎 would have to hand her the code, as the page
    # warns him not to.
    chat.say(typed_text(page))
    assert identity_rows(db, chat)[1] is not None


def test_a_cross_site_post_uses_nothing_and_shows_whose_account(app, chat, db):
    link = verification_uri(chat)
    victim = walkthrough.Browser()  # never opened the page: no cookie, no token
    page = victim.post(link, {})
    assert page.status == 403
    assert "LINEの「花子」さんとして本人確認します" in page.text
    assert "もう一度ボタンを押してください" in page.text
    assert victim.cookies == {}  # a refused request binds nobody
    with db.transaction() as session:
        assert session.scalars(select(VerificationTicket)).one().used_at is None
    assert attempts(db) == []
    # A token from another browser's page is no better.
    other = walkthrough.Browser().get(link)
    stolen = victim.post(link, other.form("consent").fields)
    assert stolen.status == 403 and attempts(db) == [] and victim.cookies == {}
    # The page it was shown opens the consent page afresh for the person who means it.
    fresh = victim.submit(page, page.form("consent"))
    assert fresh.status == 200 and victim.cookies
    assert walkthrough.sign_in(victim, victim.submit(fresh, fresh.form("consent")), "adult") \
        .outcome == "confirm_in_chat"


def test_a_refused_post_never_replaces_the_binding_cookie(app, client, chat, db):
    """Another site's form (its Origin, or the browser's Sec-Fetch-Site, says so) or a wrong
    token is refused without a Set-Cookie: the binding of an attempt in progress stays."""
    path = url_path(verification_uri(chat))
    page = client.get(path)
    held = client.get_cookie(binding.COOKIE, path=binding.COOKIE_PATH).value
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    for headers, form in [({}, {}), ({}, {"token": "0" * 64}),
                          ({"Origin": "https://evil.example"}, {"token": token}),
                          ({"Sec-Fetch-Site": "cross-site"}, {"token": token})]:
        refused = client.post(path, data=form, headers=headers)
        assert refused.status_code == 403, headers
        assert "Set-Cookie" not in refused.headers, headers
    app.config["IDENTITY_LIFF_ID"] = "1234567890-identity"
    for refused in (client.post("/identity/retry", data={"state": "x"},
                                headers={"Origin": "https://evil.example"}),
                    client.post("/identity/liff/begin", json={"idToken": "a.b.c"},
                                headers={"Sec-Fetch-Site": "cross-site"})):
        assert refused.status_code == 403 and "Set-Cookie" not in refused.headers
    assert client.get_cookie(binding.COOKIE, path=binding.COOKIE_PATH).value == held
    assert attempts(db) == []
    # The page's own form, as a browser sends it (no referrer: `Origin: null`), goes on.
    sent = client.post(path, data={"token": token},
                       headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert sent.status_code == 303 and "Set-Cookie" not in sent.headers


def test_only_the_browser_that_started_may_try_again(app, chat, db):
    page = walkthrough.verify(verification_uri(chat), "cancel")
    other = walkthrough.Browser()
    refused = other.submit(page, page.form("retry"))
    assert refused.status == 403 and "このブラウザでは続けられません" in refused.text
    assert walkthrough.try_again(page, "adult").outcome == "confirm_in_chat"


def test_a_guardian_finishing_in_another_browser_is_told_to_ask_the_child(app, chat, db):
    verify_in_chat(chat, "age17")
    [link] = walkthrough.links_in(chat.text())
    guardian = walkthrough.Browser()
    consent = guardian.get(link)
    assert "LINEの「花子」さんのための同意です" in consent.text
    at_provider = guardian.submit(consent, consent.form("consent"), relationship="parent",
                                  consent="yes")
    elsewhere = walkthrough.Browser()
    page = walkthrough.sign_in(elsewhere, elsewhere.get(at_provider.url), "parent")
    assert page.status == 403 and page.outcome == "unbound_guardian"
    assert "お子さまに、新しいリンクを送ってもらってください" in page.text
    assert "「本人確認」と送" not in page.text
    assert identity_rows(db, chat)[2] is None


def test_the_liff_page_binds_its_browser_too(app, line, chat, db):
    app.config["IDENTITY_LIFF_ID"] = liff_id = "1234567890-identity"
    id_token = line.issue_id_token(chat.user_id, liff_id.split("-")[0])
    begin = app.live_url + "/identity/liff/begin"
    without = walkthrough.Browser().post_json(begin, {"idToken": id_token})
    assert without.status == 403 and attempts(db) == []

    browser = walkthrough.Browser()
    browser.get(app.live_url + "/identity/liff")
    started = browser.post_json(begin, {"idToken": id_token})
    assert started.status == 200, started.text
    page = walkthrough.sign_in(browser, browser.get(json.loads(started.text)["location"]), "adult")
    assert page.outcome == "verified"


# A slow provider ------------------------------------------------------------------------------

def can_write(db, seconds: float = 0.5) -> bool:
    """Whether another connection can write the tickets now, waiting at most `seconds`."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database, timeout=seconds, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("UPDATE verification_ticket SET used_at = used_at")
            connection.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            connection.close()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f"SET lock_timeout = '{int(seconds * 1000)}ms'"))
            connection.execute(text("UPDATE verification_ticket SET used_at = used_at"))
            connection.rollback()
            return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


@pytest.fixture
def discovering_provider(app, db):
    """An outside provider found by discovery, which notes whether writes got through
    while its discovery document was being fetched."""
    seen: list[bool] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            issuer = f"http://127.0.0.1:{server.server_address[1]}"
            seen.append(can_write(db))
            body = json.dumps({"issuer": issuer, **{
                name: f"{issuer}/{name}" for name in ("authorization_endpoint", "token_endpoint",
                                                      "userinfo_endpoint", "jwks_uri")}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(IDENTITY_PROVIDER="digital_auth", IDENTITY_DISCOVERY="on",
                      IDENTITY_ISSUER=f"http://127.0.0.1:{server.server_address[1]}")
    yield seen
    server.shutdown()
    server.server_close()


def test_fetching_discovery_holds_no_lock(app, chat, db, discovering_provider):
    link = verification_uri(chat)
    browser = walkthrough.Browser()
    consent = browser.get(link)
    response = browser.http.request(
        "POST", link, redirect=False, encode_multipart=False,
        fields=consent.form("consent").fields, headers={"Cookie": browser.cookie_header(link)})
    assert response.status == 303
    assert response.headers["Location"].startswith(app.config["IDENTITY_ISSUER"])
    assert discovering_provider == [True]
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(IdentityVerification)) == 0
        assert session.scalars(select(VerificationTicket)).one().used_at is not None
