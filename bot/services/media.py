"""Images staff attach to broadcasts: stored once, served to LINE over HTTPS.

LINE fetches an image message's picture from our URL; the ID is random, so the URL cannot
be guessed, and the picture is re-encoded (no EXIF location or camera data is kept).
"""

from __future__ import annotations

import io
import secrets
from datetime import datetime

from flask import Blueprint, Flask, Response
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from bot.codes import url_tokens
from bot.store.db import database
from bot.store.models import Entity, Media

_ID_LENGTH = Media.id.type.length

ORIGINAL_PX, PREVIEW_PX = 2048, 480
blueprint = Blueprint("media", __name__)


class NotAnImage(ValueError):
    pass


def _jpeg(image: Image.Image, size: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((size, size))
    buffer = io.BytesIO()
    copy.save(buffer, "JPEG", quality=85, optimize=True)
    return buffer.getvalue()


def store(session: Session, entity: Entity, data: bytes, now: datetime) -> Media:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise NotAnImage(str(error)) from None
    media = Media(id=secrets.token_urlsafe(16), entity_id=entity.id,
                  original=_jpeg(image, ORIGINAL_PX), preview=_jpeg(image, PREVIEW_PX),
                  created_at=now)
    session.add(media)
    session.flush()
    return media


def _serve(media_id: str, preview: bool) -> Response:
    data = None
    if url_tokens.could_be_ours(media_id, _ID_LENGTH):
        with database().transaction() as session:
            media = session.get(Media, media_id)
            data = None if media is None else (media.preview if preview else media.original)
    if data is None:
        return Response("Not found\n", 404, mimetype="text/plain")
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "public, max-age=604800, immutable"
    return response


@blueprint.get("/media/<media_id>.jpg")
def original(media_id: str):
    return _serve(media_id, preview=False)


@blueprint.get("/media/<media_id>/preview.jpg")
def preview(media_id: str):
    return _serve(media_id, preview=True)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)


