"""furusato: the LINE bot of the furusato resident registration scheme."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask

from bot import config as configuration
from bot.cookieless import NoSessions
from bot.db import Database
from bot.json_bodies import BoundedJSONProvider


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Build the app: defaults, then the environment, then `config`; nothing at import time."""
    settings = configuration.load(config)
    app = Flask(__name__)
    app.config.update(settings)
    app.config["SECRET_KEY"] = settings["SECRET_KEY"]
    app.session_interface = NoSessions()
    app.json = BoundedJSONProvider(app)
    logging.basicConfig(level=str(settings["LOG_LEVEL"]).upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    app.extensions["db"] = Database(str(settings["DATABASE_URL"]))

    from bot import downloads, line, media, qr_views, webhook
    line.init_app(app)
    webhook.init_app(app)
    qr_views.init_app(app)
    media.init_app(app)
    downloads.init_app(app)
    from bot import card_views
    card_views.init_app(app)

    from bot import identity
    identity.init_app(app, development=configuration.is_development(settings))

    if configuration.is_development(settings):
        from bot.devtools import line_platform, simulator
        line_platform.init_app(app)
        simulator.init_app(app)
    return app
