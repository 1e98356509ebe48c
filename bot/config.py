"""Configuration: defaults, the environment, and the production start-up check."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping

from bot.identity.keys import InvalidKey, as_json, load_private_key, new_private_key

#: The variables the service reads, with their defaults. README documents each one.
ENVIRONMENT: dict[str, str | None] = {
    "FURUSATO_ENV": "production",
    "LINE_CHANNEL_SECRET": None,
    "LINE_CHANNEL_ACCESS_TOKEN": None,
    "LINE_API_HOST": "https://api.line.me",
    "LINE_BOT_BASIC_ID": None,
    "LIFF_ID": None,
    "DATABASE_URL": "sqlite:///furusato.sqlite3",
    "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    "SECRET_KEY": None,
    "LOG_LEVEL": "INFO",
    "LINE_TIMEOUT_SECONDS": "5",
    # The outgoing queue (bot/delivery; README, Configuration and Operations).
    "OUTBOX_LEASE_SECONDS": "30",
    "OUTBOX_PROBE_SECONDS": "10",
    "OUTBOX_RETENTION_DAYS": "30",
    # R8: basic registrations lapse after this many days without access; the "keep your
    # registration?" prompt goes out this many days before (jobs/inactivity.py).
    "BASIC_LAPSE_DAYS": "730",
    "BASIC_LAPSE_PROMPT_DAYS": "30",
    # My Number Card verification (bot/identity; README, Configuration).
    "IDENTITY_PROVIDER": None,
    "IDENTITY_ISSUER": None,
    "IDENTITY_CLIENT_ID": None,
    "IDENTITY_PRIVATE_KEY": None,
    "IDENTITY_SCOPES": "openid name address birthdate",
    "IDENTITY_DISCOVERY": "off",
    "IDENTITY_AUTHORIZATION_ENDPOINT": None,
    "IDENTITY_TOKEN_ENDPOINT": None,
    "IDENTITY_USERINFO_ENDPOINT": None,
    "IDENTITY_JWKS_URI": None,
    "IDENTITY_ID_TOKEN_ALGORITHMS": "RS256 ES256",
    # The minimum assurance: the ID token's `acr` values accepted, when the provider sends one.
    "IDENTITY_ACCEPTED_ACR": None,
    "IDENTITY_LIFF_ID": None,
}

#: Production must be given these; a default would be a secret everybody knows.
REQUIRED_IN_PRODUCTION = (
    "LINE_CHANNEL_SECRET",
    "LINE_CHANNEL_ACCESS_TOKEN",
    "SECRET_KEY",
    "DATABASE_URL",
    # QR codes hold a link to the account, and LINE fetches images only over HTTPS.
    "LINE_BOT_BASIC_ID",
    "PUBLIC_BASE_URL",
)

MODES = ("production", "demo", "test")
#: SECRET_KEY signs every link and code the service hands out: at least this many bytes.
MIN_SECRET_BYTES = 32
#: Settings whose addresses the identity flow sends credentials to or trusts keys from.
IDENTITY_ADDRESSES = ("IDENTITY_ISSUER", "IDENTITY_AUTHORIZATION_ENDPOINT",
                      "IDENTITY_TOKEN_ENDPOINT", "IDENTITY_USERINFO_ENDPOINT", "IDENTITY_JWKS_URI")


class ConfigurationError(RuntimeError):
    """The service cannot start with this configuration."""


def load(overrides: Mapping[str, object] | None = None,
         environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Merge defaults, the environment and explicit overrides, then check the result."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    config: dict[str, object] = {}
    for name, default in ENVIRONMENT.items():
        value = environ.get(name) or None
        config[name] = value if value is not None else default
    config.update(overrides)

    mode = str(config["FURUSATO_ENV"])
    if mode not in MODES:
        raise ConfigurationError(
            f"FURUSATO_ENV must be one of {', '.join(MODES)}, not {mode!r}")

    if mode == "production":
        # The DATABASE_URL default is for laptops; production must name its database.
        given = {**{k: environ.get(k) for k in REQUIRED_IN_PRODUCTION}, **overrides}
        missing = [name for name in REQUIRED_IN_PRODUCTION if not given.get(name)]
        if missing:
            raise ConfigurationError(
                "Production configuration is missing: " + ", ".join(missing)
                + ". Set them in the environment (see README, Configuration).")
        if not str(config["PUBLIC_BASE_URL"]).startswith("https://"):
            raise ConfigurationError("PUBLIC_BASE_URL must be an https:// address: LINE shows "
                                     "images (the QR codes) only from HTTPS.")
    else:
        # Demo and test make their own secrets: nothing outside this process trusts them.
        for name in ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "SECRET_KEY"):
            if not config.get(name):
                config[name] = secrets.token_hex(16)
        config.setdefault("LINE_BOT_BASIC_ID", None)
        if not config.get("LINE_BOT_BASIC_ID"):
            config["LINE_BOT_BASIC_ID"] = "@furusato-demo"
    _check_identity(config, mode)
    if mode == "production":
        _check_production_safety(config)
    return config


def unsafe_id_token_algorithms(value: object) -> list[str]:
    """`none` and the HMAC algorithms (HS256…): an ID token must carry the provider's
    signature, which only its private key makes — not a secret the client shares."""
    return [name for name in str(value or "").split()
            if name.lower() == "none" or name.upper().startswith("HS")]


def _check_production_safety(config: Mapping[str, object]) -> None:
    """Settings production refuses even when given: each refusal names its setting."""
    problems = []
    secret = str(config["SECRET_KEY"]).encode()
    if len(secret) < MIN_SECRET_BYTES:
        problems.append(f"SECRET_KEY must be at least {MIN_SECRET_BYTES} bytes, not {len(secret)} "
                        "(it signs every link and code the service hands out; "
                        "python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    if config.get("IDENTITY_PROVIDER"):
        for name in IDENTITY_ADDRESSES:
            value = config.get(name)
            if value and not str(value).startswith("https://"):
                problems.append(f"{name} must be an https:// address, not {str(value)[:80]!r}")
        unsafe = unsafe_id_token_algorithms(config.get("IDENTITY_ID_TOKEN_ALGORITHMS"))
        if unsafe:
            problems.append("IDENTITY_ID_TOKEN_ALGORITHMS must not accept " + ", ".join(unsafe)
                            + ": ID tokens must be signed with the provider's key (RS256, ES256…)")
    if problems:
        raise ConfigurationError("Production refuses unsafe settings: " + "; ".join(problems)
                                 + ". See README, Configuration.")


IDENTITY_PROVIDERS = ("digital_auth", "sandbox")


def _check_identity(config: dict[str, object], mode: str) -> None:
    """The identity provider: the sandbox never in production; digital_auth fully configured.

    Production without IDENTITY_PROVIDER runs with verification switched off (the pages say so).
    """
    provider = config.get("IDENTITY_PROVIDER") or ("sandbox" if mode != "production" else None)
    config["IDENTITY_PROVIDER"] = provider
    if provider is None:
        return
    if provider not in IDENTITY_PROVIDERS:
        raise ConfigurationError(f"IDENTITY_PROVIDER must be one of {', '.join(IDENTITY_PROVIDERS)}, "
                                 f"not {provider!r}")
    if provider == "sandbox":
        if mode == "production":
            raise ConfigurationError("IDENTITY_PROVIDER=sandbox is for demo and test only: "
                                     "production verifies with digital_auth.")
        # Demo and test: the sandbox knows this client by the public half of its key.
        config["IDENTITY_CLIENT_ID"] = config.get("IDENTITY_CLIENT_ID") or "furusato-sandbox"
        if not config.get("IDENTITY_PRIVATE_KEY"):
            config["IDENTITY_PRIVATE_KEY"] = as_json(new_private_key())
    missing = [name for name in ("IDENTITY_ISSUER", "IDENTITY_CLIENT_ID", "IDENTITY_PRIVATE_KEY")
               if provider == "digital_auth" and not config.get(name)]
    if missing:
        raise ConfigurationError("IDENTITY_PROVIDER=digital_auth is missing: " + ", ".join(missing)
                                 + ". Set them in the environment (see README, Configuration).")
    try:
        load_private_key(str(config["IDENTITY_PRIVATE_KEY"]))
    except InvalidKey as error:
        raise ConfigurationError(str(error)) from None


def is_development(config: Mapping[str, object]) -> bool:
    """Demo and test mount the local LINE platform and the chat simulator; production never."""
    return config["FURUSATO_ENV"] in ("demo", "test")
