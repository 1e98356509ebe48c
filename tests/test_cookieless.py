"""The service keeps no browser sessions (web/cookieless.py)."""

import flask
import pytest


def test_pages_read_an_empty_session_and_set_no_cookie(app, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    with app.test_request_context("/", headers={"Cookie": "session=forged"}):
        assert dict(flask.session) == {}


def test_writing_to_the_session_is_refused_with_the_reason(app):
    with app.test_request_context("/"), pytest.raises(RuntimeError, match="no cookie sessions"):
        flask.session["person"] = 1
