"""`POST /callback` (LINE's webhook) and `GET /healthz`."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, abort, current_app, jsonify, request
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.webhook import WebhookParser
from sqlalchemy.exc import SQLAlchemyError

import handlers
from bot.delivery import outbox
from bot.store.db import database

log = logging.getLogger(__name__)
blueprint = Blueprint("webhook", __name__)


@blueprint.post("/callback")
def callback():
    signature = request.headers.get("X-Line-Signature")
    if not signature:
        abort(400, "missing X-Line-Signature")
    body = request.get_data(as_text=True)
    parser = WebhookParser(current_app.config["LINE_CHANNEL_SECRET"])
    try:
        events = parser.parse(body, signature)
    except InvalidSignatureError:
        abort(400, "invalid signature")
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        # A correctly signed body that is not a webhook payload (malformed JSON, wrong shape,
        # JSON nested deeper than the decoder goes).
        log.warning("malformed webhook body: %s", type(error).__name__)
        abort(400, "malformed body")
    app = current_app._get_current_object()
    for event in events:
        handlers.handle(app, event)
    return "OK"


@blueprint.get("/healthz")
def healthz():
    """The database answers (else 503), and whether the outgoing queue is paused.

    A paused queue is "degraded" with a 200: this process serves the webhook and the pages
    as ever, but messages that are not replies wait (LINE refused the channel's token, or
    asked us to slow down; `furusato outbox status` says more).
    """
    try:
        with database().transaction() as session:
            pause = outbox.current_pause(session)
    except SQLAlchemyError as error:
        log.error("health check: database unreachable: %s", type(error).__name__)
        return jsonify(status="error", database="unreachable"), 503
    if pause is None:
        return jsonify(status="ok", database="ok", outbox="sending")
    return jsonify(status="degraded", database="ok", outbox="paused", outbox_reason=pause.reason,
                   outbox_paused_since=pause.since.isoformat(timespec="seconds"),
                   outbox_resume_at=pause.resume_at.isoformat(timespec="seconds"))


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
