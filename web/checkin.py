"""Check-in codes on the web: QR images, posters, the staff's rotating code, the LIFF scanner.

- `GET /qr/<token>.png` is what the bot puts in LINE image messages: it is answered from the
  signed token alone, without the database, and cached for a day (a token never changes).
- `GET /qr/<token>/poster.(png|pdf)`: the A4 poster of the token's session.
- `GET /staff/rotating/<link>`: the chat's link to a screen at the venue, signed for one staff
  member and one session, for 10 minutes and one browser; its button (POST) records the link
  as used (a second browser is refused) and gives the browser the screen's pass
  (web/screen_pass.py) and goes on to `GET /staff/screen/<session>`, whose QR code
  renews every `rotate_seconds`, for that browser only and for 12 hours.
- `GET /liff/scan` and `POST /liff/checkin`: the scanner inside LINE. The page only sends the
  LIFF ID token and the scanned text; who is checking in comes from LINE's verification.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from babel.dates import format_datetime
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot import line
from bot.codes import checkin_codes
from bot.codes.links import ROTATING_LINK_SECONDS, ROTATING_SALT, ROTATING_SCREEN_SECONDS
from bot.codes.poster import poster
from bot.codes.qr import qr_png
from bot.domain.calendar import JST
from bot.domain.checkin import Code
from bot.i18n import N_, gettext, use_locale
from bot.services import activities, attendance, entities, people, used_links
from bot.store.db import database
from bot.store.models import Activity, ActivitySession, ActivityStatus, CheckInMethod, Entity, Staff
from conversations.checkin.messages import outcome_text
from conversations.notices import checkin as checkin_notices
from web import screen_pass

log = logging.getLogger(__name__)
blueprint = Blueprint("checkin", __name__)

#: LIFF ID tokens are JWTs of about a kilobyte; QR codes hold at most about 4,300 characters.
MAX_ID_TOKEN, MAX_SCANNED_TEXT = 4096, 4500
WEEKDAYS = "月火水木金土日"


# Answers ---------------------------------------------------------------------------------------

def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status, mimetype="text/plain")


def _not_found() -> Response:
    return _plain(404, "このQRコードは見つかりません。 / No such check-in code.")


def _gone(activity: Activity) -> Response:
    if activity.status == ActivityStatus.CANCELLED:
        return _plain(410, "この活動は中止になりました。 / This activity was cancelled.")
    return _plain(410, "この活動の受付は締め切られました。 / Check-in for this activity is closed.")


# QR images and posters -------------------------------------------------------------------------

def _basic_id() -> str:
    basic_id = current_app.config.get("LINE_BOT_BASIC_ID")
    if not basic_id:
        log.error("LINE_BOT_BASIC_ID is not set: QR codes cannot link to the account")
        abort(_plain(503, "QRコードは準備中です。 / Check-in codes are not configured yet."))
    return str(basic_id)


@lru_cache(maxsize=1024)
def _link_png(link: str) -> bytes:
    # LINE fetches the image and its preview at once, often several times: draw it once.
    return qr_png(link)


def _code(token: str) -> Code | None:
    try:
        return checkin_codes.read(token, current_app.config["SECRET_KEY"])
    except checkin_codes.InvalidCode:
        return None


@blueprint.get("/qr/<token>.png")
def qr_image(token: str):
    if _code(token) is None:
        return _not_found()
    response = Response(_link_png(checkin_codes.line_link(token, _basic_id())), mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _load(session: Session, session_id: int) -> ActivitySession | None:
    return session.scalar(
        select(ActivitySession)
        .options(joinedload(ActivitySession.activity).joinedload(Activity.entity))
        .where(ActivitySession.id == session_id))


def poster_when(starts_at: datetime, ends_at: datetime) -> str:
    """2026年12月5日（土）10:00〜12:00, in Japan time; the end's date only when it differs."""
    starts, ends = starts_at.astimezone(JST), ends_at.astimezone(JST)
    end = f"{ends:%H:%M}"
    if ends.date() != starts.date():
        end = f"{_day(ends, with_year=ends.year != starts.year)}{end}"
    return f"{_day(starts, with_year=True)}{starts:%H:%M}〜{end}"


def _day(moment: datetime, with_year: bool) -> str:
    pattern = "y年M月d日" if with_year else "M月d日"
    return f"{format_datetime(moment, pattern, locale='ja')}（{WEEKDAYS[moment.weekday()]}）"


def _entity_name(entity: Entity) -> str:
    if entity.is_prefecture:
        return entity.name
    return f"{entities.prefecture_row(entity.prefecture_code).name} {entity.name}"


@blueprint.get("/qr/<token>/poster.<any(png, pdf):fmt>")
def poster_file(token: str, fmt: str):
    code = _code(token)
    if code is None:
        return _not_found()
    with database().transaction() as session:
        activity_session = _load(session, code.session_id)
    if activity_session is None or activity_session.activity.entity.code != code.entity_code:
        return _not_found()
    activity = activity_session.activity
    if activity.status != ActivityStatus.OPEN:
        return _gone(activity)
    if activity.rotate_seconds:
        return _plain(404, "この活動のQRコードは会場の画面に表示されます。 / "
                           "This activity's code is shown on a screen at the venue.")
    data = poster(title=activity.title, entity_name=_entity_name(activity.entity),
                  when=poster_when(activity_session.starts_at, activity_session.ends_at),
                  where=activity.place, link=checkin_codes.line_link(token, _basic_id()), fmt=fmt)
    response = Response(data, mimetype="application/pdf" if fmt == "pdf" else "image/png")
    response.headers["Content-Disposition"] = f'inline; filename="checkin-{activity_session.id}.{fmt}"'
    return response


# The rotating code -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Bilingual:
    ja: str
    en: str

    def plain(self) -> str:
        return f"{self.ja} / {self.en}"

    def then(self, more: Bilingual) -> Bilingual:
        return Bilingual(self.ja + more.ja, f"{self.en} {more.en}")


def bilingual(message: str, **values: object) -> Bilingual:
    """A message in Japanese, then in English: a screen at a venue, or a link someone passed
    on, speaks to whoever looks at it."""
    said = []
    for locale in ("ja", "en"):
        with use_locale(locale):
            said.append(gettext(message).format(**values) if values else gettext(message))
    return Bilingual(*said)


class RotatingRefused(Exception):
    """The rotating page cannot be shown: an HTTP status and what to say (a msgid)."""

    def __init__(self, status: int, message: str, ask_again: bool = False):
        super().__init__(status, message)
        #: `ask_again`: the page says how to get a new link from the chat.
        self.status, self.message, self.ask_again = status, message, ask_again

    @property
    def text(self) -> Bilingual:
        return bilingual(self.message, hours=ROTATING_SCREEN_SECONDS // 3600)


_NEW_LINK = N_("スタッフメニューの「活動一覧」で、活動の「QRコード」を押すと新しいリンクが届きます。")
LINK_INVALID = N_("このリンクは期限切れか、正しくありません。")
NOT_HELD = N_("この画面は、LINEのリンクを開いたブラウザでだけ、開いてから{hours}時間表示できます。")
OLD_ADDRESS = N_("この画面のアドレスは使われなくなりました。")
LINK_USED = N_("このリンクはすでに使われています（開けるのは1つのブラウザだけです）。")


@dataclass(frozen=True)
class ScreenLink:
    """A link from the chat to a rotating-code screen, checked: ours, fresh, well formed."""

    session_id: int
    person_id: int
    nonce: str
    expires_at: datetime


def _signed(link: str) -> ScreenLink:
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=ROTATING_SALT)
    try:
        payload, signed_at = serializer.loads(link, max_age=ROTATING_LINK_SECONDS,
                                              return_timestamp=True)
    except BadSignature:  # SignatureExpired is one
        payload = signed_at = None
    if not (isinstance(payload, dict) and isinstance(payload.get("s"), int)
            and isinstance(payload.get("p"), int) and isinstance(payload.get("n"), str)
            and 16 <= len(payload["n"]) <= 32):
        raise RotatingRefused(403, LINK_INVALID, ask_again=True)
    return ScreenLink(payload["s"], payload["p"], payload["n"],
                      signed_at + timedelta(seconds=ROTATING_LINK_SECONDS))


def _unused(link: ScreenLink) -> ScreenLink:
    with database().transaction() as session:
        if used_links.used(session, link.nonce):
            raise RotatingRefused(409, LINK_USED, ask_again=True)
    return link


def _is_staff(session: Session, person_id: int, entity_id: int) -> bool:
    return session.scalar(select(Staff.id).where(
        Staff.person_id == person_id, Staff.entity_id == entity_id,
        Staff.removed_at.is_(None))) is not None


def _rotating_session(session_id: int, person_id: int) -> ActivitySession:
    """The session, if this staff member may show its rotating code now."""
    with database().transaction() as session:
        activity_session = _load(session, session_id)
        if activity_session is None:
            raise RotatingRefused(404, N_("この活動は見つかりません。"))
        activity = activity_session.activity
        if not _is_staff(session, person_id, activity.entity_id):
            raise RotatingRefused(403, N_("この活動の担当者ではないため、表示できません。"))
    if not activity.rotate_seconds:
        raise RotatingRefused(400, N_("この活動のQRコードは印刷用です（画面表示ではありません）。"))
    if activity.status != ActivityStatus.OPEN:
        raise RotatingRefused(410, N_("この活動の受付は終了しました（締切または中止）。"))
    return activity_session


def _held_session(session_id: int) -> ActivitySession:
    """The session of a screen this browser holds the pass of (web/screen_pass.py)."""
    person_id = screen_pass.holder(request, session_id, current_app.config["SECRET_KEY"])
    if person_id is None:
        raise RotatingRefused(403, NOT_HELD, ask_again=True)
    return _rotating_session(session_id, person_id)


def _private(response: Response) -> Response:
    # The link and the screen show a credential: never cached, never sent on as a referrer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _page(status: int = 200, **values) -> Response:
    words = {"heading": bilingual(N_("参加受付のQRコード")), "new_link": bilingual(_NEW_LINK)}
    html = render_template("rotating.html", words=words, **values)
    return _private(Response(html, status, mimetype="text/html"))


def _refused(refusal: RotatingRefused) -> Response:
    return _page(refusal.status, refusal=refusal.text, ask_again=refusal.ask_again)


def _describe(activity_session: ActivitySession) -> dict:
    activity = activity_session.activity
    return {"activity": activity, "entity_name": _entity_name(activity.entity),
            "when": poster_when(activity_session.starts_at, activity_session.ends_at)}


@blueprint.get("/staff/rotating/<link>")
def rotating_link(link: str):
    """The chat's link: which activity, and a button that opens its screen in this browser
    (a GET changes nothing, so a link preview opens no screen)."""
    try:
        signed = _signed(link)
        activity_session = _rotating_session(signed.session_id, signed.person_id)
        _unused(signed)
    except RotatingRefused as refusal:
        return _refused(refusal)
    return _page(opening=True, action=url_for("checkin.open_screen", link=link),
                 explain=bilingual(N_("このブラウザで、参加受付のQRコードを会場の画面に表示します。"
                                      "表示できるのはこのブラウザだけで、{hours}時間までです。"),
                                   hours=ROTATING_SCREEN_SECONDS // 3600),
                 button=bilingual(N_("この画面に表示する")), **_describe(activity_session))


@blueprint.post("/staff/rotating/<link>")
def open_screen(link: str):
    """Give this browser the screen's pass, and show the screen at an address without the link."""
    try:
        signed = _signed(link)
        _rotating_session(signed.session_id, signed.person_id)
        with database().transaction() as session:  # the first browser to open it, only
            if not used_links.use(session, signed.nonce, datetime.now(UTC), signed.expires_at):
                raise RotatingRefused(409, LINK_USED, ask_again=True)
    except RotatingRefused as refusal:
        return _refused(refusal)
    screen = url_for("checkin.rotating_page", session_id=signed.session_id)
    response = _private(redirect(screen, 303))
    return screen_pass.give(response, screen, signed.session_id, signed.person_id,
                            current_app.config)


@blueprint.get("/staff/screen/<int:session_id>")
def rotating_page(session_id: int):
    try:
        activity_session = _held_session(session_id)
    except RotatingRefused as refusal:
        return _refused(refusal)
    words = {"countdown": bilingual(N_("{seconds}秒後に新しいコードになります")),
             "how": bilingual(N_("スマートフォンのカメラかLINEで読み取ってください")),
             "offline": bilingual(N_("接続できません。再接続しています…"))}
    return _page(qr_path=url_for("checkin.rotating_qr", session_id=session_id),
                 seconds=activity_session.activity.rotate_seconds, screen_words=words,
                 server_ms=int(datetime.now(UTC).timestamp() * 1000), **_describe(activity_session))


def rotating_png(activity_session: ActivitySession, secret: str, basic_id: str,
                 now: datetime) -> bytes:
    """The QR code a rotating session shows at `now`: a new one every `rotate_seconds`."""
    return qr_png(checkin_codes.line_link(activities.token(activity_session, secret, now), basic_id))


@blueprint.get("/staff/screen/<int:session_id>/qr.png")
def rotating_qr(session_id: int):
    """`?step=` only keeps each step's URL distinct; the code is always the current one."""
    try:
        activity_session = _held_session(session_id)
    except RotatingRefused as refusal:
        text = refusal.text.then(bilingual(_NEW_LINK)) if refusal.ask_again else refusal.text
        return _private(_plain(refusal.status, text.plain()))
    png = rotating_png(activity_session, current_app.config["SECRET_KEY"], _basic_id(),
                       datetime.now(UTC))
    return _private(Response(png, mimetype="image/png"))


@blueprint.get("/staff/rotating/<link>/qr.png")
def old_rotating_qr(link: str):
    """What a screen opened before the pass existed asks for: it says why it stopped."""
    return _private(_plain(410, bilingual(OLD_ADDRESS).then(bilingual(_NEW_LINK)).plain()))


# LIFF ------------------------------------------------------------------------------------------

def _liff_id() -> str | None:
    return current_app.config.get("LIFF_ID") or None


@blueprint.get("/liff/scan")
def liff_scan():
    liff_id = _liff_id()
    if liff_id is None:
        return _plain(404, "Not found")
    return render_template("liff_scan.html", liff_id=liff_id)


def _error(status: int, message: str):
    return jsonify(error=message), status


def _liff_request() -> tuple[str, str] | None:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return None
    id_token, text = body.get("idToken"), body.get("text")
    if not (isinstance(id_token, str) and 0 < len(id_token) <= MAX_ID_TOKEN
            and isinstance(text, str) and 0 < len(text) <= MAX_SCANNED_TEXT):
        return None
    return id_token, text


@blueprint.post("/liff/checkin")
def liff_checkin():
    liff_id = _liff_id()
    if liff_id is None:
        return _error(404, "LIFF is not configured")
    fields = _liff_request()
    if fields is None:
        return _error(400, "expected JSON {idToken, text}")
    id_token, text = fields
    app = current_app._get_current_object()
    try:
        user_id = line.gateway(app).verify_id_token(id_token, liff_id.split("-", 1)[0])
    except line.LineUnavailable as error:
        log.warning("LIFF check-in: %s", error)
        return _error(503, "LINE could not be reached; please try again")
    if user_id is None:
        return _error(401, "the ID token was not accepted")
    answer = _check_in(app, user_id, checkin_codes.find_token(text))
    return jsonify(outcome=answer.outcome.value, message=answer.message)


@dataclass(frozen=True)
class _Answer:
    outcome: attendance.Outcome
    message: str


def _check_in(app: Flask, user_id: str, token: str | None) -> _Answer:
    """Check in, word the outcome and queue it for the chat too, in one transaction."""
    now = datetime.now(UTC)
    with database(app).transaction() as session:
        person = people.lock(session, user_id, now)
        person.last_access_at = now  # R8: a check-in is access
        result = (attendance.attempt(session, person, token, app.config["SECRET_KEY"], now,
                                   method=CheckInMethod.LIFF)
                  if token else attendance.Result(attendance.Outcome.INVALID))
        with use_locale(people.locale_of(person)):
            message = outcome_text(result)
        checkin_notices.tell_checked_in(session, person, result, now)
    return _Answer(result.outcome, message)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
