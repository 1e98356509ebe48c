"""The README's promises: `furusato demo` runs with nothing configured; `serve` refuses to."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

FURUSATO = shutil.which("furusato", path=str(Path(sys.executable).parent)) or "furusato"
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if not k.startswith(("LINE_", "FURUSATO_", "DATABASE_URL", "SECRET_KEY"))}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_demo_runs_with_nothing_configured(tmp_path):
    port = free_port()
    demo = subprocess.Popen([FURUSATO, "demo", "--port", str(port)], cwd=tmp_path, env=CLEAN_ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        address = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and address is None:
            line = demo.stdout.readline()
            if not line and demo.poll() is not None:
                pytest.fail("demo exited early")
            if "Open the chat simulator:" in line:
                address = line.split(": ", 1)[1].strip()
        assert address == f"http://127.0.0.1:{port}/_dev/chat/"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert json.load(response)["status"] == "ok"
        with urllib.request.urlopen(address, timeout=5) as response:
            assert response.status == 200
        assert (tmp_path / "furusato-demo.sqlite3").exists()
        _a_queued_push_reaches_the_chat(port, tmp_path / "furusato-demo.sqlite3")
    finally:
        demo.terminate()
        demo.wait(10)


def _a_queued_push_reaches_the_chat(port: int, database: Path) -> None:
    """The demo plays the `worker` too: what the outbox holds reaches the simulator's chat."""
    from datetime import UTC, datetime

    from bot.delivery import outbox
    from bot.store.db import Database

    base = f"http://127.0.0.1:{port}/_dev/chat/api/users"
    request = urllib.request.Request(base, data=json.dumps({"displayName": "花子"}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        user_id = json.load(response)["user"]["userId"]
    db = Database(f"sqlite:///{database}")
    with db.transaction() as session:
        outbox.push(session, user_id, [{"type": "text", "text": "お知らせです"}], datetime.now(UTC))
    db.engine.dispose()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{base}/{user_id}/history", timeout=5) as response:
            entries = json.load(response)["entries"]
        if any(entry.get("via") == "push" for entry in entries):
            return
        time.sleep(0.5)
    pytest.fail("the queued push did not reach the chat")


def test_serve_refuses_without_production_settings(tmp_path):
    result = subprocess.run([FURUSATO, "serve"], cwd=tmp_path, env=CLEAN_ENV,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "Production configuration is missing: LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN, " \
           "SECRET_KEY, DATABASE_URL, LINE_BOT_BASIC_ID, PUBLIC_BASE_URL" in result.stderr
    assert "Traceback" not in result.stderr
