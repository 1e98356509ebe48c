"""Configuration: production refuses to start without its secrets, naming each one."""

from __future__ import annotations

import pytest

from bot.config import IDENTITY_ADDRESSES, REQUIRED_IN_PRODUCTION, ConfigurationError, load
from bot.identity.keys import as_json, new_private_key
from web import create_app

SECRET = "a-production-secret-of-at-least-32-bytes"
PRODUCTION = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t", "SECRET_KEY": SECRET,
              "DATABASE_URL": "sqlite://", "LINE_BOT_BASIC_ID": "@x",
              "PUBLIC_BASE_URL": "https://furusato.example.jp", "FURUSATO_ENV": "production"}
DIGITAL_AUTH = {**PRODUCTION, "IDENTITY_PROVIDER": "digital_auth",
                "IDENTITY_ISSUER": "https://idp.example/realms/main", "IDENTITY_CLIENT_ID": "c",
                "IDENTITY_PRIVATE_KEY": as_json(new_private_key())}


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
    app = create_app(PRODUCTION)
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


# Settings production refuses even when given -----------------------------------------------------

@pytest.mark.parametrize("key", ["k", "x" * 31, "鍵" * 10])  # 鍵: 3 bytes in UTF-8
def test_production_refuses_a_secret_key_shorter_than_32_bytes(key):
    with pytest.raises(ConfigurationError, match="SECRET_KEY must be at least 32 bytes"):
        load({**PRODUCTION, "SECRET_KEY": key}, environ={})


def test_a_secret_key_of_32_bytes_is_enough():
    assert load({**PRODUCTION, "SECRET_KEY": "鍵" * 11}, environ={})["SECRET_KEY"] == "鍵" * 11


@pytest.mark.parametrize("setting", IDENTITY_ADDRESSES)
def test_production_refuses_an_http_identity_address(setting):
    with pytest.raises(ConfigurationError) as refused:
        load({**DIGITAL_AUTH, setting: "http://idp.example/realms/main/x"}, environ={})
    assert f"{setting} must be an https:// address" in str(refused.value)


@pytest.mark.parametrize("algorithms, named", [
    ("none", "none"), ("RS256 HS256", "HS256"), ("ES256 hs512", "hs512"), ("None RS256", "None")])
def test_production_refuses_unsigned_and_hmac_id_tokens(algorithms, named):
    with pytest.raises(ConfigurationError) as refused:
        load({**DIGITAL_AUTH, "IDENTITY_ID_TOKEN_ALGORITHMS": algorithms}, environ={})
    message = str(refused.value)
    assert "IDENTITY_ID_TOKEN_ALGORITHMS must not accept" in message and named in message
    assert "RS256, ES256" in message  # what to use instead


def test_every_unsafe_setting_is_named_at_once():
    with pytest.raises(ConfigurationError) as refused:
        load({**DIGITAL_AUTH, "SECRET_KEY": "short", "IDENTITY_ISSUER": "http://idp.example",
              "IDENTITY_ID_TOKEN_ALGORITHMS": "HS256"}, environ={})
    for name in ("SECRET_KEY", "IDENTITY_ISSUER", "IDENTITY_ID_TOKEN_ALGORITHMS"):
        assert name in str(refused.value)


def test_production_with_safe_identity_settings_starts():
    config = load({**DIGITAL_AUTH, "IDENTITY_TOKEN_ENDPOINT": "https://idp.example/token",
                   "IDENTITY_ID_TOKEN_ALGORITHMS": "RS256 ES256 PS256"}, environ={})
    assert config["IDENTITY_PROVIDER"] == "digital_auth"


def test_demo_may_use_the_local_sandbox_over_http():
    assert load({"FURUSATO_ENV": "demo"}, environ={})["PUBLIC_BASE_URL"].startswith("http://")
