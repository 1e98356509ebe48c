"""The one door to LINE's Messaging API: everything else asks this module to talk to LINE."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from urllib.parse import quote

import urllib3
from flask import Flask, current_app
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
)
from linebot.v3.messaging.models import Message, RichMenuRequest
from pydantic.v1 import BaseModel as PydanticModel  # the SDK's models are pydantic v1's
from pydantic.v1 import ValidationError


def chat_link(basic_id: str, text: str = "") -> str:
    """https://line.me/R/oaMessage/{basic id}/?{text}: opens the chat, the text typed in."""
    link = f"https://line.me/R/oaMessage/{quote(basic_id)}/"
    return f"{link}?{quote(text)}" if text else link


log = logging.getLogger(__name__)

#: LINE answers quickly or not at all: a call that takes longer has failed, and must not hold
#: the webhook. LINE_TIMEOUT_SECONDS overrides it (`gateway`).
TIMEOUT_SECONDS = 5
#: Read errors (a timeout) are never retried by the connection pool: a GET that timed out once
#: would otherwise hold the webhook for four timeouts. Connections refused are retried (nothing
#: reached LINE), as urllib3 does by default.
_RETRIES = urllib3.Retry(3, read=False)


class LineUnavailable(RuntimeError):
    """LINE did not answer (network, timeout, 5xx): nobody's input was wrong."""


class Outcome(StrEnum):
    SENT = "sent"        # 2xx, or 409: LINE had already accepted this retry key
    RETRY = "retry"      # 5xx, a timeout or no connection: the same request again later
    SLOW_DOWN = "slow_down"        # 429: LINE did not act on it; everyone waits, then again
    UNAUTHORIZED = "unauthorized"  # 401/403: LINE refuses the channel's token, not the request
    REFUSED = "refused"  # any other 4xx: the same request would be refused again


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    #: LINE's answer (the response body) or what went wrong on the way; never the request.
    detail: str | None = None
    #: Seconds LINE asked us to wait (a 429's Retry-After), when it said.
    retry_after: float | None = None


#: Sending endpoints that take X-Line-Retry-Key, as in the SDK's MessagingApi.
_SEND_PATHS = {
    "push": "/v2/bot/message/push",
    "multicast": "/v2/bot/message/multicast",
    "narrowcast": "/v2/bot/message/narrowcast",
    "broadcast": "/v2/bot/message/broadcast",
}


@dataclass(frozen=True)
class Profile:
    user_id: str
    display_name: str | None
    language: str | None


#: What a call to LINE raises when LINE refuses it (ApiException), does not answer in time or at
#: all (urllib3), or answers with something its API does not document (the SDK's models).
FAILURES = (ApiException, urllib3.exceptions.HTTPError, ValidationError)


def failure(error: Exception) -> str:
    """One of FAILURES in a few words fit for a log: LINE's status and answer, or that it did not
    answer, or that its answer was not what the API documents.

    Never the request nor any headers: the request's hold the access token, and an
    ApiException's `str()` prints the response's.
    """
    if isinstance(error, ApiException):
        return f"LINE answered {error.status} {_line_message(error) or error.reason or ''}".rstrip()
    if isinstance(error, urllib3.exceptions.HTTPError):
        return f"no answer from LINE ({type(error).__name__})"
    return f"LINE's answer was not what its API documents ({type(error).__name__})"


class LineGateway:
    def __init__(self, host: str, access_token: str, timeout: float = TIMEOUT_SECONDS):
        self.host = host.rstrip("/")
        self.timeout = timeout
        configuration = Configuration(host=self.host, access_token=access_token)
        configuration.retries = _RETRIES
        self._client = ApiClient(configuration)
        self.api = MessagingApi(self._client)
        self.blob = MessagingApiBlob(self._client)
        # LINE Login's endpoints are not in the SDK. No retries: the caller's user can retry.
        self._http = urllib3.PoolManager(timeout=urllib3.Timeout(total=timeout), retries=False)

    def reply(self, reply_token: str, messages: Sequence[Message | Mapping]) -> bool:
        """Reply once; a refusal (an expired or used token) or no answer is logged, not raised:
        the event is done, and the other events of the webhook still get their turn.

        The messages go out as `as_json` writes them, through the SDK's ApiClient (headers,
        bearer token, connection pool) but without its request model and argument checks,
        which cost more CPU than the rest of a webhook event's Python.
        """
        if len(messages) > 5:
            raise ValueError("LINE accepts at most 5 messages in one reply")
        if not messages:
            return True
        body = {"replyToken": reply_token,
                "messages": [as_json(m) if isinstance(m, Message) else message_json(m)
                             for m in messages]}
        try:
            self._client.call_api(
                "/v2/bot/message/reply", "POST",
                header_params={"Content-Type": "application/json", "Accept": "application/json"},
                body=body, response_types_map={}, auth_settings=["Bearer"],
                _return_http_data_only=True, _request_timeout=self.timeout)
        except ApiException as error:
            log.warning("reply failed: %s %s", error.status, _line_message(error))
            return False
        except urllib3.exceptions.HTTPError as error:
            log.warning("reply failed: no answer from LINE: %s", type(error).__name__)
            return False
        return True

    def send(self, kind: str, body: Mapping, retry_key: str,
             timeout: float | None = None) -> SendResult:
        """One push, multicast, narrowcast or broadcast request, from its stored JSON body.

        `kind` names the endpoint. The caller retries on Outcome.RETRY with the same body and
        key, so LINE acts on the request at most once.

        The body goes out as stored, through the SDK's ApiClient (its headers, bearer token,
        JSON encoding and connection pool), without the request models: the messages were
        checked by those models when queued (`message_json`), and rebuilding a model of 500
        user IDs on every send cost more CPU than the rest of the request.
        """
        try:
            self._client.call_api(
                _SEND_PATHS[kind], "POST",
                header_params={"Content-Type": "application/json", "Accept": "application/json",
                               "X-Line-Retry-Key": retry_key},
                body=dict(body), response_types_map={}, auth_settings=["Bearer"],
                _return_http_data_only=True, _request_timeout=timeout or self.timeout)
        except ApiException as error:
            return _send_result(error)
        except urllib3.exceptions.HTTPError as error:
            return SendResult(Outcome.RETRY, f"no answer from LINE: {type(error).__name__}")
        return SendResult(Outcome.SENT)

    def profile(self, user_id: str) -> Profile | None:
        """The user's name and language, or None if LINE does not give them (blocked…), does not
        answer, or answers with something else than a profile."""
        try:
            found = self._client.call_api(
                "/v2/bot/profile/{userId}", "GET", path_params={"userId": user_id},
                header_params={"Accept": "application/json"},
                response_types_map={"200": "UserProfileResponse"}, auth_settings=["Bearer"],
                _return_http_data_only=True, _request_timeout=self.timeout)
        except FAILURES as error:
            if isinstance(error, ApiException) and 400 <= error.status < 500:
                log.info("profile unavailable: %s", error.status)  # LINE says no: blocked…
            else:  # LINE failed: no answer, a 5xx, or not a profile
                log.warning("profile unavailable: %s", failure(error))
            return None
        return Profile(found.user_id, found.display_name, found.language)

    def message_content(self, message_id: str) -> bytes:
        """A message's content; raises one of FAILURES when LINE does not give it."""
        return bytes(self.blob.get_message_content(message_id, _request_timeout=self.timeout))

    def verify_id_token(self, id_token: str, client_id: str) -> str | None:
        """The user ID (`sub`) of a LIFF ID token, or None when LINE refuses the token.

        POST /oauth2/v2.1/verify checks signature, expiry and audience (the LINE Login
        channel ID); only `sub` is used, never profile data a page sends along.
        """
        try:
            response = self._http.request(
                "POST", f"{self.host}/oauth2/v2.1/verify", encode_multipart=False,
                fields={"id_token": id_token, "client_id": client_id})
        except urllib3.exceptions.HTTPError as error:
            raise LineUnavailable(f"ID token verification: {type(error).__name__}") from None
        if response.status >= 500:
            raise LineUnavailable(f"ID token verification answered {response.status}")
        if response.status != 200:
            log.info("ID token refused: %s", response.status)
            return None
        return _subject(response, client_id)

    # Rich menus -----------------------------------------------------------------------------

    # Each raises one of FAILURES when LINE refuses, does not answer, or answers oddly.

    def create_rich_menu(self, menu: RichMenuRequest, image_png: bytes) -> str:
        rich_menu_id = self.api.create_rich_menu(menu, _request_timeout=self.timeout).rich_menu_id
        self.blob.set_rich_menu_image(rich_menu_id, body=image_png,
                                      _headers={"Content-Type": "image/png"},
                                      _request_timeout=self.timeout)
        return rich_menu_id

    def set_default_rich_menu(self, rich_menu_id: str) -> None:
        self.api.set_default_rich_menu(rich_menu_id, _request_timeout=self.timeout)

    def rich_menus(self) -> dict[str, str]:
        """Every rich menu of the channel: id → name."""
        listed = self.api.get_rich_menu_list(_request_timeout=self.timeout)
        return {menu.rich_menu_id: menu.name for menu in listed.richmenus}

    def delete_rich_menu(self, rich_menu_id: str) -> None:
        self.api.delete_rich_menu(rich_menu_id, _request_timeout=self.timeout)

    def link_rich_menu(self, user_id: str, rich_menu_id: str) -> None:
        """This user sees this menu instead of the default."""
        self.api.link_rich_menu_id_to_user(user_id, rich_menu_id, _request_timeout=self.timeout)

    def unlink_rich_menu(self, user_id: str) -> None:
        """This user sees the default menu again."""
        self.api.unlink_rich_menu_id_from_user(user_id, _request_timeout=self.timeout)


@dataclass(frozen=True)
class AfterCommit:
    """A call to LINE that follows a committed change (a step's `after`, e.g. linking the staff
    menu). The change stands whatever LINE does: a failure is logged with `what` was tried and
    the `remedy`, how an operator makes up for it."""
    what: str
    call: Callable[[LineGateway], object]
    remedy: str


def _subject(response: urllib3.BaseHTTPResponse, client_id: str) -> str:
    try:
        claims = response.json()
    except ValueError:
        raise LineUnavailable("ID token verification did not answer with JSON") from None
    subject = claims.get("sub") if isinstance(claims, dict) else None
    if not isinstance(subject, str) or not subject or claims.get("aud") != client_id:
        raise LineUnavailable("ID token verification answered without our subject")
    return subject


def as_json(model: Message) -> dict:
    """LINE's JSON of an SDK model, equal to its `to_dict()`, walked directly.

    pydantic's general `dict()`, which `to_dict()` calls at every level, cost a reply more CPU
    than the database work of its event.
    """
    return _plain(model)


def _plain(value):
    if isinstance(value, PydanticModel):
        fields = value.__dict__
        return {field.alias: _plain(fields[name]) for name, field in value.__fields__.items()
                if fields.get(name) is not None}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def message_json(message: Message | Mapping) -> dict:
    """A message as LINE's JSON; a dict is read through the SDK's model, so it is checked."""
    if isinstance(message, Message):
        return message.to_dict()
    try:
        return Message.from_dict(dict(message)).to_dict()
    except KeyError as error:
        raise ValueError(f"not a LINE message object: {error} is missing") from None


def _send_result(error: ApiException) -> SendResult:
    status = error.status
    if status == 409:  # "The retry key is already accepted"
        return SendResult(Outcome.SENT)
    detail = f"{status} {error.body if isinstance(error.body, str) else error.reason}"
    if status == 429:
        return SendResult(Outcome.SLOW_DOWN, detail,
                          retry_after_seconds((error.headers or {}).get("Retry-After")))
    if status in (401, 403):
        return SendResult(Outcome.UNAUTHORIZED, detail)
    if status >= 500:
        return SendResult(Outcome.RETRY, detail)
    return SendResult(Outcome.REFUSED, detail)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header in seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:  # "-0000": UTC, origin unknown
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def _line_message(error: ApiException) -> str:
    # LINE's body is JSON with a `message`; never log headers (they hold the token).
    return (error.body or "")[:300] if isinstance(error.body, str) else ""


def init_app(app: Flask) -> None:
    app.extensions["line"] = None  # made on first use: tests set LINE_API_HOST after start-up


def gateway(app: Flask | None = None) -> LineGateway:
    app = app or current_app._get_current_object()
    config = app.config
    host = str(config["LINE_API_HOST"]).rstrip("/")
    timeout = float(config.get("LINE_TIMEOUT_SECONDS") or TIMEOUT_SECONDS)
    existing = app.extensions.get("line")
    if existing is None or (existing.host, existing.timeout) != (host, timeout):
        existing = LineGateway(host, str(config["LINE_CHANNEL_ACCESS_TOKEN"]), timeout)
        app.extensions["line"] = existing
    return existing
