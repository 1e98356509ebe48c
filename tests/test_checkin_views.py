"""Check-in codes on the web: QR images, posters, the rotating code page and the LIFF scanner (R12)."""

from __future__ import annotations

import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from PIL import Image
from sqlalchemy import func, select

from bot.codes import checkin_codes, links
from bot.codes.qr import decode_qr
from bot.delivery.worker import Worker
from bot.domain.checkin import rotation_step
from bot.services import activities, entities, people, registry, staff
from bot.store.models import (
    ActivityCategory,
    ActivitySession,
    ActivityStatus,
    CheckIn,
    OutboxMessage,
    OutboxStatus,
    Person,
    StaffRole,
    UsedLink,
)
from jobs import run_job
from tests.factories import KAMIYAMA, SAPPORO, url_path, user_id
from web import checkin as checkin_views
from web import screen_pass

LIFF_ID = "1234567890-abcdefgh"
CHANNEL_ID = "1234567890"
TITLE = "棚田の草刈り"
HANAKO = user_id("花子liff")


def create_activity(db, *, rotate_seconds: int | None = None, code: str = KAMIYAMA,
                    starts_in: timedelta = timedelta(minutes=-30)) -> int:
    """An activity of one session whose check-in window is open now; returns the session ID."""
    now = datetime.now(UTC)
    with db.transaction() as session:
        entity = entities.by_code(session, code)
        activity = activities.create(
            session, entity, title=TITLE, category=ActivityCategory.VOLUNTEER, designated=True,
            place="上分地区の棚田", windows=[(now + starts_in, now + starts_in + timedelta(hours=2))],
            now=now, rotate_seconds=rotate_seconds)
        return activity.sessions[0].id


def token_of(app, session_id: int, now: datetime | None = None) -> str:
    with app.extensions["db"].transaction() as session:
        return activities.token(session.get(ActivitySession, session_id), app.config["SECRET_KEY"],
                                now)


def finish(db, session_id: int, status: str) -> None:
    with db.transaction() as session:
        activities.finish(session.get(ActivitySession, session_id).activity, status)


def link_of(app, token: str) -> str:
    return checkin_codes.line_link(token, app.config["LINE_BOT_BASIC_ID"])


# QR images -------------------------------------------------------------------------------------

def test_the_qr_image_of_a_token_holds_the_line_link_and_is_cached_for_a_day(app, client, db):
    token = token_of(app, create_activity(db))

    response = client.get(url_path(links.qr_url(app.config, token)))

    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    assert decode_qr(response.data) == [link_of(app, token)]
    assert link_of(app, token).startswith("https://line.me/R/oaMessage/%40furusato-demo/?")


def test_the_qr_image_url_is_on_the_public_base_url(app):
    assert links.qr_url(app.config, "abc") == f"{app.live_url}/qr/abc.png"
    assert links.poster_url(app.config, "abc") == f"{app.live_url}/qr/abc/poster.pdf"


def tampered(token: str) -> str:
    return token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")


@pytest.mark.parametrize("make", [
    lambda app, token: tampered(token),
    lambda app, token: "x" * 40,
    lambda app, token: checkin_codes.sign(checkin_codes.read(token, app.config["SECRET_KEY"]),
                                          "another secret"),
], ids=["tampered", "nonsense", "another secret"])
def test_anything_but_our_token_is_not_found(app, client, db, make):
    token = make(app, token_of(app, create_activity(db)))
    for url in (f"/qr/{token}.png", f"/qr/{token}/poster.png", f"/qr/{token}/poster.pdf"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.mimetype == "text/plain"


def _detached_session(db, session_id: int) -> ActivitySession:
    with db.transaction() as session:
        found = session.get(ActivitySession, session_id)
        found.activity.entity  # loaded before the session closes
        return found


# Posters ---------------------------------------------------------------------------------------

def test_the_poster_png_is_an_a4_page_whose_code_opens_the_chat(app, client, db):
    token = token_of(app, create_activity(db))

    response = client.get(url_path(links.poster_url(app.config, token, "png")))

    assert response.status_code == 200 and response.mimetype == "image/png"
    page = Image.open(io.BytesIO(response.data))
    assert page.size == (1240, 1754)
    assert decode_qr(response.data) == [link_of(app, token)]


def test_the_poster_pdf_is_a_pdf(app, client, db):
    token = token_of(app, create_activity(db))

    response = client.get(url_path(links.poster_url(app.config, token, "pdf")))

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert "inline" in response.headers["Content-Disposition"]


def test_poster_dates_are_japan_time_with_the_weekday():
    starts = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 10:00 in Japan
    assert checkin_views.poster_when(starts, starts + timedelta(hours=2)) == "2026年12月5日（土）10:00〜12:00"
    assert checkin_views.poster_when(starts, starts + timedelta(days=1)) \
        == "2026年12月5日（土）10:00〜12月6日（日）10:00"
    late = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
    assert checkin_views.poster_when(late, late + timedelta(hours=12)) \
        == "2026年12月31日（木）21:00〜2027年1月1日（金）09:00"


def test_a_cancelled_activity_has_no_poster_any_more(app, client, db):
    session_id = create_activity(db)
    token = token_of(app, session_id)
    finish(db, session_id, ActivityStatus.CANCELLED)

    for fmt in ("png", "pdf"):
        response = client.get(f"/qr/{token}/poster.{fmt}")
        assert response.status_code == 410
        assert "中止" in response.text and "cancelled" in response.text


def test_an_unknown_format_is_not_found(app, client, db):
    token = token_of(app, create_activity(db))
    assert client.get(f"/qr/{token}/poster.svg").status_code == 404


# The rotating code -----------------------------------------------------------------------------

def staff_person_id(db, name: str, code: str = KAMIYAMA) -> int:
    now = datetime.now(UTC)
    with db.transaction() as session:
        person = people.lock(session, user_id(name), now)
        entity = entities.by_code(session, code)
        invitation = staff.invite(session, entity, StaffRole.STAFF, now)
        staff.redeem(session, invitation.code, person, now)
        return person.id


def read_code(app, png: bytes):
    [link] = decode_qr(png)
    return checkin_codes.read(checkin_codes.find_token(link), app.config["SECRET_KEY"])


def open_screen(client, url: str):
    """What the staff member does with the chat's link: opens it, taps the button. The answer
    to the tap (a redirect to the screen, with the browser's pass)."""
    link_page = client.get(url_path(url))
    assert link_page.status_code == 200 and 'method="post"' in link_page.text
    assert "Set-Cookie" not in link_page.headers  # opening the link (a preview, a crawler) binds nothing
    opened = client.post(url_path(url))
    assert opened.status_code == 303
    return opened


def screen_of(client, url: str) -> str:
    return open_screen(client, url).headers["Location"]


def test_the_rotating_page_shows_the_activity_and_its_renewing_code(app, client, db):
    session_id = create_activity(db, rotate_seconds=30)
    url = links.rotating_url(app.config, session_id, staff_person_id(db, "職員"))

    screen = screen_of(client, url)
    page = client.get(screen)
    before = rotation_step(datetime.now(UTC), 30)
    image = client.get(screen + "/qr.png?step=1")
    after = rotation_step(datetime.now(UTC), 30)

    assert screen == f"/staff/screen/{session_id}"  # the link itself stays out of the address bar
    assert page.status_code == 200
    assert TITLE in page.text and 'data-seconds="30"' in page.text
    assert "秒後に新しいコードになります" in page.text and "new code in" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert image.status_code == 200 and image.mimetype == "image/png"
    code = read_code(app, image.data)
    assert code.session_id == session_id and before <= code.step <= after


def test_the_rotating_code_changes_every_step(app, db):
    session_id = create_activity(db, rotate_seconds=30)
    activity_session = _detached_session(db, session_id)
    now = datetime.now(UTC)
    secret, basic_id = app.config["SECRET_KEY"], app.config["LINE_BOT_BASIC_ID"]

    first = checkin_views.rotating_png(activity_session, secret, basic_id, now)
    same_step = checkin_views.rotating_png(activity_session, secret, basic_id,
                                      datetime.fromtimestamp(rotation_step(now, 30) * 30, UTC))
    next_step = checkin_views.rotating_png(activity_session, secret, basic_id, now + timedelta(seconds=30))

    assert decode_qr(first) == decode_qr(same_step)
    assert decode_qr(first) != decode_qr(next_step)
    assert read_code(app, next_step).step == read_code(app, first).step + 1


def test_the_link_gives_this_browser_a_pass_for_this_screen_only(app, client, db):
    session_id = create_activity(db, rotate_seconds=30)
    url = links.rotating_url(app.config, session_id, staff_person_id(db, "職員"))

    cookie = open_screen(client, url).headers["Set-Cookie"]

    assert cookie.startswith(f"{screen_pass.COOKIE}=")
    for attribute in ("HttpOnly", "SameSite=Lax", f"Path=/staff/screen/{session_id}",
                      f"Max-Age={12 * 3600}"):
        assert attribute in cookie
    assert "Secure" not in cookie  # the test server is http://; production is https


def test_the_pass_is_secure_in_production(app, client, db):
    session_id = create_activity(db, rotate_seconds=30)
    app.config["PUBLIC_BASE_URL"] = "https://furusato.example.jp"
    url = links.rotating_url(app.config, session_id, staff_person_id(db, "職員"))

    assert "Secure" in open_screen(client, url).headers["Set-Cookie"]


def test_a_forwarded_link_or_screen_shows_no_code_in_another_browser(app, client, db):
    session_id = create_activity(db, rotate_seconds=30)
    url = links.rotating_url(app.config, session_id, person_id := staff_person_id(db, "職員"))
    screen = screen_of(client, url)
    elsewhere = app.test_client()  # the browser of someone the link or the screen's address went to

    page = elsewhere.get(screen)
    image = elsewhere.get(screen + "/qr.png?step=1")
    later = expired_link(app, session_id, person_id)  # the link, opened after its ten minutes
    late_page = elsewhere.get(f"/staff/rotating/{later}")
    late_tap = elsewhere.post(f"/staff/rotating/{later}")

    assert page.status_code == 403 and "data-qr" not in page.text and "<img" not in page.text
    assert "開いたブラウザでだけ" in page.text and "only in the browser that opened" in page.text
    assert "新しいリンク" in page.text and "For a new link" in page.text
    assert image.status_code == 403 and image.mimetype == "text/plain"
    assert late_page.status_code == 403 and late_tap.status_code == 403
    assert "期限切れ" in late_page.text and "Set-Cookie" not in late_tap.headers
    # The staff member's own browser goes on showing the code.
    assert client.get(screen).status_code == 200
    assert client.get(screen + "/qr.png?step=2").mimetype == "image/png"


def screen_pass_signed(app, session_id: int, person_id: int, age: int) -> str:
    """A pass as the screen's button gives it, `age` seconds ago."""
    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=screen_pass.SALT,
                                  signer=Then).dumps({"s": session_id, "p": person_id})


@pytest.mark.parametrize(("age", "status"), [(12 * 3600 - 60, 200), (12 * 3600 + 60, 403)],
                         ids=["within 12 hours", "after 12 hours"])
def test_the_staff_browser_shows_the_screen_for_twelve_hours(app, client, db, age, status):
    session_id = create_activity(db, rotate_seconds=30)
    held = screen_pass_signed(app, session_id, staff_person_id(db, "職員"), age)
    client.set_cookie(screen_pass.COOKIE, held, path=f"/staff/screen/{session_id}")

    assert client.get(f"/staff/screen/{session_id}/qr.png?step=1").status_code == status


def test_a_pass_opens_only_its_own_session(app, client, db):
    first, second = create_activity(db, rotate_seconds=30), create_activity(db, rotate_seconds=30)
    held = screen_pass_signed(app, first, staff_person_id(db, "職員"), 0)
    client.set_cookie(screen_pass.COOKIE, held, path=f"/staff/screen/{second}")

    assert client.get(f"/staff/screen/{second}").status_code == 403


def expired_link(app, session_id: int, person_id: int) -> str:
    class ElevenMinutesAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - checkin_views.ROTATING_LINK_SECONDS - 60

    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=checkin_views.ROTATING_SALT,
                                        signer=ElevenMinutesAgo)
    return serializer.dumps({"s": session_id, "p": person_id, "n": "0" * 32})


@pytest.mark.parametrize("make", [
    lambda app, s, p: expired_link(app, s, p),
    lambda app, s, p: links.rotating_link(s, p, "another secret"),
    lambda app, s, p: tampered(links.rotating_link(s, p, app.config["SECRET_KEY"])),
    lambda app, s, p: URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="other").dumps({"s": s, "p": p}),
    lambda app, s, p: URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="furusato.rotating.v1")
    .dumps({"s": s, "p": p}),
], ids=["expired", "another secret", "tampered", "another salt", "a 12-hour link of before"])
def test_an_expired_or_forged_link_is_forbidden_in_both_languages(app, client, db, make):
    session_id = create_activity(db, rotate_seconds=30)
    link = make(app, session_id, staff_person_id(db, "職員"))

    page = client.get(f"/staff/rotating/{link}")
    tap = client.post(f"/staff/rotating/{link}")

    assert page.status_code == 403 and tap.status_code == 403
    assert "期限切れ" in page.text and "expired" in page.text
    assert "Set-Cookie" not in tap.headers


def test_a_screen_opened_before_the_pass_says_why_it_stopped(client):
    image = client.get("/staff/rotating/an-old-link/qr.png?step=1")
    assert image.status_code == 410 and image.mimetype == "text/plain"
    assert "新しいリンク" in image.text and "new link" in image.text


def test_only_current_staff_of_the_entity_see_the_code(app, client, db):
    session_id = create_activity(db, rotate_seconds=30)
    elsewhere = links.rotating_url(app.config, session_id, staff_person_id(db, "札幌の職員", SAPPORO))
    leaving = staff_person_id(db, "異動する職員")
    screen = screen_of(client, links.rotating_url(app.config, session_id, leaving))
    assert client.get(screen).status_code == 200
    with db.transaction() as session:
        staff.remove(session, staff.role_at(session, session.get(Person, leaving), KAMIYAMA),
                     datetime.now(UTC))

    for response in (client.get(url_path(elsewhere)), client.post(url_path(elsewhere)),
                     client.get(screen)):
        assert response.status_code == 403
        assert "担当者ではない" in response.text and "not staff" in response.text
    assert client.get(screen + "/qr.png?step=1").status_code == 403


def test_a_printed_code_has_no_rotating_page(app, client, db):
    session_id = create_activity(db)
    response = client.get(url_path(links.rotating_url(app.config, session_id, staff_person_id(db, "職員"))))
    assert response.status_code == 400


def test_a_cancelled_activity_shows_no_rotating_code(app, client, db):
    session_id = create_activity(db, rotate_seconds=30)
    url = links.rotating_url(app.config, session_id, staff_person_id(db, "職員"))
    screen = screen_of(client, url)
    finish(db, session_id, ActivityStatus.CANCELLED)

    assert client.get(url_path(url)).status_code == 410
    assert client.get(screen).status_code == 410
    assert client.get(screen + "/qr.png?step=1").status_code == 410


# LIFF ------------------------------------------------------------------------------------------

@pytest.fixture
def liff(app, line):
    app.config["LIFF_ID"] = LIFF_ID
    line.add_user(HANAKO, "花子", "ja")
    return app


def register(db, line_user_id: str, code: str = KAMIYAMA) -> None:
    now = datetime.now(UTC)
    with db.transaction() as session:
        [entity] = entities.set_participation(session, [code], True)
        registry.register_basic(session, people.lock(session, line_user_id, now), entity, now)


def scan(client, line, text: str, client_id: str = CHANNEL_ID):
    return client.post("/liff/checkin", json={"idToken": line.issue_id_token(HANAKO, client_id),
                                              "text": text})


def test_the_scanner_page_starts_liff_with_our_id(liff, client):
    response = client.get("/liff/scan")

    assert response.status_code == 200
    assert 'src="https://static.line-scdn.net/liff/edge/2/sdk.js"' in response.text
    assert f'data-liff-id="{LIFF_ID}"' in response.text
    assert "scanCodeV2" in response.text and "closeWindow" in response.text


def test_a_registered_person_checks_in_with_the_scanner_and_the_chat_hears_it(liff, client, line, db):
    session_id = create_activity(db)
    register(db, HANAKO)
    text = link_of(liff, token_of(liff, session_id))  # what scanCodeV2 returns for the QR

    response = scan(client, line, text)
    queued = line.deliveries(HANAKO)
    Worker(liff).run_once()

    assert queued == []  # the page answers at once; the chat hears it from the worker
    assert response.status_code == 200
    assert response.json["outcome"] == "checked_in"
    assert TITLE in response.json["message"]
    with db.transaction() as session:
        check_in = session.scalars(select(CheckIn)).one()
        assert (check_in.session_id, check_in.method) == (session_id, "liff")
        person = people.find(session, HANAKO)
        assert person.last_access_at is not None
        queued = session.scalars(select(OutboxMessage)).one()
    [push] = line.deliveries(HANAKO)
    assert push.via == "push"
    assert push.messages == [{"type": "text", "text": response.json["message"]}]
    assert push.retry_key == queued.retry_key
    assert (queued.recipients, queued.status) == ([HANAKO], OutboxStatus.SENT)


def test_scanning_again_is_already_done_and_not_told_twice(liff, client, line, db):
    session_id = create_activity(db)
    register(db, HANAKO)
    text = link_of(liff, token_of(liff, session_id))
    scan(client, line, text)

    response = scan(client, line, text)
    Worker(liff).run_once()

    assert response.status_code == 200 and response.json["outcome"] == "already"
    assert len(line.deliveries(HANAKO)) == 1


def test_an_unregistered_person_is_told_to_register_first(liff, client, line, db):
    response = scan(client, line, link_of(liff, token_of(liff, create_activity(db))))

    assert response.json["outcome"] == "needs_registration"
    with db.transaction() as session:
        assert session.scalars(select(OutboxMessage)).all() == []


def test_a_scanned_code_that_is_not_ours_is_invalid(liff, client, line):
    for text in ("https://example.com/", "チェックイン " + "a" * 60):
        response = scan(client, line, text)
        assert response.status_code == 200 and response.json["outcome"] == "invalid"
        assert response.json["message"]


def test_a_failed_push_does_not_undo_the_check_in(liff, client, line, db):
    session_id = create_activity(db)
    register(db, HANAKO)
    line.inject("push", 400)

    response = scan(client, line, link_of(liff, token_of(liff, session_id)))
    summary = Worker(liff).run_once()

    assert response.status_code == 200 and response.json["outcome"] == "checked_in"
    assert summary.failed == 1
    with db.transaction() as session:
        assert session.scalars(select(CheckIn)).one().method == "liff"
        assert session.scalars(select(OutboxMessage)).one().status == OutboxStatus.FAILED


def test_an_id_token_for_another_channel_is_refused(liff, client, line, db):
    session_id = create_activity(db)
    register(db, HANAKO)

    response = scan(client, line, link_of(liff, token_of(liff, session_id)), client_id="9999999999")

    assert response.status_code == 401 and "error" in response.json
    with db.transaction() as session:
        assert session.scalars(select(CheckIn)).all() == []


def test_an_unknown_id_token_is_refused(liff, client):
    response = client.post("/liff/checkin", json={"idToken": "a.b.c", "text": "チェックイン x"})
    assert response.status_code == 401


def test_line_being_down_is_not_the_persons_fault(liff, client, line):
    line.inject("verify", 500)
    response = scan(client, line, "チェックイン " + "a" * 60)
    assert response.status_code == 503 and "error" in response.json


@pytest.mark.parametrize("body", [
    {"json": {}},
    {"json": {"idToken": "a.b.c"}},
    {"json": {"text": "チェックイン"}},
    {"json": {"idToken": 1, "text": "チェックイン"}},
    {"json": {"idToken": "a.b.c", "text": ""}},
    {"json": ["a.b.c", "text"]},
    {"data": "not json", "content_type": "application/json"},
    {"data": "[" * 50_000 + "]" * 50_000, "content_type": "application/json"},
    {"data": "idToken=a.b.c&text=x", "content_type": "application/x-www-form-urlencoded"},
], ids=["empty", "no text", "no token", "token not text", "empty text", "a list", "not json",
        "nested too deep", "a form"])
def test_a_malformed_request_is_a_400(liff, client, body):
    response = client.post("/liff/checkin", **body)
    assert response.status_code == 400 and "error" in response.json


def test_without_a_liff_id_there_is_no_scanner(app, client):
    app.config["LIFF_ID"] = None
    assert client.get("/liff/scan").status_code == 404
    assert client.post("/liff/checkin", json={"idToken": "a", "text": "b"}).status_code == 404


def test_the_chats_link_opens_the_screen_in_one_browser_only(app, client, db):
    """Forwarded at once, before its ten minutes are over, the link still opens nothing."""
    session_id = create_activity(db, rotate_seconds=30)
    url = links.rotating_url(app.config, session_id, staff_person_id(db, "職員"))
    screen = screen_of(client, url)
    elsewhere = app.test_client()

    page = elsewhere.get(url_path(url))
    tap = elsewhere.post(url_path(url))

    for answer in (page, tap):
        assert answer.status_code == 409 and "Set-Cookie" not in answer.headers
        assert "すでに使われています" in answer.text and "already been used" in answer.text
        assert "新しいリンク" in answer.text
    assert "data-qr" not in tap.text and elsewhere.get(screen).status_code == 403
    assert client.get(screen).status_code == 200  # the first browser keeps its screen


def test_two_browsers_opening_the_link_at_once_get_one_screen(app, db, database_template):
    if database_template[0] != "postgresql":
        pytest.skip("concurrent inserts of one key are proven on PostgreSQL")
    session_id = create_activity(db, rotate_seconds=30)
    url = url_path(links.rotating_url(app.config, session_id, staff_person_id(db, "職員")))
    barrier = threading.Barrier(8)

    def tap(_):
        browser = app.test_client()
        barrier.wait()
        return browser.post(url).status_code

    with ThreadPoolExecutor(8) as pool:
        answers = sorted(pool.map(tap, range(8)))

    assert answers == [303] + [409] * 7
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(UsedLink)) == 1


def test_used_links_are_forgotten_once_they_have_expired(app, client, db):
    session_id = create_activity(db, rotate_seconds=30)
    open_screen(client, links.rotating_url(app.config, session_id, staff_person_id(db, "職員")))

    assert "used links deleted" not in run_job(app, "cleanup", datetime.now(UTC)).counts
    later = run_job(app, "cleanup", datetime.now(UTC) + timedelta(minutes=11))

    assert later.counts["used links deleted"] == 1
