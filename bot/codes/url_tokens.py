"""The random identifiers we put in links come back in URLs: checked before the database.

They are made by `secrets.token_urlsafe` or Authlib's `generate_token`, both of this URL-safe
alphabet. Anything else in their place — NUL, which PostgreSQL refuses outright, or text of
any length — cannot be one of ours, and is answered as an unknown one without a query.
"""

from __future__ import annotations

import re

_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


def could_be_ours(value: str | None, max_length: int) -> bool:
    return bool(value) and len(value) <= max_length and _URL_SAFE.fullmatch(value) is not None
