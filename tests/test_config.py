"""Configuration: production refuses to start without its secrets, naming each one."""

from __future__ import annotations

import pytest

from bot.config import REQUIRED_IN_PRODUCTION, ConfigurationError, load
from web import create_app


def test_production_names_every_missing_setting():
    with pytest.raises(ConfigurationError) as refused:
        load(environ={})
    for name in REQUIRED_IN_PRODUCTION:
        assert name in str(refused.value)


def test_production_names_only_what_is_missing():
    environ = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t",
               "DATABASE_URL": "sqlite://", "LINE_BOT_BASIC_ID": "@x",
               "PUBLIC_BASE_URL": "https://furusato.example.jp"}
    with pytest.raises(ConfigurationError, match="missing: SECRET_KEY\\.") as refused:
        load(environ=environ)
    assert "LINE_CHANNEL_SECRET" not in str(refused.value)


def test_production_starts_with_everything_given_and_has_no_dev_routes():
    app = create_app({"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t",
                      "SECRET_KEY": "k", "DATABASE_URL": "sqlite://",
                      "LINE_BOT_BASIC_ID": "@x", "PUBLIC_BASE_URL": "https://furusato.example.jp",
                      "FURUSATO_ENV": "production"})
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert "/callback" in rules and "/healthz" in rules
    assert not any(rule.startswith("/_dev") for rule in rules)


def test_demo_and_test_make_their_own_secrets():
    config = load({"FURUSATO_ENV": "demo"}, environ={})
    assert config["LINE_CHANNEL_SECRET"] and config["SECRET_KEY"]
    assert config["LINE_CHANNEL_SECRET"] != load({"FURUSATO_ENV": "demo"}, environ={})["LINE_CHANNEL_SECRET"]


def test_an_unknown_mode_is_refused():
    with pytest.raises(ConfigurationError, match="FURUSATO_ENV"):
        load({"FURUSATO_ENV": "staging"}, environ={})


def test_heroku_style_database_urls_use_psycopg():
    from bot.store.db import normalise_url
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_production_needs_an_https_public_address():
    environ = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t", "SECRET_KEY": "k",
               "DATABASE_URL": "sqlite://", "LINE_BOT_BASIC_ID": "@x",
               "PUBLIC_BASE_URL": "http://furusato.example.jp"}
    with pytest.raises(ConfigurationError, match="https"):
        load(environ=environ)
