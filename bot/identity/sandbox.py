"""The sandbox identity provider: デジタル認証アプリ's protocol, for demo and test only.

Mounted under /_dev/idp in demo and test mode, never in production (bot/config.py refuses
IDENTITY_PROVIDER=sandbox there). It behaves like the real provider at the protocol level:

- discovery, JWKS (its own signing key, made at start-up), userinfo;
- authorize refuses an unknown client or redirect URI, a request without `state` or `nonce`,
  and PKCE other than S256 — with a 400 page, as nothing can safely be redirected;
- a persona picker stands in for the card (cancel → `error=access_denied`, provider error →
  `error=server_error`);
- token checks the `private_key_jwt` client assertion (iss = sub = client ID, aud = the token
  endpoint, exp, a jti never seen before, the signature against the client's registered
  public key: the public half of IDENTITY_PRIVATE_KEY) and the PKCE verifier; codes work once.

All state is in memory, like the local LINE platform's: one process, demo and tests.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from authlib.oidc.core.util import create_half_hash
from flask import Blueprint, Flask, Response, current_app, jsonify, redirect, render_template, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy import select

from bot.domain.calendar import today_in_japan
from bot.identity import keys
from bot.identity.personas import Persona, personas
from bot.identity.provider import CALLBACK_PATH, SANDBOX_REALM, base_url, sandbox_issuer
from bot.store.db import database
from bot.store.models import VerificationAttempt

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_ALGORITHMS = ["RS256", "ES256", "ES384", "ES512"]
PENDING_SECONDS, CODE_SECONDS, TOKEN_SECONDS = 600, 120, 300
ASSURANCE_LEVEL = "sandbox:jpki-user-certificate"

blueprint = Blueprint("identity_sandbox", __name__, url_prefix=SANDBOX_REALM)


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str
    scope: tuple[str, ...]
    persona: Persona
    subject: str
    expires: float


@dataclass
class SandboxProvider:
    """What the provider remembers: pending requests, codes, tokens, client assertions seen."""
    signing_key: ECKey = field(default_factory=keys.new_private_key)
    clock: Callable[[], float] = time.time
    pending: dict[str, tuple[dict, float]] = field(default_factory=dict)
    codes: dict[str, _Grant] = field(default_factory=dict)
    used_codes: set[str] = field(default_factory=set)
    tokens: dict[str, _Grant] = field(default_factory=dict)
    seen_jti: dict[str, float] = field(default_factory=dict)
    #: Every code and token handed out, so that tests can prove the service kept none (R13).
    issued: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)


def _provider() -> SandboxProvider:
    return current_app.extensions["identity_sandbox"]


def _endpoint(name: str) -> str:
    return f"{sandbox_issuer(current_app.config)}/protocol/openid-connect/{name}"


def _client() -> tuple[str, KeySet, str]:
    """The one registered client: its ID, its public key, its redirect URI."""
    config = current_app.config
    private = keys.load_private_key(str(config["IDENTITY_PRIVATE_KEY"]))
    public = KeySet.import_key_set({"keys": [keys.public_jwk(private)]})
    return str(config["IDENTITY_CLIENT_ID"]), public, base_url(config) + CALLBACK_PATH


def subject_of(persona: Persona, client_id: str, tester: str | None = None) -> str:
    """A pairwise subject: the same person looks different to every client.

    Every demo tester picks from the same few personas, so the tester is mixed in: two
    testers choosing 成人 hold two cards, and one tester's renewed card is still their own.
    A `shared` persona is one card for everybody: the way to see "used by another account".
    """
    seed = persona.subject_seed if persona.shared or tester is None \
        else f"{persona.subject_seed}:{tester}"
    return hashlib.sha256(f"{seed}:{client_id}".encode()).hexdigest()[:40]


def _tester(state: str) -> str | None:
    """Who stands at the picker: the account whose attempt carries this `state`.

    A real provider knows its user by the card; the sandbox only has personas, so it asks
    the service it stands in for (same app, demo and test only) whose sign-in this is.
    """
    if not state or len(state) > 64:
        return None
    with database().transaction() as session:
        person_id = session.scalar(select(VerificationAttempt.person_id)
                                   .where(VerificationAttempt.state == state))
    return None if person_id is None else f"person-{person_id}"


def _today() -> date:
    """Today in Japan by the provider's clock (which the tests move): the personas' ages."""
    return today_in_japan(datetime.fromtimestamp(_provider().clock(), UTC))


# Discovery and keys ---------------------------------------------------------------------------

@blueprint.get("/.well-known/openid-configuration")
def discovery():
    return jsonify({
        "issuer": sandbox_issuer(current_app.config),
        "authorization_endpoint": _endpoint("auth"), "token_endpoint": _endpoint("token"),
        "userinfo_endpoint": _endpoint("userinfo"), "jwks_uri": _endpoint("certs"),
        "response_types_supported": ["code"], "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": CLIENT_ALGORITHMS,
        "scopes_supported": ["openid", "name", "address", "birthdate", "gender"],
    })


@blueprint.get("/protocol/openid-connect/certs")
def certs():
    return jsonify({"keys": [keys.public_jwk(_provider().signing_key)]})


# Authorize ------------------------------------------------------------------------------------

def _bad_request(error: str, description: str) -> Response:
    return Response(f"{error}: {description}\n", 400, mimetype="text/plain")


def _authorization_problem(args) -> Response | None:
    client_id, _key, redirect_uri = _client()
    if args.get("client_id") != client_id:
        return _bad_request("unauthorized_client", "unknown client_id")
    if args.get("redirect_uri") != redirect_uri:
        return _bad_request("invalid_request", "redirect_uri is not registered for this client")
    if args.get("response_type") != "code":
        return _bad_request("unsupported_response_type", "only the authorization code flow")
    if "openid" not in args.get("scope", "").split():
        return _bad_request("invalid_scope", "openid is required")
    if not args.get("state"):
        return _bad_request("invalid_request", "state is required")
    if not args.get("nonce"):
        return _bad_request("invalid_request", "nonce is required")
    if not args.get("code_challenge") or args.get("code_challenge_method") != "S256":
        return _bad_request("invalid_request", "PKCE with code_challenge_method=S256 is required")
    return None


@blueprint.get("/protocol/openid-connect/auth")
def authorize():
    problem = _authorization_problem(request.args)
    if problem is not None:
        return problem
    provider = _provider()
    request_id = secrets.token_urlsafe(16)
    with provider.lock:
        provider.pending[request_id] = (dict(request.args), provider.clock() + PENDING_SECONDS)
    return _picker(request_id)


def _picker(request_id: str, error: str | None = None, status: int = 200):
    return render_template("identity/sandbox_picker.html", request_id=request_id, error=error,
                           personas=personas(_today()).values()), status


@blueprint.post("/protocol/openid-connect/auth")
def choose():
    provider = _provider()
    request_id = request.form.get("request_id", "")
    persona = personas(_today()).get(request.form.get("persona", ""))
    with provider.lock:
        pending = provider.pending.pop(request_id, None)
    if pending is None or pending[1] < provider.clock():
        return _bad_request("invalid_request", "this sign-in has expired; start again")
    args = pending[0]
    if persona is None or (persona.subject_seed is not None
                           and not _is_pin(request.form.get("pin", ""))):
        with provider.lock:
            provider.pending[request_id] = pending
        return _picker(request_id, "ペルソナを選び、暗証番号（数字4桁）を入力してください。 / "
                                   "Choose a persona and enter a 4-digit PIN.", 400)
    # The PIN only unlocks the card on the person's phone: it goes no further, not even here.
    if persona.key == "cancel":
        return _back(args, error="access_denied", error_description="the user cancelled")
    if persona.key == "error":
        return _back(args, error="server_error", error_description="the provider failed")
    code = secrets.token_urlsafe(32)
    grant = _Grant(args["client_id"], args["redirect_uri"], args["code_challenge"], args["nonce"],
                   tuple(args.get("scope", "").split()), persona,
                   subject_of(persona, args["client_id"], _tester(args["state"])),
                   provider.clock() + CODE_SECONDS)
    with provider.lock:
        provider.codes[code] = grant
        provider.issued.append(code)
    return _back(args, code=code, session_state=secrets.token_hex(8))


def _is_pin(pin: str) -> bool:
    return len(pin) == 4 and pin.isascii() and pin.isdigit()


def _back(args: dict, **params: str):
    query = urlencode({**params, "state": args["state"]})
    return redirect(f"{args['redirect_uri']}?{query}", 302)


# Token ----------------------------------------------------------------------------------------

def _oauth_error(status: int, error: str, description: str) -> Response:
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


class _Refused(Exception):
    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.response = _oauth_error(status, error, description)


def _authenticate_client(form) -> str:
    """The client ID, once its private_key_jwt assertion has been checked in full."""
    client_id, public_key, _ = _client()
    provider = _provider()
    if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
        raise _Refused(401, "invalid_client", "private_key_jwt client authentication is required")
    try:
        assertion = jwt.decode(form["client_assertion"], public_key, algorithms=CLIENT_ALGORITHMS)
        JWTClaimsRegistry(
            now=int(provider.clock()), leeway=0,
            iss={"essential": True, "value": client_id}, sub={"essential": True, "value": client_id},
            aud={"essential": True, "value": _endpoint("token")}, exp={"essential": True},
            jti={"essential": True}).validate(assertion.claims)
    except (JoseError, ValueError) as error:
        raise _Refused(401, "invalid_client",
                       f"client assertion refused: {type(error).__name__}") from None
    if form.get("client_id", client_id) != client_id:
        raise _Refused(401, "invalid_client", "client_id does not match the assertion")
    jti, expires = str(assertion.claims["jti"]), float(assertion.claims["exp"])
    with provider.lock:
        now = provider.clock()
        provider.seen_jti = {k: v for k, v in provider.seen_jti.items() if v > now}
        if jti in provider.seen_jti:
            raise _Refused(401, "invalid_client", "client assertion jti already used")
        provider.seen_jti[jti] = expires
    return client_id


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _redeem(form, client_id: str) -> _Grant:
    provider = _provider()
    code = form.get("code", "")
    with provider.lock:
        grant = provider.codes.pop(code, None)
        reused = grant is None and code in provider.used_codes
        provider.used_codes.add(code)
    if reused:
        raise _Refused(400, "invalid_grant", "the authorization code was already used")
    if grant is None or grant.expires < provider.clock():
        raise _Refused(400, "invalid_grant", "unknown or expired authorization code")
    if grant.client_id != client_id or form.get("redirect_uri", grant.redirect_uri) != grant.redirect_uri:
        raise _Refused(400, "invalid_grant", "the code was issued to another client or redirect_uri")
    verifier = form.get("code_verifier", "")
    if not 43 <= len(verifier) <= 128 or not secrets.compare_digest(_s256(verifier),
                                                                    grant.code_challenge):
        raise _Refused(400, "invalid_grant", "PKCE verification failed")
    return grant


@blueprint.post("/protocol/openid-connect/token")
def token():
    form = request.form
    if form.get("grant_type") != "authorization_code":
        return _oauth_error(400, "unsupported_grant_type", "only authorization_code")
    try:
        grant = _redeem(form, _authenticate_client(form))
    except _Refused as refused:
        return refused.response
    provider = _provider()
    access_token = secrets.token_urlsafe(32)
    now = int(provider.clock())
    with provider.lock:
        provider.tokens[access_token] = _Grant(**{**grant.__dict__, "expires": now + TOKEN_SECONDS})
    claims = {"iss": sandbox_issuer(current_app.config), "sub": grant.subject,
              "aud": grant.client_id, "iat": now, "exp": now + TOKEN_SECONDS, "auth_time": now,
              "nonce": grant.nonce, "acr": ASSURANCE_LEVEL,
              "at_hash": create_half_hash(access_token, "ES256").decode()}
    key = provider.signing_key
    id_token = jwt.encode({"alg": "ES256", "kid": keys.key_id(key), "typ": "JWT"}, claims, key)
    with provider.lock:
        provider.issued += [access_token, id_token]
    response = jsonify(access_token=access_token, token_type="Bearer", expires_in=TOKEN_SECONDS,
                       id_token=id_token, scope=" ".join(grant.scope))
    response.headers["Cache-Control"] = "no-store"
    return response


# Userinfo -------------------------------------------------------------------------------------

@blueprint.route("/protocol/openid-connect/userinfo", methods=["GET", "POST"])
def userinfo():
    scheme, _, access_token = request.headers.get("Authorization", "").partition(" ")
    provider = _provider()
    with provider.lock:
        grant = provider.tokens.get(access_token) if scheme == "Bearer" else None
    if grant is None or grant.expires < provider.clock():
        response = _oauth_error(401, "invalid_token", "unknown or expired access token")
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response
    persona = grant.persona
    info: dict[str, object] = {"sub": grant.subject,
                               # Deliberately sent: the service must drop it (R13).
                               "individual_number": persona.individual_number}
    if "name" in grant.scope:
        info["name"] = persona.name
    if "birthdate" in grant.scope and persona.birth_date:
        info["birthdate"] = persona.birth_date.isoformat()
    if "address" in grant.scope:
        info["address"] = {"formatted": persona.address}
    return jsonify(info)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.extensions["identity_sandbox"] = SandboxProvider()
