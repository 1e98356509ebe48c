"""The identity provider's protocol: every check of the sandbox provider, the client's ID-token
checks, and the configuration that picks the provider (R5, R13)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from bot.config import ConfigurationError, load
from bot.identity import keys, oidc
from bot.identity import provider as provider_module
from bot.identity.provider import ProviderUnavailable, configured
from bot.identity.sandbox import ASSERTION_TYPE, ASSURANCE_LEVEL
from tests.factories import PIN, url_path
from web import create_app

PRODUCTION = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t",
              "SECRET_KEY": "a-production-secret-of-at-least-32-bytes",
              "DATABASE_URL": "sqlite://", "LINE_BOT_BASIC_ID": "@x",
              "PUBLIC_BASE_URL": "https://furusato.example.jp", "FURUSATO_ENV": "production"}


def authorization(app, **changes):
    """A real authorisation request of the client, with some parameters changed (None drops)."""
    request = oidc.begin(configured(app.config))
    params = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return request, params


def code_for(client, app, persona="adult"):
    request, params = authorization(app)
    endpoint = url_path(configured(app.config).authorization_endpoint)
    picker = client.get(endpoint, query_string=params)
    assert picker.status_code == 200, picker.text
    request_id = re.search(r'name="request_id" value="([^"]+)"', picker.text).group(1)
    back = client.post(endpoint, data={"request_id": request_id, "persona": persona, "pin": PIN})
    assert back.status_code == 302
    query = parse_qs(urlsplit(back.headers["Location"]).query)
    return request, query


def assertion(app, key=None, **claims) -> str:
    provider = configured(app.config)
    key = key or provider.private_key
    now = int(time.time())
    body = {"iss": provider.client_id, "sub": provider.client_id,
            "aud": provider.token_endpoint, "exp": now + 60, "iat": now,
            "jti": secrets.token_urlsafe(16), **claims}
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode({"alg": keys.algorithm(key), "kid": keys.key_id(key)}, body, key)


def exchange(client, app, code, verifier, client_assertion="default", **extra):
    form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "redirect_uri": configured(app.config).redirect_uri, **extra}
    if client_assertion is not None:
        form["client_assertion_type"] = ASSERTION_TYPE
        form["client_assertion"] = (assertion(app) if client_assertion == "default"
                                    else client_assertion)
    return client.post(url_path(configured(app.config).token_endpoint), data=form)


# Authorize ------------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, reason", [
    ({"state": None}, "state is required"),
    ({"nonce": None}, "nonce is required"),
    ({"code_challenge_method": "plain"}, "S256"),
    ({"code_challenge": None, "code_challenge_method": None}, "S256"),
    ({"client_id": "someone-else"}, "unknown client_id"),
    ({"redirect_uri": "https://evil.example/callback"}, "redirect_uri"),
    ({"response_type": "token"}, "authorization code"),
])
def test_authorize_refuses_an_incomplete_or_foreign_request(app, client, changes, reason):
    _, params = authorization(app, **changes)
    response = client.get(url_path(configured(app.config).authorization_endpoint), query_string=params)
    assert response.status_code == 400
    assert reason in response.text
    assert "Location" not in response.headers  # nothing is sent to an unchecked address


def test_the_persona_picker_needs_a_pin(app, client):
    _, params = authorization(app)
    endpoint = url_path(configured(app.config).authorization_endpoint)
    request_id = re.search(r'name="request_id" value="([^"]+)"',
                           client.get(endpoint, query_string=params).text).group(1)
    refused = client.post(endpoint, data={"request_id": request_id, "persona": "adult", "pin": ""})
    assert refused.status_code == 400 and "4-digit PIN" in refused.text
    accepted = client.post(endpoint, data={"request_id": request_id, "persona": "adult", "pin": PIN})
    assert accepted.status_code == 302 and "code=" in accepted.headers["Location"]


@pytest.mark.parametrize("persona, error", [("cancel", "access_denied"), ("error", "server_error")])
def test_cancel_and_provider_error_come_back_as_oauth_errors(app, client, persona, error):
    request, query = code_for(client, app, persona)
    assert query["error"] == [error] and query["state"] == [request.state]
    assert "code" not in query


# Token ----------------------------------------------------------------------------------------

def test_a_complete_token_request_gets_tokens_and_userinfo(app, client):
    request, query = code_for(client, app)
    response = exchange(client, app, query["code"][0], request.code_verifier)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert {"access_token", "id_token", "token_type"} <= set(body)
    info = client.get(url_path(configured(app.config).userinfo_endpoint),
                      headers={"Authorization": f"Bearer {body['access_token']}"}).get_json()
    assert info["name"] == "山田 太郎" and info["birthdate"] == "1990-04-01"
    assert re.fullmatch(r"\d{12}", info["individual_number"])  # sent on purpose: we must drop it


def test_a_token_request_without_a_client_assertion_is_refused(app, client):
    request, query = code_for(client, app)
    response = exchange(client, app, query["code"][0], request.code_verifier, client_assertion=None)
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize("make", [
    lambda app: assertion(app, key=ECKey.generate_key("P-256", private=True, auto_kid=True)),
    lambda app: assertion(app, aud="https://elsewhere.example/token"),
    lambda app: assertion(app, iss="someone-else"),
    lambda app: assertion(app, sub="someone-else"),
    lambda app: assertion(app, exp=int(time.time()) - 10),
    lambda app: assertion(app, exp=None),
    lambda app: assertion(app, jti=None),
    lambda app: "not.a.jwt",
], ids=["other key", "audience", "issuer", "subject", "expired", "no exp", "no jti", "garbage"])
def test_a_bad_client_assertion_is_refused(app, client, make):
    request, query = code_for(client, app)
    response = exchange(client, app, query["code"][0], request.code_verifier,
                        client_assertion=make(app))
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_a_client_assertion_works_once(app, client):
    used = assertion(app)
    first_request, first = code_for(client, app)
    assert exchange(client, app, first["code"][0], first_request.code_verifier,
                    client_assertion=used).status_code == 200
    second_request, second = code_for(client, app)
    replay = exchange(client, app, second["code"][0], second_request.code_verifier,
                      client_assertion=used)
    assert replay.status_code == 401 and "jti" in replay.get_json()["error_description"]


@pytest.mark.parametrize("verifier", ["x" * 64, "", "short"], ids=["wrong", "missing", "short"])
def test_the_pkce_verifier_must_match(app, client, verifier):
    _, query = code_for(client, app)
    response = exchange(client, app, query["code"][0], verifier)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_a_code_works_once(app, client):
    request, query = code_for(client, app)
    assert exchange(client, app, query["code"][0], request.code_verifier).status_code == 200
    again = exchange(client, app, query["code"][0], request.code_verifier)
    assert again.status_code == 400 and "already used" in again.get_json()["error_description"]


def test_userinfo_needs_a_valid_access_token(app, client):
    response = client.get(url_path(configured(app.config).userinfo_endpoint),
                          headers={"Authorization": "Bearer made-up"})
    assert response.status_code == 401 and "invalid_token" in response.headers["WWW-Authenticate"]


def test_discovery_and_keys_describe_the_sandbox(app, client):
    provider = configured(app.config)
    metadata = client.get(url_path(provider.issuer) + "/.well-known/openid-configuration").get_json()
    assert metadata["issuer"] == provider.issuer
    assert metadata["token_endpoint"] == provider.token_endpoint
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert client.get(url_path(provider.jwks_uri)).get_json()["keys"][0]["kty"] == "EC"


# The client's ID-token checks -------------------------------------------------------------------

ISSUER, CLIENT = "https://idp.example/realms/main", "furusato"


@pytest.fixture
def signer():
    return ECKey.generate_key("P-256", private=True, auto_kid=True)


def id_token(key, **claims) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "sub": "pairwise-1", "aud": CLIENT, "iat": now, "exp": now + 300,
            "nonce": "n-123", "at_hash": create_half_hash("access-1", "ES256").decode(), **claims}
    return jwt.encode({"alg": "ES256", "kid": key.kid}, {k: v for k, v in body.items()
                                                          if v is not None}, key)


def check(token, key, accepted_acr=()):
    return oidc.validate_id_token(token, KeySet([key]), issuer=ISSUER, client_id=CLIENT,
                                  nonce="n-123", access_token="access-1", algorithms=("ES256",),
                                  accepted_acr=accepted_acr)


def test_a_good_id_token_passes(signer):
    assert check(id_token(signer), signer)["sub"] == "pairwise-1"


@pytest.mark.parametrize("claims", [
    {"nonce": "n-other"}, {"nonce": None}, {"aud": "another-client"}, {"iss": "https://evil.example"},
    {"exp": int(time.time()) - 3600}, {"exp": None},
    {"at_hash": create_half_hash("another-access", "ES256").decode()},
], ids=["wrong nonce", "no nonce", "audience", "issuer", "expired", "no exp", "at_hash"])
def test_an_id_token_with_a_wrong_claim_is_refused(signer, claims):
    with pytest.raises(oidc.ProviderError):
        check(id_token(signer, **claims), signer)


@pytest.mark.parametrize("claims", [
    {"aud": [CLIENT]}, {"aud": [CLIENT], "azp": CLIENT}, {"aud": CLIENT, "azp": CLIENT}])
def test_our_audience_alone_passes_as_a_string_or_a_list(signer, claims):
    assert check(id_token(signer, **claims), signer)["sub"] == "pairwise-1"


@pytest.mark.parametrize("claims", [
    {"aud": [CLIENT, "another-client"], "azp": CLIENT},
    {"aud": ["another-client", CLIENT], "azp": CLIENT},
    {"aud": [CLIENT, "another-client"]},
    {"aud": [CLIENT], "azp": "another-client"},
], ids=["ours and another, azp ours", "another first", "no azp", "azp another"])
def test_an_audience_we_do_not_trust_is_refused_even_with_azp(signer, claims):
    """OpenID Connect Core 3.1.3.7 (3): refused if it "contains additional audiences not
    trusted by the Client" — we trust none but ourselves."""
    with pytest.raises(oidc.ProviderError, match="aud|azp"):
        check(id_token(signer, **claims), signer)


@pytest.mark.parametrize("acr, accepted, passes", [
    ("urn:jp:loa:high", ("urn:jp:loa:high",), True),
    ("urn:jp:loa:substantial", ("urn:jp:loa:substantial", "urn:jp:loa:high"), True),
    ("urn:jp:loa:low", ("urn:jp:loa:substantial", "urn:jp:loa:high"), False),
    (["urn:jp:loa:high"], ("urn:jp:loa:high",), False),  # not a string: not a level we know
    (None, ("urn:jp:loa:high",), True),  # the provider sends none: nothing to check
    ("urn:jp:loa:low", (), True),  # no minimum configured
], ids=["the minimum", "above it", "below it", "not a string", "no acr", "no minimum"])
def test_acr_is_held_to_the_minimum_assurance_when_sent(signer, acr, accepted, passes):
    token = id_token(signer, acr=acr)
    if passes:
        assert check(token, signer, accepted)["sub"] == "pairwise-1"
    else:
        with pytest.raises(oidc.ProviderError, match="acr"):
            check(token, signer, accepted)


def test_a_verification_below_the_minimum_assurance_records_nothing(app, client):
    """The sandbox's `acr` against IDENTITY_ACCEPTED_ACR, through the whole client."""
    app.config["IDENTITY_ACCEPTED_ACR"] = "urn:example:loa:high"
    request, query = code_for(client, app)
    with pytest.raises(oidc.ProviderError, match="minimum assurance"):
        oidc.finish(configured(app.config), query["code"][0], request.code_verifier,
                    request.nonce)
    app.config["IDENTITY_ACCEPTED_ACR"] = f"urn:example:loa:high {ASSURANCE_LEVEL}"
    request, query = code_for(client, app)
    identity = oidc.finish(configured(app.config), query["code"][0], request.code_verifier,
                           request.nonce)
    assert identity.assurance_level == ASSURANCE_LEVEL


def test_an_id_token_signed_by_another_key_is_refused(signer):
    forger = ECKey.import_key({**ECKey.generate_key("P-256", private=True).as_dict(private=True),
                               "kid": signer.kid})
    with pytest.raises(oidc.ProviderError, match="signature"):
        check(id_token(forger), signer)


def test_an_unsigned_id_token_is_refused(signer):
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=").decode()
    claims = id_token(signer).split(".")[1]
    with pytest.raises(oidc.ProviderError):
        check(f"{header}.{claims}.", signer)


# Configuration ---------------------------------------------------------------------------------

def test_production_refuses_the_sandbox():
    with pytest.raises(ConfigurationError, match="sandbox"):
        load({**PRODUCTION, "IDENTITY_PROVIDER": "sandbox"}, environ={})


def test_production_names_what_digital_auth_is_missing():
    with pytest.raises(ConfigurationError) as refused:
        load({**PRODUCTION, "IDENTITY_PROVIDER": "digital_auth",
              "IDENTITY_ISSUER": "https://idp.example/realms/main"}, environ={})
    assert "IDENTITY_CLIENT_ID" in str(refused.value) and "IDENTITY_PRIVATE_KEY" in str(refused.value)


def test_an_unreadable_key_is_refused():
    with pytest.raises(ConfigurationError, match="IDENTITY_PRIVATE_KEY"):
        load({**PRODUCTION, "IDENTITY_PROVIDER": "digital_auth", "IDENTITY_ISSUER": ISSUER,
              "IDENTITY_CLIENT_ID": "c", "IDENTITY_PRIVATE_KEY": "not a key"}, environ={})


def test_production_with_digital_auth_uses_the_published_layout_and_a_pem_key():
    pem = ECKey.generate_key("P-256", private=True).as_pem(private=True).decode()
    app = create_app({**PRODUCTION, "IDENTITY_PROVIDER": "digital_auth", "IDENTITY_ISSUER": ISSUER,
                      "IDENTITY_CLIENT_ID": "c", "IDENTITY_PRIVATE_KEY": pem,
                      "IDENTITY_USERINFO_ENDPOINT": "https://idp.example/userinfo"})
    provider = configured(app.config)
    assert provider.authorization_endpoint == ISSUER + "/protocol/openid-connect/auth"
    assert provider.token_endpoint == ISSUER + "/protocol/openid-connect/token"
    assert provider.userinfo_endpoint == "https://idp.example/userinfo"
    assert keys.algorithm(provider.private_key) == "ES256"
    assert not any(rule.rule.startswith("/_dev") for rule in app.url_map.iter_rules())


def test_production_without_a_provider_says_verification_is_unavailable():
    app = create_app(PRODUCTION)
    response = app.test_client().get("/identity/start/anything")
    assert response.status_code == 503
    assert "本人確認は現在ご利用いただけません" in response.text


def test_demo_makes_its_own_client_key():
    first, second = (load({"FURUSATO_ENV": "demo"}, environ={}) for _ in range(2))
    assert first["IDENTITY_PROVIDER"] == "sandbox"
    assert first["IDENTITY_PRIVATE_KEY"] != second["IDENTITY_PRIVATE_KEY"]


def test_digital_auth_can_discover_its_endpoints(app):
    """The production code path against the sandbox as an outside provider, by discovery."""
    app.config.update(IDENTITY_PROVIDER="digital_auth", IDENTITY_DISCOVERY="on",
                      IDENTITY_ISSUER=app.live_url + "/_dev/idp/api/realms/main")
    provider = configured(app.config)
    assert provider.name == "digital_auth"
    assert provider.userinfo_endpoint.endswith("/protocol/openid-connect/userinfo")


def test_production_refuses_endpoints_that_discovery_names_over_http(monkeypatch):
    """The settings are checked at start-up; what discovery names is checked at each use."""
    config = load({**PRODUCTION, "IDENTITY_PROVIDER": "digital_auth", "IDENTITY_ISSUER": ISSUER,
                   "IDENTITY_CLIENT_ID": "c", "IDENTITY_DISCOVERY": "on",
                   "IDENTITY_PRIVATE_KEY": keys.as_json(keys.new_private_key())}, environ={})
    document = {"issuer": ISSUER, "authorization_endpoint": ISSUER + "/auth",
                "token_endpoint": "http://idp.example/token", "userinfo_endpoint": ISSUER + "/me",
                "jwks_uri": ISSUER + "/certs"}
    # As if fetched a moment ago: the cache discovery keeps (its documents live an hour).
    monkeypatch.setitem(provider_module._discovered, ISSUER + "/.well-known/openid-configuration",
                        (time.monotonic(), document))
    with pytest.raises(ProviderUnavailable, match="https: token_endpoint"):
        configured(config)
    monkeypatch.setitem(provider_module._discovered, ISSUER + "/.well-known/openid-configuration",
                        (time.monotonic(), {**document, "token_endpoint": ISSUER + "/token"}))
    assert configured(config).token_endpoint == ISSUER + "/token"


def test_the_client_finishes_against_the_sandbox_and_checks_the_id_token(app, client):
    request, query = code_for(client, app)
    identity = oidc.finish(configured(app.config), query["code"][0], request.code_verifier,
                           request.nonce)
    assert (identity.name, str(identity.birth_date)) == ("山田 太郎", "1990-04-01")
    assert identity.address.startswith("徳島県名西郡神山町")
    assert not hasattr(identity, "individual_number")


def test_the_client_refuses_a_replayed_nonce(app, client):
    request, query = code_for(client, app)
    with pytest.raises(oidc.ProviderError, match="nonce"):
        oidc.finish(configured(app.config), query["code"][0], request.code_verifier, "other-nonce")


def test_the_clock_matters_for_the_id_token(app, client):
    request, query = code_for(client, app)
    later = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(oidc.ProviderError, match="ExpiredToken"):
        oidc.finish(configured(app.config), query["code"][0], request.code_verifier,
                    request.nonce, now=later)


def test_s256_is_what_the_client_sends(app):
    request, params = authorization(app)
    digest = hashlib.sha256(request.code_verifier.encode()).digest()
    assert params["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert params["code_challenge_method"] == "S256"
    assert params["state"] == request.state and params["nonce"] == request.nonce
