"""Access logs without the credentials that travel in verification URLs (R13, no secrets in logs).

The provider's redirect carries the authorisation code (and `state`) in the query, and the
hand-off link carries a ticket in its path; request-line loggers would write them down.
"""

from __future__ import annotations

import logging
import re

_QUERY = re.compile(r"((?:^|[?&])(?:code|state|session_state|id_token|nonce|code_verifier)=)[^&\s\"]*")
_TICKET = re.compile(r"(/identity/(?:start|guardian)/)[^\s?\"/]+")
#: The loggers that write request lines: werkzeug (demo, tests), gunicorn (production).
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access")


def redact(text: str) -> str:
    return _TICKET.sub(r"\1…", _QUERY.sub(r"\1…", text))


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
