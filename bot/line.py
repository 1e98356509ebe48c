"""The one door to LINE's Messaging API: everything else asks this module to talk to LINE."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from flask import Flask, current_app
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    PushMessageRequest,
    ReplyMessageRequest,
)
from linebot.v3.messaging.models import Message, RichMenuRequest

log = logging.getLogger(__name__)

#: LINE answers quickly or not at all; a slow call must not hold the webhook past 2 seconds.
TIMEOUT_SECONDS = 5


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

    def push(self, user_id: str, messages: Sequence[Message], retry_key: str) -> None:
        self.api.push_message(PushMessageRequest(to=user_id, messages=list(messages)),
                              x_line_retry_key=retry_key, _request_timeout=TIMEOUT_SECONDS)

    def profile(self, user_id: str) -> Profile | None:
        try:
            profile = self.api.get_profile(user_id, _request_timeout=TIMEOUT_SECONDS)
        except ApiException as error:
            log.info("profile unavailable: %s", error.status)
            return None
        return Profile(profile.user_id, profile.display_name, profile.language)

    def message_content(self, message_id: str) -> bytes:
        return bytes(self.blob.get_message_content(message_id, _request_timeout=TIMEOUT_SECONDS))

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
