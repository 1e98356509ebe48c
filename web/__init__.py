"""The web process: the Flask app and every view it serves (LINE's webhook, codes, pages)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask

from bot import config as configuration
from bot import line
from bot.devtools import line_platform, simulator
from bot.identity import sandbox as identity_sandbox
from bot.store.db import Database
from web import access_log, card, checkin, downloads, media, security_headers, webhook
from web.cookieless import NoSessions
from web.identity import views as identity_views
from web.json_bodies import BoundedJSONProvider


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Build the app: defaults, then the environment, then `config`; nothing at import time."""
    settings = configuration.load(config)
    app = Flask(__name__)
    app.config.update(settings)
    app.config["SECRET_KEY"] = settings["SECRET_KEY"]
    app.session_interface = NoSessions()
    app.json = BoundedJSONProvider(app)
    security_headers.init_app(app)  # framing and scripts, for every page but /_dev/
    logging.basicConfig(level=str(settings["LOG_LEVEL"]).upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    app.extensions["db"] = Database(str(settings["DATABASE_URL"]))

    line.init_app(app)
    webhook.init_app(app)
    checkin.init_app(app)
    media.init_app(app)
    downloads.init_app(app)
    card.init_app(app)

    identity_views.init_app(app)
    access_log.install()
    development = configuration.is_development(settings)
    if development:
        identity_sandbox.init_app(app)
        line_platform.init_app(app)
        simulator.init_app(app)
    elif not app.config.get("IDENTITY_PROVIDER"):
        logging.getLogger(__name__).warning(
            "IDENTITY_PROVIDER is not set: My Number Card verification (and so premium) is off")
    return app
