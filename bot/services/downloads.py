"""Files staff download from a link in the chat: signed, expiring, for one staff member.

`download_url` signs what to produce (a kind, the entity, an optional object) and who asked;
`produce` checks that the person is still staff of the entity and makes the file with the
kind's producer. `web/downloads.py` serves it at `GET /downloads/<token>`, and registers the
producers with `register_download` when the app starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from bot.codes import links
from bot.services import entities, staff
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


# Producing -------------------------------------------------------------------------------------

class Refused(Exception):
    """Nothing to serve: `reason` is "not_staff" or "not_found"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class File:
    filename: str
    data: bytes
    mimetype: str


def produce(session: Session, grant: Grant, now: datetime) -> File:
    """What the grant allows, made now for a person still staff of its entity (else Refused)."""
    entity = entities.by_code(session, grant.entity_code)
    person = session.get(Person, grant.person_id)
    if entity is None or person is None or staff.role_at(session, person, entity.code) is None:
        raise Refused("not_staff")
    registered = _registry.get(grant.kind)
    if registered is None:
        raise Refused("not_found")
    try:
        filename, data = registered.producer(session, entity, grant.object_id, now)
    except NotFound:
        raise Refused("not_found") from None
    return File(filename, data, registered.mimetype)
