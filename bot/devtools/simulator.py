"""The browser chat simulator: chat with the bot at /_dev/chat as if on a phone in LINE.

The page acts through a small JSON API. Each action becomes a webhook event built with
`bot.devtools.events`, signed and POSTed over real HTTP to the app's own /callback, exactly as
LINE does; what the bot sends back is read from the local LINE platform's deliveries.
The simulator keeps only each user's own actions, in memory (development and tests only).
"""

from __future__ import annotations

import math
import secrets
import threading
import time
import uuid
from collections import defaultdict
from typing import Any

import urllib3
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
)

from bot.devtools import events

#: LINE gives up on a webhook after a few seconds; the simulator waits a little longer to report.
CALLBACK_TIMEOUT_SECONDS = 10
MAX_IMAGE_BYTES = 10 * 1024 * 1024
LANGUAGES = ("ja", "en")

bp = Blueprint("simulator", __name__, url_prefix="/_dev/chat",
               template_folder="templates", static_folder="static")


class Simulator:
    """Each simulated user's own actions, and the pictures they sent, shared by all threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._actions: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._images: dict[str, tuple[bytes, str]] = {}
        # No retries: a second POST would be a second delivery of the same event.
        self.http = urllib3.PoolManager(maxsize=8, retries=False,
                                        timeout=CALLBACK_TIMEOUT_SECONDS)

    def record(self, user_id: str, action: dict[str, Any]) -> dict[str, Any]:
        entry = {"from": "user", "at": time.time(), **action}
        with self._lock:
            self._actions[user_id].append(entry)
        return entry

    def settle(self, entry: dict[str, Any], callback: dict[str, Any]) -> None:
        with self._lock:
            entry["callback"] = callback

    def actions(self, user_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._actions.get(user_id, [])]

    def blocked(self, user_id: str) -> bool:
        with self._lock:
            follows = [e for e in self._actions.get(user_id, []) if e["type"] in ("follow", "unfollow")]
        return bool(follows) and follows[-1]["type"] == "unfollow"

    def keep_image(self, message_id: str, data: bytes, content_type: str) -> None:
        with self._lock:
            self._images[message_id] = (data, content_type)

    def image(self, message_id: str) -> tuple[bytes, str] | None:
        with self._lock:
            return self._images.get(message_id)


def init_app(app: Flask) -> None:
    app.extensions["simulator"] = Simulator()
    app.register_blueprint(bp)


def _simulator() -> Simulator:
    return current_app.extensions["simulator"]


def _platform():
    return current_app.extensions["line_platform"]


def _fail(status: int, message: str):
    abort(make_response(jsonify(error=message), status))


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        _fail(400, "expected a JSON object")
    return body


def _string(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        _fail(400, f"{name} must be a non-empty string")
    return value


def _coordinate(body: dict[str, Any], name: str, limit: float) -> float:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or abs(value) > limit:
        _fail(400, f"{name} must be a number between -{limit:g} and {limit:g}")
    return float(value)


def _require_user(user_id: str) -> None:
    if user_id not in _platform().users:
        _fail(404, f"unknown user {user_id}")


def _user_json(user_id: str, profile: dict[str, Any]) -> dict[str, Any]:
    return {"userId": user_id, "displayName": profile.get("displayName"),
            "language": profile.get("language"), "blocked": _simulator().blocked(user_id)}


def _deliver(user_id: str, action: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """Record the user's action, then POST its event to /callback as LINE would."""
    entry = _simulator().record(user_id, action)
    body = events.webhook_body(event)
    headers = {"Content-Type": "application/json",
               "X-Line-Signature": events.signature(body, current_app.config["LINE_CHANNEL_SECRET"])}
    try:
        response = _simulator().http.request("POST", request.host_url + "callback",
                                             body=body, headers=headers)
    except urllib3.exceptions.HTTPError as error:
        callback = {"status": None, "error": str(error)}
    else:
        callback = {"status": response.status}
        if not 200 <= response.status < 300:
            callback["error"] = response.data.decode(errors="replace")[:500]
    _simulator().settle(entry, callback)
    return entry


def _reply_token(user_id: str) -> str:
    return _platform().issue_reply_token(user_id)


# The page ------------------------------------------------------------------------------------

@bp.get("/")
def page():
    return render_template("simulator.html")


# Users ---------------------------------------------------------------------------------------

@bp.get("/api/users")
def users():
    listed = [_user_json(user_id, profile) for user_id, profile in _platform().users.items()]
    return jsonify(users=listed)


@bp.post("/api/users")
def create_user():
    body = _json_body()
    name = _string(body, "displayName").strip()
    language = body.get("language")
    if language is not None and language not in LANGUAGES:
        _fail(400, "language must be 'ja', 'en' or null (no language in the LINE profile)")
    user_id = "U" + uuid.uuid4().hex
    _platform().add_user(user_id, name, language=language)
    entry = _deliver(user_id, {"type": "follow", "unblocked": False},
                     events.follow_event(user_id, reply_token=_reply_token(user_id)))
    return jsonify(user=_user_json(user_id, _platform().users[user_id]), entry=entry), 201


# Events --------------------------------------------------------------------------------------

def _event(user_id: str, body: dict[str, Any], blocked: bool) -> tuple[dict, dict]:
    """The page's request as (the action to show in the history, the webhook event)."""
    kind = body.get("type")
    if kind == "follow":
        event = events.follow_event(user_id, reply_token=_reply_token(user_id))
        event["follow"]["isUnblocked"] = blocked
        return {"type": "follow", "unblocked": blocked}, event
    if kind == "unfollow":
        return {"type": "unfollow"}, events.unfollow_event(user_id)
    if kind == "text":
        text = _string(body, "text")
        return {"type": "text", "text": text}, events.text_event(
            text, user_id, reply_token=_reply_token(user_id))
    if kind == "postback":
        data = _string(body, "data")
        display_text = _string(body, "displayText", required=False)
        params = body.get("params")
        if params is not None and not (isinstance(params, dict)
                                       and all(isinstance(v, str) for v in params.values())):
            _fail(400, "params must be an object of strings")
        action = {"type": "postback", "data": data, "displayText": display_text, "params": params}
        return action, events.postback_event(data, user_id, params, reply_token=_reply_token(user_id))
    if kind == "location":
        latitude = _coordinate(body, "latitude", 90)
        longitude = _coordinate(body, "longitude", 180)
        title = _string(body, "title", required=False)
        action = {"type": "location", "latitude": latitude, "longitude": longitude, "title": title}
        return action, events.location_event(latitude, longitude, user_id, title=title,
                                             reply_token=_reply_token(user_id))
    _fail(400, "type must be one of text, postback, location, follow, unfollow")


@bp.post("/api/users/<user_id>/events")
def send_event(user_id: str):
    _require_user(user_id)
    body = _json_body()
    blocked = _simulator().blocked(user_id)
    if blocked and body.get("type") != "follow":
        _fail(409, "the user has blocked the bot: unblock (follow) first")
    action, event = _event(user_id, body, blocked)
    return jsonify(entry=_deliver(user_id, action, event))


@bp.post("/api/users/<user_id>/images")
def send_image(user_id: str):
    _require_user(user_id)
    if _simulator().blocked(user_id):
        _fail(409, "the user has blocked the bot: unblock (follow) first")
    upload = request.files.get("file")
    if upload is None or not upload.mimetype.startswith("image/"):
        _fail(400, "send an image file in the form field 'file'")
    data = upload.read(MAX_IMAGE_BYTES + 1)
    if not data or len(data) > MAX_IMAGE_BYTES:
        _fail(400, "the image must be between 1 byte and 10 MB")
    # LINE message IDs are decimal strings of about 18 digits.
    message_id = str(10**17 + secrets.randbelow(9 * 10**17))
    _platform().add_content(message_id, data, upload.mimetype)
    _simulator().keep_image(message_id, data, upload.mimetype)
    action = {"type": "image", "messageId": message_id}
    event = events.image_event(user_id, message_id=message_id, reply_token=_reply_token(user_id))
    return jsonify(entry=_deliver(user_id, action, event))


@bp.get("/api/images/<message_id>")
def image(message_id: str):
    kept = _simulator().image(message_id)
    if kept is None:
        _fail(404, "no such image")
    data, content_type = kept
    return Response(data, mimetype=content_type)


# History and rich menu -----------------------------------------------------------------------

@bp.get("/api/users/<user_id>/history")
def history(user_id: str):
    """The user's actions and everything the bot sent them, in time order, and their rich menu."""
    _require_user(user_id)
    platform = _platform()
    sent = [{"from": "bot", "at": d.at, "via": d.via, "requestId": d.request_id,
             "messages": d.messages} for d in platform.deliveries(user_id)]
    # On a tie the user's action comes first: the bot answers what it has received.
    entries = sorted(_simulator().actions(user_id) + sent,
                     key=lambda e: (e["at"], e["from"] == "bot"))
    menu_id = platform.rich_menu_for(user_id)
    rich_menu = None
    if menu_id is not None and menu_id in platform.rich_menus:
        stored = platform.rich_menus[menu_id]
        rich_menu = {"richMenuId": menu_id, "menu": stored["menu"], "hasImage": stored["image"] is not None}
    return jsonify(entries=entries, richMenu=rich_menu, blocked=_simulator().blocked(user_id))


@bp.get("/api/richmenus/<rich_menu_id>/image")
def rich_menu_image(rich_menu_id: str):
    stored = _platform().rich_menus.get(rich_menu_id)
    if stored is None or stored["image"] is None:
        _fail(404, "no image for this rich menu")
    return Response(stored["image"], mimetype=stored["content_type"] or "image/png")
