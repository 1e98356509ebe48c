"""Access logs without the bearer credentials that travel in our URLs (R13; no secrets in logs).

Some of our addresses work for whoever holds them until they expire, and request-line loggers
— werkzeug (demo, tests), gunicorn (production, Procfile) — would write them down, referrer
included. This filter replaces each credential with "…" before any handler sees the line:

- the identity provider's redirect carries the authorisation code and `state` in its query;
- a path in `BEARER_PATHS` carries a token in the segment after it.

A new view that takes a token in its path adds its prefix here, or to `PUBLIC_PATHS` with the
reason (tests/test_access_log.py checks every route that takes a `token` or a `link`).
"""

from __future__ import annotations

import logging
import re

#: Query parameters that carry credentials: the provider's redirect, an OpenID Connect request.
QUERY_PARAMETERS = ("code", "state", "session_state", "id_token", "nonce", "code_verifier")
#: Paths whose next segment is a credential, with the view that reads it.
BEARER_PATHS = (
    "/identity/start/",     # web/identity: one's own verification ticket
    "/identity/guardian/",  # web/identity: a guardian's ticket, passed on by a minor
    "/card/",               # web/card.py: a registration card's code (R6)
    "/downloads/",          # web/downloads.py: a staff member's signed CSV link
    "/staff/rotating/",     # web/checkin.py: the chat's link to a rotating-code screen
)
#: Paths whose token is no secret, and why.
PUBLIC_PATHS = {
    "/qr/": "a printed check-in code, on a poster at the venue for anyone to scan",
}
#: The loggers that write request lines.
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access")

_QUERY = re.compile(rf"((?:^|[?&])(?:{'|'.join(QUERY_PARAMETERS)})=)[^&\s\"]*")
_PATH = re.compile(rf"((?:{'|'.join(map(re.escape, BEARER_PATHS))}))[^\s?#\"/]+")


def redact(text: str) -> str:
    return _PATH.sub(r"\1…", _QUERY.sub(r"\1…", text))


class RedactCredentials(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install() -> None:
    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCredentials) for f in logger.filters):
            logger.addFilter(RedactCredentials())
