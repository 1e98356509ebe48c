"""Access logs keep no bearer credential (web/access_log.py): the request lines that werkzeug
(demo, tests) and gunicorn (production, as the Procfile runs it) write for every page that is
reached with a token — a registration card's QR image, a staff download, the rotating-code
page's link, the identity pages."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from bot.codes import card_codes, links
from bot.services import downloads
from tests.factories import KAMIYAMA
from web import access_log

ROOT = Path(__file__).parents[1]


def bearer_requests(app) -> list[tuple[str, str, str]]:
    """(token, path, how the request line must show the path): genuine signed tokens of each
    kind, and the identity provider's redirect."""
    config, secret = app.config, app.config["SECRET_KEY"]
    card, _code = card_codes.issue(1, datetime.now(UTC), secret)
    download = urlsplit(downloads.download_url(config, "statistics", KAMIYAMA, person_id=1)).path
    rotating = urlsplit(links.rotating_url(config, 1, 1)).path
    ticket = "ticket-" + "x" * 40
    return [
        (card, f"/card/{card}.png", "/card/…"),
        (download.rsplit("/", 1)[1], download, "/downloads/…"),
        (rotating.rsplit("/", 1)[1], rotating, "/staff/rotating/…"),
        (ticket, f"/identity/start/{ticket}", "/identity/start/…"),
        ("provider-code-123", "/identity/callback?code=provider-code-123&state=s",
         "/identity/callback?code=…&state=…"),
    ]


def assert_clean(logged: str, requests: list[tuple[str, str, str]]) -> None:
    for token, _path, shown in requests:
        assert f"GET {shown} HTTP/1.1" in logged  # the request was logged, without its token
        assert token not in logged


def fetch(url: str, headers: dict[str, str] | None = None, timeout: float = 10) -> int:
    """GET `url`; the status, whatever it is (a refusal is logged like a success)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                    timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_werkzeug_request_lines_keep_no_token(app, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    requests = bearer_requests(app)
    for _token, path, _shown in requests:
        fetch(app.live_url + path)

    assert_clean("\n".join(r.getMessage() for r in caplog.records if r.name == "werkzeug"),
                 requests)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int, server: subprocess.Popen) -> None:
    """Until the worker answers: the socket is open at once, the app loads seconds later."""
    deadline = time.monotonic() + 30
    while True:
        assert server.poll() is None, server.communicate()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
    fetch(f"http://127.0.0.1:{port}/healthz", timeout=60)


def test_gunicorn_access_lines_keep_no_token(app, database_url):
    """The production command of the Procfile, with its access log on stdout."""
    port = _free_port()
    environment = {**os.environ, "FURUSATO_ENV": "test", "DATABASE_URL": database_url,
                   "SECRET_KEY": app.config["SECRET_KEY"], "PUBLIC_BASE_URL": app.live_url}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--access-logfile", "-", "web:create_app()"],
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(port, server)
        requests = bearer_requests(app)
        for _token, path, _shown in requests:  # the referrer, logged too, is the page itself
            fetch(f"http://127.0.0.1:{port}{path}", {"Referer": app.live_url + path})
    finally:
        server.terminate()
        out, _err = server.communicate(timeout=30)

    assert_clean(out, requests)


def test_every_route_that_takes_a_token_is_redacted_or_public_for_a_reason(app):
    for rule in app.url_map.iter_rules():
        if not {"token", "link"} & rule.arguments:
            continue
        prefix = rule.rule.split("<", 1)[0]
        assert prefix in access_log.BEARER_PATHS or prefix in access_log.PUBLIC_PATHS, rule.rule
        if prefix in access_log.BEARER_PATHS:
            assert access_log.redact(f"GET {prefix}SECRET.1-_x HTTP/1.1") == f"GET {prefix}… HTTP/1.1"
