"""The client's private key (JWK or PEM) for `private_key_jwt`, and keys for the sandbox."""

from __future__ import annotations

import json

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, RSAKey

PrivateKey = RSAKey | ECKey

#: The JWS algorithm that goes with each key type and curve.
_ALGORITHMS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}


class InvalidKey(ValueError):
    """The configured key cannot be read or is not a private RSA or EC key."""


def load_private_key(text: str) -> PrivateKey:
    """A private key from a JWK (JSON) or a PEM text, as IDENTITY_PRIVATE_KEY holds it."""
    text = text.strip()
    try:
        if text.startswith("{"):
            key = JWKRegistry.import_key(json.loads(text))
        elif "BEGIN" in text:
            key = _pem(text.encode())
        else:
            raise InvalidKey("IDENTITY_PRIVATE_KEY must be a JWK (JSON) or a PEM private key")
    except (JoseError, ValueError, TypeError) as error:
        if isinstance(error, InvalidKey):
            raise
        raise InvalidKey(f"IDENTITY_PRIVATE_KEY cannot be read: {type(error).__name__}") from None
    if not isinstance(key, RSAKey | ECKey) or not key.is_private:
        raise InvalidKey("IDENTITY_PRIVATE_KEY must be a private RSA or EC key")
    return key


def _pem(data: bytes) -> PrivateKey:
    for kind in (RSAKey, ECKey):
        try:
            return kind.import_key(data)
        except (JoseError, ValueError, TypeError):
            continue
    raise InvalidKey("IDENTITY_PRIVATE_KEY is PEM but neither an RSA nor an EC private key")


def algorithm(key: PrivateKey) -> str:
    if isinstance(key, RSAKey):
        return "RS256"
    return _ALGORITHMS[key.as_dict()["crv"]]


def key_id(key: PrivateKey) -> str:
    """The key's `kid`, or its RFC 7638 thumbprint when it has none (a PEM key)."""
    return key.kid or key.thumbprint()


def public_jwk(key: PrivateKey) -> dict:
    return {**key.as_dict(private=False), "kid": key_id(key), "use": "sig", "alg": algorithm(key)}


def new_private_key() -> ECKey:
    """A P-256 key: quick to make, so demo and test can have a fresh one at every start."""
    return ECKey.generate_key("P-256", private=True, auto_kid=True)


def as_json(key: PrivateKey) -> str:
    return json.dumps(key.as_dict(private=True))
