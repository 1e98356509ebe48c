"""Running the web process: gunicorn in production, a threaded server for the demo."""

from __future__ import annotations

import click
from gunicorn.app.base import BaseApplication

from bot import line
from bot.config import ConfigurationError
from bot.delivery.worker import Worker
from bot.devtools.live_server import LiveServer
from bot.line import richmenu
from bot.services import entities
from bot.store import migrate
from web import create_app


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return create_app()


def run_gunicorn(bind: str, workers: int) -> None:
    try:
        create_app()  # refuse here, naming what is missing, rather than in every worker
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from None
    _Gunicorn({"bind": bind, "workers": workers, "accesslog": "-"}).run()


def run_demo(port: int, database_url: str, participants: tuple[str, ...]) -> None:
    """Migrate, load the entities, let a few participate, serve, deploy the rich menu."""
    base = f"http://127.0.0.1:{port}"
    app = create_app({"FURUSATO_ENV": "demo", "DATABASE_URL": database_url,
                      "PUBLIC_BASE_URL": base, "LINE_API_HOST": f"{base}/_dev/line"})
    db = app.extensions["db"]
    migrate.upgrade(db)
    with db.transaction() as session:
        entities.load(session)
        joined = entities.set_participation(session, participants, True)
        names = "、".join(entity.name for entity in joined)
    server = LiveServer(app, port=port)
    richmenu.deploy(line.gateway(app))
    # One process plays the `worker` too, so pushes, broadcasts and results reach the chat.
    worker = Worker(app)
    worker.start()
    click.echo(f"furusato demo: database {db.url}")
    click.echo(f"Participating: {names}")
    click.echo(f"Open the chat simulator: {base}/_dev/chat/")
    click.echo("Press Ctrl+C to stop.")
    try:
        server.thread.join()
    except KeyboardInterrupt:
        worker.stop()
        server.stop()
