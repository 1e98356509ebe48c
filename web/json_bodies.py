"""JSON request bodies: one nested too deeply to decode is bad input, not a server error.

Python's decoder gives up on a few thousand levels of nesting (`[[[…]]]`) with RecursionError,
which is not the ValueError Flask expects of a body it cannot read, so `get_json(silent=True)`
let it through as a 500. Read through this provider, such a body counts as malformed JSON: the
endpoints that read JSON answer it with their 400, as they do any other unreadable body.
"""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider


class BoundedJSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
