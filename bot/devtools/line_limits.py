"""What LINE rejects in a request body, as the `details` of LINE's 400 answer.

line-bot-sdk's pydantic models check structure; LINE also enforces documented limits the
models do not (a 6,000-character text passes the model), so both are checked here.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from linebot.v3.messaging import Message, RichMenuRequest
from pydantic.v1 import ValidationError

Problem = dict[str, str]  # {"message": ..., "property": ...}, as in LINE's `details`

USER_ID = re.compile(r"U[0-9a-f]{32}")

MAX_MESSAGES = 5
MAX_MULTICAST = 500
MAX_TEXT = 5000  # UTF-16 code units
MAX_ALT_TEXT = 1500
MAX_LABEL = 20
MAX_TITLE = 40
MAX_BUBBLE_BYTES = 30 * 1024
MAX_CAROUSEL_BYTES = 50 * 1024
MAX_BUBBLES = 12
MAX_COLUMNS = 10
MAX_RICH_MENU_AREAS = 20

#: Keys whose value LINE fetches as an image, video or audio file: HTTPS only.
MEDIA_URL_KEYS = {"originalContentUrl", "previewImageUrl", "thumbnailImageUrl", "imageUrl",
                  "baseUrl", "iconUrl", "previewUrl"}
#: Flex components whose `url` is a media file (a uri action's `uri` may be plain http).
FLEX_MEDIA_TYPES = {"image", "video", "icon"}
#: The demo serves its images over plain http on this machine, which LINE never sees.
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

_ACTION_PATH = re.compile(r"\.(action|defaultAction|actions\[\d+\])$")

# The generated `from_dict` methods index into the JSON before pydantic sees it, so a wrong
# shape surfaces as KeyError/TypeError; pydantic's ValidationError is a ValueError, as is an
# unknown `type`.
_MODEL_ERRORS = (ValueError, KeyError, TypeError)


_STAND_IN = {"type": "text", "text": "-"}


def problem(message: str, prop: str) -> Problem:
    return {"message": message, "property": prop}


def send_problems(request_model: type, body: dict[str, Any]) -> list[Problem]:
    """Problems with a reply/push/multicast/narrowcast/broadcast body; empty when LINE takes it."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        return [problem(f"Size must be between 1 and {MAX_MESSAGES}", "messages")]
    problems = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        found = model_problems(Message, message, where)
        problems += found or message_problems(message, where)
    # The rest of the body (`to`, `replyToken`, …) once the messages are known to parse; with
    # one plain message standing in for them, so that they are not parsed a second time.
    return problems or model_problems(request_model, {**body, "messages": [_STAND_IN]}, "")


def multicast_problems(request_model: type, body: dict[str, Any]) -> list[Problem]:
    """`send_problems` for a multicast, whose `to` (1–500 strings) is checked here: the
    model's check of 500 IDs one by one through pydantic cost more than everything else the
    platform does for the request. (Each ID's format is the endpoint's own check.)"""
    to = body.get("to")
    if not isinstance(to, list) or not 1 <= len(to) <= MAX_MULTICAST:
        return [problem(f"Size must be between 1 and {MAX_MULTICAST}", "to")]
    for index, user_id in enumerate(to):
        if not isinstance(user_id, str):
            return [problem("Must be a string", f"to[{index}]")]
    return send_problems(request_model, {**body, "to": to[:1]})


def rich_menu_problems(body: dict[str, Any]) -> list[Problem]:
    problems = model_problems(RichMenuRequest, body, "")
    if problems:
        return problems
    # The model makes every field optional; LINE requires them all.
    problems = [problem("Must be specified", name)
                for name in ("size", "selected", "name", "chatBarText", "areas")
                if body.get(name) is None]
    if problems:
        return problems
    width, height = body["size"].get("width") or 0, body["size"].get("height") or 0
    if not 800 <= width <= 2500:
        problems.append(problem("Width must be between 800 and 2500", "size.width"))
    if height < 250 or width / max(height, 1) < 1.45:
        problems.append(problem("Height must be at least 250 and width/height at least 1.45",
                                "size.height"))
    if len(body["areas"]) > MAX_RICH_MENU_AREAS:
        problems.append(problem(f"Size must be between 0 and {MAX_RICH_MENU_AREAS}", "areas"))
    return problems + label_problems(body, "", labelled=True)


def model_problems(model: type, data: Any, where: str) -> list[Problem]:
    """What line-bot-sdk's own model says about `data`, with LINE-style property paths."""
    try:
        model.from_dict(data)
    except ValidationError as error:
        errors = [(".".join(str(part) for part in e["loc"]), e["msg"]) for e in error.errors()]
        if issubclass(error.model, model):
            return [problem(message, _join(where, loc)) for loc, message in errors]
        # Nested objects are parsed by separate from_dict calls, so an error deep inside knows
        # only its own model: name that model rather than guess the path to it.
        return [problem(f"{error.model.__name__}.{loc}: {message}", where or "body")
                for loc, message in errors]
    except _MODEL_ERRORS as error:
        return [problem(f"Invalid object: {error}", where or "body")]
    return []


def message_problems(message: dict[str, Any], where: str) -> list[Problem]:
    problems = []
    kind = message["type"]
    if kind in ("text", "textV2") and utf16_len(message["text"]) > MAX_TEXT:
        problems.append(problem(f"Length must be between 0 and {MAX_TEXT}", f"{where}.text"))
    if len(message.get("altText") or "") > MAX_ALT_TEXT:
        problems.append(problem(f"Length must be between 0 and {MAX_ALT_TEXT}",
                                f"{where}.altText"))
    if kind == "template":
        problems += template_problems(message["template"], f"{where}.template")
    if kind == "flex":
        problems += flex_problems(message["contents"], f"{where}.contents")
    problems += label_problems(message, where, labelled=kind == "template")
    return problems + media_url_problems(message, where)


def template_problems(template: dict[str, Any], where: str) -> list[Problem]:
    kind = template["type"]
    if kind == "buttons":
        return (_text_problems(template, where, plain=160, illustrated=60)
                + _count_problems(template["actions"], f"{where}.actions", 1, 4))
    if kind == "confirm":
        return (_length_problems(template["text"], f"{where}.text", 240)
                + _count_problems(template["actions"], f"{where}.actions", 2, 2))
    problems = _count_problems(template["columns"], f"{where}.columns", 1, MAX_COLUMNS)
    if kind == "carousel":
        for index, column in enumerate(template["columns"]):
            column_where = f"{where}.columns[{index}]"
            problems += _text_problems(column, column_where, plain=120, illustrated=60)
            problems += _count_problems(column["actions"], f"{column_where}.actions", 1, 3)
    return problems


def flex_problems(container: dict[str, Any], where: str) -> list[Problem]:
    if container["type"] == "bubble":
        return _size_problems(container, where, MAX_BUBBLE_BYTES)
    problems = _count_problems(container["contents"], f"{where}.contents", 1, MAX_BUBBLES)
    for index, bubble in enumerate(container["contents"]):
        problems += _size_problems(bubble, f"{where}.contents[{index}]", MAX_BUBBLE_BYTES)
    return problems + _size_problems(container, where, MAX_CAROUSEL_BYTES)


def label_problems(node: Any, where: str, *, labelled: bool) -> list[Problem]:
    """Action labels over 20 characters, in templates and rich menus (`labelled`) and quick replies.

    Flex and imagemap labels follow other rules and are not checked here.
    """
    return [problem(f"Length must be between 0 and {MAX_LABEL}", f"{path}.label")
            for path, obj in walk(node, where)
            if _ACTION_PATH.search(path) and (labelled or ".quickReply." in path)
            and len(obj.get("label") or "") > MAX_LABEL]


def media_url_problems(message: dict[str, Any], where: str) -> list[Problem]:
    problems = []
    for path, obj in walk(message, where):
        keys = MEDIA_URL_KEYS & obj.keys()
        if obj.get("type") in FLEX_MEDIA_TYPES and "url" in obj:
            keys.add("url")
        problems += [problem("Must be an HTTPS URL", f"{path}.{key}")
                     for key in sorted(keys) if not is_media_url(obj[key])]
    return problems


def is_media_url(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url)
    return parts.scheme == "https" or parts.scheme == "http" and parts.hostname in LOCAL_HOSTS


def walk(node: Any, path: str):
    """Every JSON object in `node` with its property path (`messages[0].template.actions[1]`)."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from walk(value, _join(path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}[{index}]")


def utf16_len(text: str) -> int:
    """LINE counts text in UTF-16 code units: an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def _text_problems(obj: dict[str, Any], where: str, *, plain: int,
                   illustrated: int) -> list[Problem]:
    """Buttons and carousel columns allow less text once they carry an image or a title."""
    limit = illustrated if obj.get("thumbnailImageUrl") or obj.get("title") else plain
    return (_length_problems(obj["text"], f"{where}.text", limit)
            + _length_problems(obj.get("title") or "", f"{where}.title", MAX_TITLE))


def _length_problems(text: str, prop: str, limit: int) -> list[Problem]:
    return [problem(f"Length must be between 0 and {limit}", prop)] if len(text) > limit else []


def _count_problems(items: list, prop: str, low: int, high: int) -> list[Problem]:
    if low <= len(items) <= high:
        return []
    return [problem(f"Size must be between {low} and {high}", prop)]


def _size_problems(container: dict[str, Any], prop: str, limit: int) -> list[Problem]:
    size = len(json.dumps(container, ensure_ascii=False, separators=(",", ":")).encode())
    return [problem(f"JSON size must be at most {limit // 1024} KB", prop)] if size > limit else []


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
