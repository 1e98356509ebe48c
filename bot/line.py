"""The one door to LINE's Messaging API: everything else asks this module to talk to LINE."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

import urllib3
from flask import Flask, current_app
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    BroadcastRequest,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    NarrowcastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
)
from linebot.v3.messaging.models import Message, RichMenuRequest

log = logging.getLogger(__name__)

#: LINE answers quickly or not at all; a slow call must not hold the webhook past 2 seconds.
TIMEOUT_SECONDS = 5


class LineUnavailable(RuntimeError):
    """LINE did not answer (network, timeout, 5xx): nobody's input was wrong."""


class Outcome(StrEnum):
    SENT = "sent"        # 2xx, or 409: LINE had already accepted this retry key
    RETRY = "retry"      # 429, 5xx, a timeout or no connection: the same request again later
    REFUSED = "refused"  # any other 4xx: the same request would be refused again


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    #: LINE's answer (the response body) or what went wrong on the way; never the request.
    detail: str | None = None
    #: Seconds LINE asked us to wait (a 429's Retry-After), when it said.
    retry_after: float | None = None


#: Sending endpoints that take X-Line-Retry-Key: the request model and the SDK call of each.
_SENDERS = {
    "push": (PushMessageRequest, MessagingApi.push_message),
    "multicast": (MulticastRequest, MessagingApi.multicast),
    "narrowcast": (NarrowcastRequest, MessagingApi.narrowcast),
    "broadcast": (BroadcastRequest, MessagingApi.broadcast),
}


@dataclass(frozen=True)
class Profile:
    user_id: str
    display_name: str | None
    language: str | None


class LineGateway:
    def __init__(self, host: str, access_token: str):
        self.host = host.rstrip("/")
        self._client = ApiClient(Configuration(host=self.host, access_token=access_token))
        self.api = MessagingApi(self._client)
        self.blob = MessagingApiBlob(self._client)
        # LINE Login's endpoints are not in the SDK. No retries: the caller's user can retry.
        self._http = urllib3.PoolManager(timeout=urllib3.Timeout(total=TIMEOUT_SECONDS),
                                         retries=False)

    def reply(self, reply_token: str, messages: Sequence[Message]) -> bool:
        """Reply once; an expired or used token is logged, not raised (the event is done)."""
        if len(messages) > 5:
            raise ValueError("LINE accepts at most 5 messages in one reply")
        if not messages:
            return True
        try:
            self.api.reply_message(
                ReplyMessageRequest(reply_token=reply_token, messages=list(messages)),
                _request_timeout=TIMEOUT_SECONDS)
        except ApiException as error:
            log.warning("reply failed: %s %s", error.status, _line_message(error))
            return False
        return True

    def send(self, kind: str, body: Mapping, retry_key: str,
             timeout: float = TIMEOUT_SECONDS) -> SendResult:
        """One push, multicast, narrowcast or broadcast request, from its stored JSON body.

        `kind` names the endpoint. The caller retries on Outcome.RETRY with the same body and
        key, so LINE acts on the request at most once.
        """
        model, call = _SENDERS[kind]
        try:
            request = model.from_dict(dict(body))
        except ValueError as error:  # pydantic's ValidationError is one
            return SendResult(Outcome.REFUSED, f"not a valid {kind} request: {error}")
        try:
            call(self.api, request, x_line_retry_key=retry_key, _request_timeout=timeout)
        except ApiException as error:
            return _send_result(error)
        except urllib3.exceptions.HTTPError as error:
            return SendResult(Outcome.RETRY, f"no answer from LINE: {type(error).__name__}")
        return SendResult(Outcome.SENT)

    def profile(self, user_id: str) -> Profile | None:
        try:
            profile = self.api.get_profile(user_id, _request_timeout=TIMEOUT_SECONDS)
        except ApiException as error:
            log.info("profile unavailable: %s", error.status)
            return None
        return Profile(profile.user_id, profile.display_name, profile.language)

    def message_content(self, message_id: str) -> bytes:
        return bytes(self.blob.get_message_content(message_id, _request_timeout=TIMEOUT_SECONDS))

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

    def create_rich_menu(self, menu: RichMenuRequest, image_png: bytes) -> str:
        rich_menu_id = self.api.create_rich_menu(menu).rich_menu_id
        self.blob.set_rich_menu_image(rich_menu_id, body=image_png,
                                      _headers={"Content-Type": "image/png"})
        return rich_menu_id

    def set_default_rich_menu(self, rich_menu_id: str) -> None:
        self.api.set_default_rich_menu(rich_menu_id)

    def rich_menu_ids(self) -> list[str]:
        return [menu.rich_menu_id for menu in self.api.get_rich_menu_list().richmenus]

    def rich_menus(self) -> dict[str, str]:
        """Every rich menu of the channel: id → name."""
        return {menu.rich_menu_id: menu.name for menu in self.api.get_rich_menu_list().richmenus}

    def delete_rich_menu(self, rich_menu_id: str) -> None:
        self.api.delete_rich_menu(rich_menu_id)

    def link_rich_menu(self, user_id: str, rich_menu_id: str) -> None:
        """This user sees this menu instead of the default."""
        self.api.link_rich_menu_id_to_user(user_id, rich_menu_id, _request_timeout=TIMEOUT_SECONDS)

    def unlink_rich_menu(self, user_id: str) -> None:
        """This user sees the default menu again."""
        self.api.unlink_rich_menu_id_from_user(user_id, _request_timeout=TIMEOUT_SECONDS)


def _subject(response: urllib3.BaseHTTPResponse, client_id: str) -> str:
    try:
        claims = response.json()
    except ValueError:
        raise LineUnavailable("ID token verification did not answer with JSON") from None
    subject = claims.get("sub") if isinstance(claims, dict) else None
    if not isinstance(subject, str) or not subject or claims.get("aud") != client_id:
        raise LineUnavailable("ID token verification answered without our subject")
    return subject


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
        return SendResult(Outcome.RETRY, detail,
                          retry_after_seconds((error.headers or {}).get("Retry-After")))
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
    existing = app.extensions.get("line")
    if existing is None or existing.host != str(config["LINE_API_HOST"]).rstrip("/"):
        existing = LineGateway(str(config["LINE_API_HOST"]), str(config["LINE_CHANNEL_ACCESS_TOKEN"]))
        app.extensions["line"] = existing
    return existing
