"""Typed postback data, packed into LINE's 300 characters (aiogram's CallbackData, for LINE).

    @postback("reg.pick")
    class PickEntity(Postback):
        code: str
        t: str          # the conversation token: an older button no longer matches

    pack(PickEntity("364029", t="ab12")) == "reg.pick?code=364029&t=ab12"
"""

from __future__ import annotations

import dataclasses
import re
from functools import cache
from typing import ClassVar, TypeVar, get_type_hints
from urllib.parse import parse_qsl, urlencode

MAX_DATA_LENGTH = 300  # LINE's limit on postback.data
#: The numbers we pack (ids, pages, choices) are never negative and fit the database's
#: integer; ASCII digits only, as `str.isdigit` would also pass "²", which `int` refuses.
_NUMBER = re.compile(r"[0-9]{1,10}")
_LARGEST = 2**31 - 1

_registry: dict[str, type[Postback]] = {}

P = TypeVar("P", bound="Postback")


class Postback:
    action: ClassVar[str]

    @property
    def token(self) -> str | None:
        """Conversation-bound postbacks carry `t`; menu postbacks work at any time."""
        return getattr(self, "t", None)


def postback(action: str):
    """Declare a postback: a frozen dataclass whose fields travel in the data string."""
    def register(cls: type[P]) -> type[P]:
        if action in _registry:
            raise ValueError(f"postback action {action!r} registered twice")
        cls = dataclasses.dataclass(frozen=True)(cls)
        cls.action = action
        _registry[action] = cls
        return cls
    return register


def pack(data: Postback) -> str:
    fields = {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}  # type: ignore[arg-type]
    packed = data.action + ("?" + urlencode(fields) if fields else "")
    if len(packed) > MAX_DATA_LENGTH:
        raise ValueError(f"postback data longer than {MAX_DATA_LENGTH}: {packed[:40]}…")
    return packed


def unpack(data: str) -> Postback | None:
    """The typed postback, or None for anything we did not make (old, foreign or tampered)."""
    action, _, query = data.partition("?")
    cls = _registry.get(action)
    if cls is None:
        return None
    values = dict(parse_qsl(query, keep_blank_values=True))
    hints = _hints(cls)
    kwargs = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.name not in values:
            if field.default is not dataclasses.MISSING:
                continue
            return None
        raw = values[field.name]
        if "\x00" in raw:  # never ours ("%00"), and PostgreSQL cannot compare it
            return None
        if hints[field.name] is int:
            if not _NUMBER.fullmatch(raw) or int(raw) > _LARGEST:
                return None
            kwargs[field.name] = int(raw)
        else:
            kwargs[field.name] = raw
    return cls(**kwargs)


@cache
def _hints(cls: type[Postback]) -> dict[str, type]:
    # Resolving the annotations (strings under `from __future__ import annotations`) costs
    # more than the rest of unpacking; a class's never change.
    return get_type_hints(cls)
