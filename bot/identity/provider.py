"""Which identity provider the service uses, and where its endpoints are (by configuration).

Both choices speak the same OpenID Connect (bot/identity/oidc.py); they differ only in where
they live. `digital_auth` is the Digital Agency's デジタル認証アプリ; `sandbox` is the local
provider of demo and test (bot/identity/sandbox.py), mounted under /_dev/idp.

Endpoints: each IDENTITY_*_ENDPOINT given is used as is; otherwise, with IDENTITY_DISCOVERY
on, the issuer's discovery document names them; otherwise the layout seen in a public
integration of デジタル認証アプリ: `{issuer}/protocol/openid-connect/{auth,token,userinfo,certs}`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import requests

from bot.identity import keys

SANDBOX_PREFIX = "/_dev/idp"
#: The sandbox's issuer, under the app's public address (the realm path copies Keycloak's).
SANDBOX_REALM = SANDBOX_PREFIX + "/api/realms/main"
CALLBACK_PATH = "/identity/callback"
HTTP_TIMEOUT_SECONDS = 10
_LAYOUT = {"authorization_endpoint": "auth", "token_endpoint": "token",
           "userinfo_endpoint": "userinfo", "jwks_uri": "certs"}
_SETTING = {"authorization_endpoint": "IDENTITY_AUTHORIZATION_ENDPOINT",
            "token_endpoint": "IDENTITY_TOKEN_ENDPOINT",
            "userinfo_endpoint": "IDENTITY_USERINFO_ENDPOINT", "jwks_uri": "IDENTITY_JWKS_URI"}
#: Discovery documents by URL: static data, refreshed hourly.
_discovered: dict[str, tuple[float, dict]] = {}
DISCOVERY_TTL_SECONDS = 3600


class ProviderUnavailable(RuntimeError):
    """Verification is switched off, or the provider's metadata could not be had."""


@dataclass(frozen=True)
class Provider:
    name: str              # stored with each verification: "digital_auth" | "sandbox"
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    client_id: str
    private_key: keys.PrivateKey
    scopes: tuple[str, ...]
    id_token_algorithms: tuple[str, ...]
    redirect_uri: str
    #: The `acr` values an ID token may carry (the minimum assurance and above); () any.
    accepted_acr: tuple[str, ...] = ()


def base_url(config: Mapping[str, object]) -> str:
    return str(config["PUBLIC_BASE_URL"]).rstrip("/")


def sandbox_issuer(config: Mapping[str, object]) -> str:
    return base_url(config) + SANDBOX_REALM


def configured(config: Mapping[str, object]) -> Provider:
    """The provider of this configuration; read at each use, so a changed base URL counts."""
    name = config.get("IDENTITY_PROVIDER")
    if not name:
        raise ProviderUnavailable("identity verification is not configured (IDENTITY_PROVIDER)")
    issuer = (sandbox_issuer(config) if name == "sandbox"
              else str(config["IDENTITY_ISSUER"]).rstrip("/"))
    endpoints = _endpoints(config, issuer, sandbox=name == "sandbox")
    plain = [endpoint for endpoint, url in endpoints.items() if not url.startswith("https://")]
    if plain and config.get("FURUSATO_ENV") == "production":
        # The settings are checked at start-up (bot/config.py); this is what discovery named.
        raise ProviderUnavailable("the provider's endpoints must be https: " + ", ".join(plain))
    return Provider(
        name=str(name), issuer=issuer, **endpoints,
        client_id=str(config["IDENTITY_CLIENT_ID"]),
        private_key=keys.load_private_key(str(config["IDENTITY_PRIVATE_KEY"])),
        scopes=tuple(str(config["IDENTITY_SCOPES"]).split()),
        id_token_algorithms=tuple(str(config["IDENTITY_ID_TOKEN_ALGORITHMS"]).split()),
        redirect_uri=base_url(config) + CALLBACK_PATH,
        accepted_acr=tuple(str(config.get("IDENTITY_ACCEPTED_ACR") or "").split()))


def is_configured(config: Mapping[str, object]) -> bool:
    return bool(config.get("IDENTITY_PROVIDER"))


def _endpoints(config: Mapping[str, object], issuer: str, sandbox: bool) -> dict[str, str]:
    given = {} if sandbox else {name: str(config[setting]) for name, setting in _SETTING.items()
                                if config.get(setting)}
    if len(given) < len(_SETTING) and _on(config.get("IDENTITY_DISCOVERY")):
        metadata = discover(issuer)
        given = {name: given.get(name) or metadata.get(name) for name in _SETTING} | given
    layout = {name: f"{issuer}/protocol/openid-connect/{path}" for name, path in _LAYOUT.items()}
    return {name: given.get(name) or layout[name] for name in _SETTING}


def _on(value: object) -> bool:
    return str(value or "").lower() in ("1", "on", "true", "yes")


def discover(issuer: str) -> dict:
    """The issuer's discovery document; its `issuer` must be the issuer asked for."""
    url = issuer + "/.well-known/openid-configuration"
    cached = _discovered.get(url)
    if cached and time.monotonic() - cached[0] < DISCOVERY_TTL_SECONDS:
        return cached[1]
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        metadata = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(f"discovery failed: {type(error).__name__}") from None
    if not isinstance(metadata, dict) or metadata.get("issuer") != issuer:
        raise ProviderUnavailable("the discovery document names another issuer")
    _discovered[url] = (time.monotonic(), metadata)
    return metadata
