"""The service's pages are never framed and run only their own scripts and styles
(web/security_headers.py): the identity pages, the registration card, the staff's rotating-code
screen, the LIFF scanner. The development tools (/_dev/…) are left alone."""

from __future__ import annotations

import re

from bot.codes import links
from bot.services import people
from tests.factories import (
    KAMIYAMA,
    kamiyama_resident,
    open_activity,
    staff_member,
    url_path,
    verification_uri,
)

TAGS = re.compile(r"<(?:script|style)\b[^>]*>")


def guarded(response) -> str:
    """The response's nonce, once its headers say: no frames, nothing but its own code."""
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'",
                      "object-src 'none'"):
        assert directive in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "*;" not in policy
    nonce = re.search(r"script-src 'nonce-([\w-]+)'", policy).group(1)
    assert f"style-src 'nonce-{nonce}'" in policy
    if response.mimetype == "text/html":  # every script and style of the page carries it
        assert all(f'nonce="{nonce}"' in tag for tag in TAGS.findall(response.text))
    return nonce


def test_the_identity_pages(app, client, chat):
    link = url_path(verification_uri(chat))
    consent = client.get(link)
    assert consent.status_code == 200 and TAGS.search(consent.text)
    first = guarded(consent)
    assert guarded(client.get(link)) != first  # a nonce for each response
    guarded(client.post(link, data={}))  # refused: the page again
    guarded(client.get("/identity/start/nonsense"))
    guarded(client.get("/identity/callback?code=x&state=unknown"))
    app.config["IDENTITY_LIFF_ID"] = "1234567890-identity"
    liff = client.get("/identity/liff")
    assert liff.status_code == 200 and len(TAGS.findall(liff.text)) == 3
    guarded(liff)
    guarded(client.post("/identity/liff/begin", json={}))


def test_the_registration_card_image(app, client, line, join):
    chat = kamiyama_resident(app, client, line, join)
    chat.say("登録証")
    [path] = re.findall(r"/card/[^/\"]+\.png", str(chat.last))
    image = client.get(path)
    assert image.status_code == 200 and image.mimetype == "image/png"
    guarded(image)
    guarded(client.get("/card/forged.png"))


def test_the_staff_rotating_code_screen(app, client, line, runner, db):
    officer = staff_member(app, client, line, runner)
    _activity, session_id, _token = open_activity(app, KAMIYAMA, rotate_seconds=30)
    with db.transaction() as session:
        person_id = people.find(session, officer.user_id).id
    link = url_path(links.rotating_url(app.config, session_id, person_id))
    guarded(client.get(link))
    opened = client.post(link)
    assert opened.status_code == 303
    guarded(opened)
    screen = client.get(opened.headers["Location"])
    assert screen.status_code == 200 and len(TAGS.findall(screen.text)) == 2
    guarded(screen)
    guarded(client.get(opened.headers["Location"] + "/qr.png?step=1"))


def test_the_liff_scanner_page(app, client):
    app.config["LIFF_ID"] = "1234567890-abcdefgh"
    page = client.get("/liff/scan")
    assert page.status_code == 200 and len(TAGS.findall(page.text)) == 3
    policy = page.headers["Content-Security-Policy"]
    assert "https://static.line-scdn.net" in policy  # LINE's SDK, which the page loads
    guarded(page)


def test_the_development_tools_are_left_alone(client):
    simulator = client.get("/_dev/chat/")
    assert simulator.status_code == 200
    assert "Content-Security-Policy" not in simulator.headers
    assert "X-Frame-Options" not in simulator.headers
