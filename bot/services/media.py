"""Images staff attach to broadcasts: stored once, served to LINE over HTTPS (web/media.py).

LINE fetches an image message's picture from our URL; the ID is random, so the URL cannot
be guessed, and the picture is re-encoded (no EXIF location or camera data is kept).
"""

from __future__ import annotations

import io
import secrets
from datetime import datetime

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Session

from bot.codes import url_tokens
from bot.store.models import Entity, Media

_ID_LENGTH = Media.id.type.length

ORIGINAL_PX, PREVIEW_PX = 2048, 480


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


def could_be_id(media_id: str) -> bool:
    """Whether `media_id` has the shape of the IDs `store` makes: nothing else is looked up."""
    return url_tokens.could_be_ours(media_id, _ID_LENGTH)


def image(session: Session, media_id: str, preview: bool) -> bytes | None:
    """The stored picture (or its preview), or None."""
    media = session.get(Media, media_id)
    if media is None:
        return None
    return media.preview if preview else media.original
