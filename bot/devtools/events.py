"""Webhook events as LINE sends them, and the signature LINE puts on them.

Used by the chat simulator, the scenario runner and the tests, so all three speak to
`/callback` exactly the way LINE does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import time
from typing import Any

DESTINATION = "Ufurusatobotdestination0000000000"

_sequence = itertools.count()


def signature(body: bytes, channel_secret: str) -> str:
    digest = hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_body(*events: dict[str, Any]) -> bytes:
    return json.dumps({"destination": DESTINATION, "events": list(events)},
                      ensure_ascii=False).encode()


def new_event_id() -> str:
    """A ULID-shaped identifier: 26 characters of Crockford base32, time first."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    return "".join(alphabet[(value >> shift) & 31] for shift in range(125, -1, -5))


def _base(kind: str, user_id: str, *, reply_token: bool | str = True,
          event_id: str | None = None, timestamp_ms: int | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": timestamp_ms or int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": event_id or new_event_id(),
        "deliveryContext": {"isRedelivery": False},
    }
    if reply_token:
        # A string is a token the local LINE platform issued; True makes one up.
        event["replyToken"] = reply_token if isinstance(reply_token, str) else os.urandom(16).hex()
    return event


def _message_id() -> str:
    return str(10**17 + int(time.time()) * 1000 + next(_sequence) % 1000)


def follow_event(user_id: str, **kw) -> dict[str, Any]:
    event = _base("follow", user_id, **kw)
    event["follow"] = {"isUnblocked": False}
    return event


def unfollow_event(user_id: str, **kw) -> dict[str, Any]:
    kw["reply_token"] = False
    return _base("unfollow", user_id, **kw)


def text_event(text: str, user_id: str, **kw) -> dict[str, Any]:
    event = _base("message", user_id, **kw)
    event["message"] = {"id": _message_id(), "type": "text", "text": text,
                        "quoteToken": os.urandom(8).hex()}
    return event


def postback_event(data: str, user_id: str, params: dict | None = None, **kw) -> dict[str, Any]:
    event = _base("postback", user_id, **kw)
    event["postback"] = {"data": data, **({"params": params} if params else {})}
    return event


def location_event(latitude: float, longitude: float, user_id: str,
                   title: str | None = None, address: str | None = None, **kw) -> dict[str, Any]:
    event = _base("message", user_id, **kw)
    event["message"] = {"id": _message_id(), "type": "location", "latitude": latitude,
                        "longitude": longitude,
                        **({"title": title} if title else {}),
                        **({"address": address} if address else {})}
    return event


def image_event(user_id: str, message_id: str | None = None, **kw) -> dict[str, Any]:
    event = _base("message", user_id, **kw)
    event["message"] = {"id": message_id or _message_id(), "type": "image",
                        "contentProvider": {"type": "line"}, "quoteToken": os.urandom(8).hex()}
    return event


def sticker_event(user_id: str, **kw) -> dict[str, Any]:
    event = _base("message", user_id, **kw)
    event["message"] = {"id": _message_id(), "type": "sticker", "packageId": "446",
                        "stickerId": "1988", "stickerResourceType": "STATIC",
                        "quoteToken": os.urandom(8).hex()}
    return event
