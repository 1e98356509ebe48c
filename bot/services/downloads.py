"""Files staff download from a link in the chat: signed, expiring, for one staff member.

`download_url` signs what to produce (a kind, the entity, an optional object) and who asked;
`GET /downloads/<token>` checks the signature and age, that the person is still staff of the
entity, and serves what the kind's producer makes. Features add kinds with `register_download`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, send_file
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from bot.codes import links
from bot.services import entities, staff
from bot.store.db import database
from bot.store.models import Entity, Person

SALT = "furusato.download.v1"
#: However long a link was made for, it is refused after a week.
MAX_EXPIRES_IN = 7 * 24 * 3600

Producer = Callable[[Session, Entity, int | None, datetime], tuple[str, bytes]]


@dataclass(frozen=True)
class Download:
    producer: Producer
    mimetype: str  # text/* is served as UTF-8


_registry: dict[str, Download] = {}
blueprint = Blueprint("downloads", __name__)


class NotFound(LookupError):
    """Raised by a producer when the object named in the link does not exist for the entity."""


def register_download(kind: str, producer: Producer, mimetype: str = "text/csv") -> None:
    """`producer(session, entity, object_id, now) -> (filename, bytes)`; again replaces it."""
    _registry[kind] = Download(producer, mimetype)


# Links -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Grant:
    """What a download link allows: one staff member, one entity, one kind (and object)."""
    kind: str
    entity_code: str
    person_id: int
    object_id: int | None
    expires_in: int

    def payload(self) -> dict:
        return {"k": self.kind, "e": self.entity_code, "p": self.person_id, "o": self.object_id,
                "x": self.expires_in}


def serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def download_url(config: Mapping[str, Any], kind: str, entity_code: str, object_id: int | None = None,
                 expires_in: int = 3600, *, person_id: int) -> str:
    """PUBLIC_BASE_URL/downloads/<token>, valid `expires_in` seconds for this staff member."""
    if not 0 < expires_in <= MAX_EXPIRES_IN:
        raise ValueError(f"expires_in must be 1–{MAX_EXPIRES_IN} seconds")
    grant = Grant(kind, entity_code, person_id, object_id, expires_in)
    token = serializer(config["SECRET_KEY"]).dumps(grant.payload())
    return f"{links.base(config)}/downloads/{token}"


def read(token: str, secret: str, now: datetime) -> Grant | None:
    """The grant of a token we signed and that has not expired, else None."""
    try:
        payload, signed_at = serializer(secret).loads(token, max_age=MAX_EXPIRES_IN,
                                                      return_timestamp=True)
    except BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(payload, dict):
        return None
    kind, code, person_id = payload.get("k"), payload.get("e"), payload.get("p")
    object_id, expires_in = payload.get("o"), payload.get("x")
    if not (isinstance(kind, str) and isinstance(code, str) and isinstance(person_id, int)
            and (object_id is None or isinstance(object_id, int))
            and isinstance(expires_in, int)):
        return None
    if (now - signed_at).total_seconds() > expires_in:
        return None
    return Grant(kind, code, person_id, object_id, expires_in)


# The view --------------------------------------------------------------------------------------

REFUSALS = {
    "invalid": (403, "このリンクは期限切れか、正しくありません。LINEのトークで「集計」、または"
                     "「アンケート一覧」の「結果」から新しいリンクを受け取ってください。",
                "This link has expired or is not valid. For a new one, send \"Figures\", or tap "
                "\"Results\" under \"Surveys\", in the LINE chat."),
    "not_staff": (403, "このファイルは、この団体の職員の方だけがダウンロードできます。",
                  "Only staff of this municipality can download this file."),
    "not_found": (404, "ファイルが見つかりません。", "No such file."),
}

PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>furusato</title></head>
<body><p>{ja}</p><p lang="en">{en}</p></body></html>
"""


def _private(response: Response) -> Response:
    # The link is a credential until it expires: never cached, never sent on as a referrer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _refusal(reason: str) -> Response:
    status, ja, en = REFUSALS[reason]
    return _private(Response(PAGE.format(ja=ja, en=en), status, mimetype="text/html"))


@blueprint.get("/downloads/<token>")
def download(token: str):
    now = datetime.now(UTC)
    grant = read(token, current_app.config["SECRET_KEY"], now)
    if grant is None:
        return _refusal("invalid")
    with database().transaction() as session:
        entity = entities.by_code(session, grant.entity_code)
        person = session.get(Person, grant.person_id)
        if entity is None or person is None or staff.role_at(session, person, entity.code) is None:
            return _refusal("not_staff")
        registered = _registry.get(grant.kind)
        if registered is None:
            return _refusal("not_found")
        try:
            filename, data = registered.producer(session, entity, grant.object_id, now)
        except NotFound:
            return _refusal("not_found")
    response = send_file(io.BytesIO(data), mimetype=registered.mimetype, as_attachment=True,
                         download_name=filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return _private(response)


def init_app(app: Flask) -> None:
    from bot.services import statistics

    register_download("statistics", statistics.csv_download)
    app.register_blueprint(blueprint)
