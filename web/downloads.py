"""`GET /downloads/<token>`: the files staff download from a link in the chat.

The link is signed and expires (bot/services/downloads.py); the file is made when asked, for
a person who is still staff of the link's entity.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from flask import Blueprint, Flask, Response, current_app, send_file

from bot.services import downloads, monitor_surveys, statistics
from bot.store.db import database

blueprint = Blueprint("downloads", __name__)
#: What each kind of link downloads: an entity's figures (R15), a monitor survey's answers (R11).
PRODUCERS = {"statistics": statistics.csv_download, "survey": monitor_surveys.csv_download}

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
    grant = downloads.read(token, current_app.config["SECRET_KEY"], now)
    if grant is None:
        return _refusal("invalid")
    with database().transaction() as session:
        try:
            file = downloads.produce(session, grant, now)
        except downloads.Refused as refused:
            return _refusal(refused.reason)
    response = send_file(io.BytesIO(file.data), mimetype=file.mimetype, as_attachment=True,
                         download_name=file.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return _private(response)


def init_app(app: Flask) -> None:
    for kind, producer in PRODUCERS.items():
        downloads.register_download(kind, producer)
    app.register_blueprint(blueprint)
