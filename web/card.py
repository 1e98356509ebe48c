"""The registration card's QR image: `GET /card/<token>.png` (R6).

Answered from the signed token alone, like the check-in QR images (`web/checkin.py`). An
expired or foreign token gets no image, so an old card shows nothing worth scanning.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, Flask, Response, current_app

from bot.codes import card_codes
from bot.codes.qr import qr_png

log = logging.getLogger(__name__)
blueprint = Blueprint("card", __name__)


def _plain(status: int, body: str) -> Response:
    return Response(body + "\n", status, mimetype="text/plain")


@blueprint.get("/card/<token>.png")
def card_qr(token: str):
    now = datetime.now(UTC)
    try:
        code = card_codes.read(token, current_app.config["SECRET_KEY"], now)
    except card_codes.ExpiredCardCode:
        return _plain(410, "この登録証のQRコードは期限切れです。"
                           "LINEで「登録証」と送ると新しいものが届きます。"
                           " / This card code has expired; send \"Card\" in LINE for a new one.")
    except card_codes.InvalidCardCode:
        return _plain(404, "このQRコードは見つかりません。 / No such card code.")
    basic_id = current_app.config.get("LINE_BOT_BASIC_ID")
    if not basic_id:
        log.error("LINE_BOT_BASIC_ID is not set: card codes cannot link to the account")
        return _plain(503, "QRコードは準備中です。 / Card codes are not configured yet.")
    response = Response(qr_png(card_codes.line_link(token, str(basic_id))), mimetype="image/png")
    # Private to the card holder's LINE, and worthless once the code has expired.
    remaining = max(0, int((code.expires_at - now).total_seconds()))
    response.headers["Cache-Control"] = f"private, max-age={remaining}"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
