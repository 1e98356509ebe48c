"""My Number Card identity verification (R5, R10, R13): provider, hand-off, records, pages.

Modules: `provider` (which provider, its endpoints), `oidc` (the relying party's protocol),
`sandbox` (the demo/test provider, /_dev/idp), `handoff` (links and tickets), `flow` (one
verification), `records` (what is stored, the status others read), `address` (address →
municipality), `views` and `wording` (the web view), `walkthrough` (scenarios drive the pages).
"""

from __future__ import annotations

import logging

from flask import Flask


def init_app(app: Flask, development: bool) -> None:
    from bot.identity import redaction, views

    views.init_app(app)
    redaction.install()
    if development:
        from bot.identity import sandbox

        sandbox.init_app(app)
    elif not app.config.get("IDENTITY_PROVIDER"):
        logging.getLogger(__name__).warning(
            "IDENTITY_PROVIDER is not set: My Number Card verification (and so premium) is off")
