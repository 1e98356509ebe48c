"""The local LINE platform: the Messaging API endpoints the bot uses, for demo and tests.

The bot's line-bot-sdk client is pointed at `/_dev/line` (`Configuration(host=…)`), so it talks
to this blueprint over real HTTP as it would talk to LINE, api-data paths included (message
content, rich-menu images). Requests are checked the way LINE checks them (line_limits.py);
accepted messages are recorded for the tests and the chat simulator. All state is in memory.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from linebot.v3.messaging import (
    BroadcastRequest,
    MulticastRequest,
    NarrowcastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
)
from PIL import Image, UnidentifiedImageError

from bot.devtools import line_limits
from bot.devtools.line_limits import USER_ID

PREFIX = "/_dev/line"
#: Endpoint names for fault injection and the request log.
ENDPOINTS = ("reply", "push", "multicast", "narrowcast", "broadcast", "profile", "content",
             "richmenu", "verify")

REPLY_TOKEN_TTL = 60
RETRY_KEY_TTL = 24 * 3600
MAX_BODY = 2 * 1024 * 1024
MAX_RICH_MENU_IMAGE = 1024 * 1024
RICH_MENU_IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
#: Sent messages of these types can be quoted later, so LINE returns a quoteToken for them.
QUOTABLE = {"text", "textV2", "sticker", "image", "video"}
RETRY_KEY = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class Delivery:
    request_id: str
    to: str  # the recipient user ID
    via: str  # "reply" | "push" | "multicast" | "narrowcast" | "broadcast"
    messages: list[dict]  # as on the wire (camelCase), exactly as received
    retry_key: str | None
    at: float


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str  # as in LINE's reference, e.g. /v2/bot/message/push
    endpoint: str  # one of ENDPOINTS
    status: int
    retry_key: str | None
    request_id: str
    at: float


@dataclass
class _Fault:
    endpoint: str
    status: int | None
    remaining: int
    delay: float
    body: dict | str | bytes


@dataclass(frozen=True)
class _Accepted:
    request_id: str
    at: float
    sent_messages: list[dict]


class LinePlatform:
    """LINE as the bot sees it: users, tokens, rich menus and every message accepted.

    The dev server is threaded, so state is only touched under `_lock`.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        #: Token expiry reads this; tests replace it to move time forward.
        self.clock: Callable[[], float] = time.time
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.users: dict[str, dict] = {}
            self.rich_menus: dict[str, dict] = {}
            self.default_rich_menu_id: str | None = None
            self.requests: list[RequestRecord] = []
            self._user_rich_menus: dict[str, str] = {}
            self._deliveries: list[Delivery] = []
            self._reply_tokens: dict[str, tuple[str, float]] = {}
            self._retry_keys: dict[str, _Accepted] = {}
            self._faults: list[_Fault] = []
            self._contents: dict[str, tuple[bytes, str]] = {}
            self._id_tokens: dict[str, dict] = {}
            self._message_ids = itertools.count(500_000_000_000_000_001)

    def add_user(self, user_id: str, display_name: str, language: str | None = None) -> None:
        # LINE answers 400 to a malformed user ID, so a test user must look like a real one.
        if not USER_ID.fullmatch(user_id):
            raise ValueError(f"a LINE user ID is U and 32 hex digits, not {user_id!r}")
        profile = {"userId": user_id, "displayName": display_name}
        if language is not None:  # missing until the user accepts LINE's privacy policy
            profile["language"] = language
        with self._lock:
            self.users[user_id] = profile

    def issue_reply_token(self, user_id: str) -> str:
        token = secrets.token_hex(16)
        with self._lock:
            self._reply_tokens[token] = (user_id, self.clock())
        return token

    def deliveries(self, user_id: str | None = None) -> list[Delivery]:
        with self._lock:
            return [d for d in self._deliveries if user_id is None or d.to == user_id]

    def inject(self, endpoint: str, status: int | None = 500, times: int = 1,
               delay: float = 0.0, body: dict | str | bytes | None = None) -> None:
        """The next `times` requests to `endpoint` ("*": any) wait `delay` seconds, then get
        `status` with `body` instead of their answer (status None: the answer, only later).

        A dict is answered as JSON; text or bytes as they are (text/plain), so that even a
        200 can carry a body LINE would never send (`{"richmenus": "x"}`, or not JSON at all).
        """
        if endpoint != "*" and endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {ENDPOINTS} or '*'")
        fault = _Fault(endpoint, status, times, delay,
                       {"message": "injected fault"} if body is None else body)
        with self._lock:
            self._faults.append(fault)

    def add_content(self, message_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        with self._lock:
            self._contents[message_id] = (data, content_type)

    def rich_menu_for(self, user_id: str) -> str | None:
        with self._lock:
            return self._user_rich_menus.get(user_id, self.default_rich_menu_id)

    def issue_id_token(self, user_id: str, client_id: str, ttl: int = 600) -> str:
        with self._lock:
            if user_id not in self.users:
                raise KeyError(f"add_user({user_id!r}, …) first: an ID token carries the profile")
            profile = self.users[user_id]
            now = int(self.clock())
            claims = {"iss": "https://access.line.me", "sub": user_id, "aud": client_id,
                      "exp": now + ttl, "iat": now, "amr": ["linesso"],
                      "name": profile["displayName"]}
            if "pictureUrl" in profile:
                claims["picture"] = profile["pictureUrl"]
            # Shaped like LINE's (a JWT) so a page can decode it; only this platform verifies it.
            token = ".".join([_b64_json({"typ": "JWT", "alg": "ES256"}), _b64_json(claims),
                              secrets.token_urlsafe(32)])
            self._id_tokens[token] = claims
        return token

    # Used by the views below, with `_lock` held ----------------------------------------------

    def _take_fault(self, endpoint: str) -> _Fault | None:
        for fault in self._faults:
            if fault.endpoint in ("*", endpoint):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _use_reply_token(self, token: str) -> str | None:
        """The user a token was issued for; None when unknown, used or expired."""
        issued = self._reply_tokens.pop(token, None)
        if issued is None or self.clock() - issued[1] > REPLY_TOKEN_TTL:
            return None
        return issued[0]

    def _accepted(self, retry_key: str | None) -> _Accepted | None:
        accepted = self._retry_keys.get(retry_key) if retry_key else None
        if accepted and self.clock() - accepted.at < RETRY_KEY_TTL:
            return accepted
        return None

    def _deliver(self, request_id: str, via: str, recipients: list[str], messages: list[dict],
                 retry_key: str | None) -> list[dict]:
        """Record the messages for each recipient; returns LINE's `sentMessages`."""
        now = self.clock()
        sent = []
        for message in messages:
            entry = {"id": str(next(self._message_ids))}
            if message["type"] in QUOTABLE:
                entry["quoteToken"] = secrets.token_urlsafe(24)
            sent.append(entry)
        self._deliveries += [Delivery(request_id, to, via, messages, retry_key, now)
                             for to in recipients]
        if retry_key:
            self._retry_keys[retry_key] = _Accepted(request_id, now, sent)
        return sent


def init_app(app: Flask) -> None:
    app.register_blueprint(bp, url_prefix=PREFIX)
    app.extensions["line_platform"] = LinePlatform()


bp = Blueprint("line_platform", __name__)
_ENDPOINT_OF: dict[str, str] = {}  # Flask endpoint -> name in ENDPOINTS


def _route(rule: str, endpoint: str, method: str):
    def register(view):
        bp.add_url_rule(rule, view_func=view, methods=[method])
        _ENDPOINT_OF[f"{bp.name}.{view.__name__}"] = endpoint
        return view
    return register


class _Refusal(Exception):
    """An error answer as LINE gives it, raised from anywhere in a view."""

    def __init__(self, status: int, body: dict, headers: dict | None = None):
        super().__init__(status, body)
        self.status, self.body, self.headers = status, body, headers or {}


def _refuse(status: int, message: str, details: list | None = None) -> _Refusal:
    body: dict[str, Any] = {"message": message}
    if details:
        body["details"] = details
    return _Refusal(status, body)


@bp.errorhandler(_Refusal)
def _answer(refusal: _Refusal):
    return refusal.body, refusal.status, refusal.headers


def _platform() -> LinePlatform:
    return current_app.extensions["line_platform"]


def _request_id() -> str:
    # setdefault: an app-level hook may answer before ours runs, and the header is still due.
    return g.setdefault("line_request_id", str(uuid.uuid4()))


@bp.before_request
def _gate():
    endpoint = _ENDPOINT_OF[request.endpoint]
    platform = _platform()
    with platform._lock:
        fault = platform._take_fault(endpoint)
    if fault:
        time.sleep(fault.delay)  # outside the lock: a slow LINE must not stall other requests
        if fault.status is not None:
            if isinstance(fault.body, dict):
                return fault.body, fault.status
            return Response(fault.body, fault.status, content_type="text/plain")
    if endpoint != "verify":  # LIFF's verify takes no bearer token
        _authenticate()
    if len(request.get_data()) > MAX_BODY:
        raise _refuse(413, "Request Entity Too Large")
    return None


@bp.after_request
def _log(response: Response) -> Response:
    response.headers["X-Line-Request-Id"] = _request_id()
    platform = _platform()
    with platform._lock:
        platform.requests.append(RequestRecord(
            request.method, request.path.removeprefix(PREFIX), _ENDPOINT_OF[request.endpoint],
            response.status_code, request.headers.get("X-Line-Retry-Key"), _request_id(),
            platform.clock()))
    return response


def _authenticate() -> None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Bearer" or not token:
        raise _refuse(401, "Authorization header required. "
                           "Must follow the scheme, 'Authorization: Bearer <ACCESS TOKEN>'")
    if token != current_app.config["LINE_CHANNEL_ACCESS_TOKEN"]:
        raise _refuse(401, "Authentication failed. Confirm that the access token "
                           "in the authorization header is valid.")


def _json_object() -> dict:
    try:
        body = json.loads(request.get_data())
    except ValueError:
        raise _refuse(400, "The request body could not be parsed as JSON") from None
    if not isinstance(body, dict):
        raise _refuse(400, "The request body must be a JSON object")
    return body


def _require(problems: list[line_limits.Problem]) -> None:
    if problems:
        raise _refuse(400, f"The request body has {len(problems)} error(s)", problems)


def _send_request(model: type) -> dict:
    body = _json_object()
    check = line_limits.multicast_problems if model is MulticastRequest else line_limits.send_problems
    _require(check(model, body))
    return body


def _user_id(value: str, prop: str) -> str:
    if not USER_ID.fullmatch(value):
        raise _refuse(400, f"The property, '{prop}', in the request body is invalid")
    return value


# Sending ---------------------------------------------------------------------------------------

@_route("/v2/bot/message/reply", "reply", "POST")
def reply():
    if "X-Line-Retry-Key" in request.headers:
        raise _refuse(400, "X-Line-Retry-Key is not supported by this endpoint")
    platform = _platform()
    # Checked before the token, and outside the lock (the models' checks are the platform's
    # slowest part): a rejected reply leaves its token usable, as at LINE.
    body = _send_request(ReplyMessageRequest)
    with platform._lock:
        user_id = platform._use_reply_token(body["replyToken"])
        if user_id is None:
            raise _refuse(400, "Invalid reply token")
        sent = platform._deliver(_request_id(), "reply", [user_id], body["messages"], None)
    return {"sentMessages": sent}


@_route("/v2/bot/message/push", "push", "POST")
def push():
    sent = _send_once("push", PushMessageRequest, lambda body: [_user_id(body["to"], "to")])
    return {"sentMessages": sent}


@_route("/v2/bot/message/multicast", "multicast", "POST")
def multicast():
    _send_once("multicast", MulticastRequest,
               lambda body: [_user_id(to, f"to[{i}]") for i, to in enumerate(body["to"])])
    return {}


@_route("/v2/bot/message/narrowcast", "narrowcast", "POST")
def narrowcast():
    # The recipient filter is ignored: every known user gets it. LINE runs it asynchronously.
    _send_once("narrowcast", NarrowcastRequest, lambda _body: list(_platform().users))
    return {}, 202


@_route("/v2/bot/message/broadcast", "broadcast", "POST")
def broadcast():
    _send_once("broadcast", BroadcastRequest, lambda _body: list(_platform().users))
    return {}


def _send_once(via: str, model: type, recipients: Callable[[dict], list[str]]) -> list[dict]:
    """Deliver at most once per X-Line-Retry-Key; a rejected request leaves its key unused."""
    key = request.headers.get("X-Line-Retry-Key")
    if key is not None and not RETRY_KEY.fullmatch(key):
        raise _refuse(400, "The value for the 'X-Line-Retry-Key' header is invalid")
    platform = _platform()
    with platform._lock:
        accepted = platform._accepted(key)
        if accepted:
            body: dict[str, Any] = {"message": "The retry key is already accepted"}
            if via == "push":
                body["sentMessages"] = accepted.sent_messages
            raise _Refusal(409, body, {"X-Line-Accepted-Request-Id": accepted.request_id})
        body = _send_request(model)
        return platform._deliver(_request_id(), via, recipients(body), body["messages"], key)


# Profiles and content --------------------------------------------------------------------------

@_route("/v2/bot/profile/<user_id>", "profile", "GET")
def profile(user_id: str):
    platform = _platform()
    with platform._lock:
        found = platform.users.get(user_id)
        if found is None:
            raise _refuse(404, "Not found")
        return dict(found)


@_route("/v2/bot/message/<message_id>/content", "content", "GET")
def content(message_id: str):
    platform = _platform()
    with platform._lock:
        found = platform._contents.get(message_id)
    if found is None:
        raise _refuse(404, "Not found")
    data, content_type = found
    return Response(data, content_type=content_type)


# Rich menus ------------------------------------------------------------------------------------

def _rich_menu_request() -> dict:
    body = _json_object()
    _require(line_limits.rich_menu_problems(body))
    return body


def _rich_menu(rich_menu_id: str) -> dict:
    entry = _platform().rich_menus.get(rich_menu_id)
    if entry is None:
        raise _refuse(404, "Not found")
    return entry


def _applicable_rich_menu(rich_menu_id: str) -> None:
    if _rich_menu(rich_menu_id)["image"] is None:
        raise _refuse(400, "must upload richmenu image before applying it to user")


def _path_user_id(user_id: str) -> None:
    if not USER_ID.fullmatch(user_id):
        raise _refuse(400, "The value for the 'userId' parameter is invalid")


@_route("/v2/bot/richmenu", "richmenu", "POST")
def create_rich_menu():
    menu = _rich_menu_request()
    rich_menu_id = f"richmenu-{secrets.token_hex(16)}"
    platform = _platform()
    with platform._lock:
        platform.rich_menus[rich_menu_id] = {"menu": {**menu, "richMenuId": rich_menu_id},
                                             "image": None, "content_type": None}
    return {"richMenuId": rich_menu_id}


@_route("/v2/bot/richmenu/validate", "richmenu", "POST")
def validate_rich_menu():
    _rich_menu_request()
    return {}


@_route("/v2/bot/richmenu/list", "richmenu", "GET")
def list_rich_menus():
    platform = _platform()
    with platform._lock:
        return {"richmenus": [entry["menu"] for entry in platform.rich_menus.values()]}


@_route("/v2/bot/richmenu/<rich_menu_id>", "richmenu", "GET")
def get_rich_menu(rich_menu_id: str):
    with _platform()._lock:
        return _rich_menu(rich_menu_id)["menu"]


@_route("/v2/bot/richmenu/<rich_menu_id>", "richmenu", "DELETE")
def delete_rich_menu(rich_menu_id: str):
    platform = _platform()
    with platform._lock:
        _rich_menu(rich_menu_id)
        del platform.rich_menus[rich_menu_id]
        if platform.default_rich_menu_id == rich_menu_id:
            platform.default_rich_menu_id = None
        platform._user_rich_menus = {user: menu for user, menu in platform._user_rich_menus.items()
                                     if menu != rich_menu_id}
    return {}


@_route("/v2/bot/richmenu/<rich_menu_id>/content", "richmenu", "POST")
def upload_rich_menu_image(rich_menu_id: str):
    expected_format = RICH_MENU_IMAGE_FORMATS.get(request.mimetype)
    if expected_format is None:
        raise _refuse(415, "A content type not supported by the API is requested")
    data = request.get_data()
    if len(data) > MAX_RICH_MENU_IMAGE:
        raise _refuse(413, "The image must be at most 1 MB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format, image_size = image.format, image.size
    except UnidentifiedImageError:
        raise _refuse(400, "The image could not be read") from None
    if image_format != expected_format:
        raise _refuse(400, f"The image is {image_format}, not {expected_format} as declared")
    platform = _platform()
    with platform._lock:
        entry = _rich_menu(rich_menu_id)
        menu_size = (entry["menu"]["size"]["width"], entry["menu"]["size"]["height"])
        if image_size != menu_size:
            raise _refuse(400, f"The image is {image_size[0]}x{image_size[1]} pixels; "
                               f"the rich menu is {menu_size[0]}x{menu_size[1]}")
        if entry["image"] is not None:
            raise _refuse(400, "An image has already been uploaded to the richmenu")
        entry["image"], entry["content_type"] = data, request.mimetype
    return {}


@_route("/v2/bot/richmenu/<rich_menu_id>/content", "richmenu", "GET")
def get_rich_menu_image(rich_menu_id: str):
    with _platform()._lock:
        entry = _rich_menu(rich_menu_id)
    if entry["image"] is None:
        raise _refuse(404, "Not found")
    return Response(entry["image"], content_type=entry["content_type"])


@_route("/v2/bot/user/all/richmenu/<rich_menu_id>", "richmenu", "POST")
def set_default_rich_menu(rich_menu_id: str):
    platform = _platform()
    with platform._lock:
        _applicable_rich_menu(rich_menu_id)
        platform.default_rich_menu_id = rich_menu_id
    return {}


@_route("/v2/bot/user/all/richmenu", "richmenu", "GET")
def get_default_rich_menu():
    rich_menu_id = _platform().default_rich_menu_id
    if rich_menu_id is None:
        raise _refuse(404, "no default richmenu")
    return {"richMenuId": rich_menu_id}


@_route("/v2/bot/user/all/richmenu", "richmenu", "DELETE")
def cancel_default_rich_menu():
    platform = _platform()
    with platform._lock:
        platform.default_rich_menu_id = None
    return {}


@_route("/v2/bot/user/<user_id>/richmenu/<rich_menu_id>", "richmenu", "POST")
def link_rich_menu(user_id: str, rich_menu_id: str):
    _path_user_id(user_id)
    platform = _platform()
    with platform._lock:
        _applicable_rich_menu(rich_menu_id)
        platform._user_rich_menus[user_id] = rich_menu_id
    return {}


@_route("/v2/bot/user/<user_id>/richmenu", "richmenu", "GET")
def get_linked_rich_menu(user_id: str):
    platform = _platform()
    with platform._lock:
        rich_menu_id = platform._user_rich_menus.get(user_id)
    if rich_menu_id is None:
        raise _refuse(404, "the user has no richmenu")
    return {"richMenuId": rich_menu_id}


@_route("/v2/bot/user/<user_id>/richmenu", "richmenu", "DELETE")
def unlink_rich_menu(user_id: str):
    _path_user_id(user_id)
    platform = _platform()
    with platform._lock:
        platform._user_rich_menus.pop(user_id, None)
    return {}


# LIFF ------------------------------------------------------------------------------------------

@_route("/oauth2/v2.1/verify", "verify", "POST")
def verify():
    token, client_id = request.form.get("id_token"), request.form.get("client_id")
    platform = _platform()
    with platform._lock:
        claims = platform._id_tokens.get(token or "")
        now = platform.clock()
    if not client_id:
        raise _oauth_error("client_id is required")
    if claims is None:
        raise _oauth_error("Invalid IdToken.")
    if claims["exp"] <= now:
        raise _oauth_error("IdToken expired.")
    if claims["aud"] != client_id:
        raise _oauth_error("Invalid IdToken Audience.")
    return claims


def _oauth_error(description: str) -> _Refusal:
    return _Refusal(400, {"error": "invalid_request", "error_description": description})


def _b64_json(value: dict) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
