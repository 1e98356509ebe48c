"""`GET /media/<id>.jpg` and `/media/<id>/preview.jpg`: the pictures staff attach to
broadcasts, fetched by LINE (bot/services/media.py stores them)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response

from bot.services import media
from bot.store.db import database

blueprint = Blueprint("media", __name__)


def _serve(media_id: str, preview: bool) -> Response:
    data = None
    if media.could_be_id(media_id):  # a mangled or guessed address costs no transaction
        with database().transaction() as session:
            data = media.image(session, media_id, preview)
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
