"""No browser sessions: the service keeps none, so Flask's cookie sessions are switched off.

What a page needs across requests travels in signed, expiring links (downloads, the card, the
identity flow's state) or lives in the database. Flask's default would still build a signer and
read the cookies on every request — LINE's webhooks included, the busiest path.

A cookie is set only where a page must know which browser it is talking to, and then it is
its own: one name, one purpose, the path of the pages that read it, HttpOnly, SameSite=Lax,
Secure over https — the identity binding (`/identity/`, bot/identity/binding.py) and the
rotating-code screen's pass (`/staff/screen/<session>`, web/screen_pass.py). Neither is a
session: no other page reads them.
"""

from __future__ import annotations

from flask.sessions import NullSession, SessionInterface


class _NoSession(NullSession):
    """`flask.session` reads as empty; writing to it is a programming error, named as such."""

    def _refuse(self, *args, **kwargs):
        raise RuntimeError("furusato keeps no cookie sessions: put the value in a signed link "
                           "or in the database (web/cookieless.py)")

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _refuse


class NoSessions(SessionInterface):
    null_session_class = _NoSession

    def open_session(self, app, request):
        return None  # Flask then uses `null_session_class`, which is never saved

    def save_session(self, app, session, response):
        return None
