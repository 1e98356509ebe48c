"""The relying party's side of OpenID Connect, as デジタル認証アプリ requires it.

Authorization code flow with PKCE (S256), `state` and `nonce`; `private_key_jwt` client
authentication at the token endpoint; the ID token checked against the provider's JWKS as
OpenID Connect Core 3.1.3.7 asks (signature, iss, aud — ours alone —, azp, exp, iat, nonce,
at_hash, and acr against the minimum assurance configured); then userinfo for the granted
scopes.
Authlib (≥ 1.9) builds the requests; nothing here keeps a token once `finish` returns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from bot.identity import keys
from bot.identity.provider import HTTP_TIMEOUT_SECONDS, Provider

log = logging.getLogger(__name__)
#: Clock difference tolerated between us and the provider when checking exp and iat.
LEEWAY_SECONDS = 60


class ProviderError(Exception):
    """The provider refused, failed or answered something we cannot trust.

    The message names the step and the kind of failure, never a token or a claim value.
    """


@dataclass(frozen=True)
class Request:
    """One authorisation request: the URL to send the browser to, and what stays with us."""
    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class Identity:
    """What the card says, as far as a rule needs it; held in memory only (R13)."""
    subject: str
    assurance_level: str | None
    name: str | None
    birth_date: date | None
    address: str | None


def _session(provider: Provider, **kwargs) -> OAuth2Session:
    session = OAuth2Session(provider.client_id, provider.private_key,
                            token_endpoint_auth_method="private_key_jwt",
                            scope=" ".join(provider.scopes), redirect_uri=provider.redirect_uri,
                            code_challenge_method="S256", **kwargs)
    session.register_client_auth_method(PrivateKeyJWT(
        provider.token_endpoint, alg=keys.algorithm(provider.private_key),
        headers={"kid": keys.key_id(provider.private_key)}))
    return session


def begin(provider: Provider) -> Request:
    state, nonce, verifier = generate_token(40), generate_token(40), generate_token(64)
    with _session(provider) as session:
        url, _ = session.create_authorization_url(provider.authorization_endpoint, state=state,
                                                  nonce=nonce, code_verifier=verifier)
    return Request(url, state, nonce, verifier)


def finish(provider: Provider, code: str, code_verifier: str, nonce: str,
           now: datetime | None = None) -> Identity:
    """Exchange the code, check the ID token, read userinfo; raise ProviderError otherwise."""
    with _session(provider) as session:
        try:
            token = session.fetch_token(provider.token_endpoint, grant_type="authorization_code",
                                        code=code, code_verifier=code_verifier,
                                        timeout=HTTP_TIMEOUT_SECONDS)
        except Exception as error:  # Authlib's OAuthError, requests' errors, bad JSON
            raise ProviderError(f"token request failed: {type(error).__name__}") from None
        if "id_token" not in token or "access_token" not in token:
            raise ProviderError("the token response has no ID token")
        claims = validate_id_token(
            token["id_token"], jwks(provider), issuer=provider.issuer,
            client_id=provider.client_id, nonce=nonce, access_token=token["access_token"],
            algorithms=provider.id_token_algorithms, now=now, accepted_acr=provider.accepted_acr)
        info = _userinfo(session, provider)
    if info.get("sub") != claims["sub"]:
        raise ProviderError("userinfo is about another subject than the ID token")
    return Identity(subject=str(claims["sub"]), assurance_level=_text(claims.get("acr"), 100),
                    name=_text(info.get("name"), 100), birth_date=birth_date(info.get("birthdate")),
                    address=address_text(info.get("address")))


def jwks(provider: Provider) -> KeySet:
    try:
        response = requests.get(provider.jwks_uri, timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        return KeySet.import_key_set(response.json())
    except (requests.RequestException, ValueError, JoseError) as error:
        raise ProviderError(f"JWKS unavailable: {type(error).__name__}") from None


def validate_id_token(id_token: str, key_set: KeySet, *, issuer: str, client_id: str, nonce: str,
                      access_token: str | None, algorithms: tuple[str, ...],
                      now: datetime | None = None,
                      accepted_acr: tuple[str, ...] = ()) -> dict[str, Any]:
    """The ID token's claims if its signature, iss, aud, azp, exp, nonce and at_hash hold.

    `aud` may be a list (3.1.3.7, 3): it is refused when it holds any audience but us — we
    trust no other — even with `azp` naming us. `acr`, when the provider sends it (3.1.3.7,
    12), must be one of `accepted_acr` (the minimum assurance and above), if any are set.
    """
    try:
        decoded = jwt.decode(id_token, key_set, algorithms=list(algorithms))
    except (JoseError, ValueError) as error:
        raise ProviderError(f"ID token signature refused: {type(error).__name__}") from None
    claims = CodeIDToken(decoded.claims, decoded.header,
                         {"iss": {"essential": True, "value": issuer},
                          "aud": {"essential": True, "value": client_id}},
                         {"nonce": nonce, "client_id": client_id, "access_token": access_token})
    try:
        claims.validate(now=int(now.timestamp()) if now else None, leeway=LEEWAY_SECONDS)
    except (JoseError, ValueError) as error:
        raise ProviderError(f"ID token refused: {type(error).__name__} "
                            f"({getattr(error, 'claim', '') or ''})") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if any(audience != client_id for audience in audiences):
        raise ProviderError("ID token refused: an audience we do not trust (aud)")
    if accepted_acr and "acr" in claims and claims["acr"] not in accepted_acr:
        raise ProviderError("ID token refused: below the minimum assurance (acr)")
    return dict(claims)


def _userinfo(session: OAuth2Session, provider: Provider) -> dict:
    try:
        response = session.get(provider.userinfo_endpoint, timeout=HTTP_TIMEOUT_SECONDS)
        response.raise_for_status()
        info = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderError(f"userinfo failed: {type(error).__name__}") from None
    if not isinstance(info, dict):
        raise ProviderError("userinfo is not a JSON object")
    return info


def _text(value: Any, limit: int) -> str | None:
    return value.strip()[:limit] or None if isinstance(value, str) else None


def birth_date(value: Any) -> date | None:
    """OIDC's YYYY-MM-DD; YYYYMMDD and YYYY/MM/DD too (the exact format is not published)."""
    if not isinstance(value, str):
        return None
    digits = value.strip().replace("-", "").replace("/", "")
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def address_text(value: Any) -> str | None:
    """A plain string, or OIDC's address object (`formatted`, else its parts joined)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if isinstance(value.get("formatted"), str):
            return value["formatted"]
        parts = [value.get(k) for k in ("region", "locality", "street_address")]
        return "".join(p for p in parts if isinstance(p, str)) or None
    return None
