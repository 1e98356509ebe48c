"""The verification web view: consent, the provider's callback, the result, LIFF.

- `GET /identity/start/<link>` (one's own) and `/identity/guardian/<link>` (a guardian's): the
  consent page of a ticket; `POST` to the same address uses the ticket up and goes on to the
  provider.
- `GET /identity/callback`: where the provider sends the browser back; the result page.
- `POST /identity/retry`: after a cancel or a failure, once, within 30 minutes.
- `GET /identity/liff`, `POST /identity/liff/begin`: the same inside LINE (IDENTITY_LIFF_ID),
  where LINE's verify endpoint says who the person is.

Every page is `no-store` and sends no referrer: the links are credentials. Every attempt is
bound to the browser that consented (bot/identity/binding.py): "try again" is refused from any
other. A signed link may have been forwarded to someone else, and a callback may reach
another browser, so one's own card is recorded at the callback only for an attempt begun on
the LIFF page (LINE vouched for the account) and back in its browser; any other records
nothing until the code its page shows is sent in the account's own chat
(bot/identity/confirmation.py).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.orm import Session

from bot import line
from bot.i18n import LOCALES, SOURCE_LOCALE, current_locale, use_locale
from bot.i18n.dates import day
from bot.identity import binding, confirmation, flow, handoff, records
from bot.identity.provider import Provider, ProviderUnavailable, base_url, configured, is_configured
from bot.identity.records import Relationship
from bot.services import people
from bot.store.db import database
from bot.store.models import IdentityVerification, Person, VerificationPurpose, VerificationTicket
from conversations.notices import identity as identity_notices
from web.identity import wording

log = logging.getLogger(__name__)
blueprint = Blueprint("identity", __name__)
MAX_ID_TOKEN = 4096


def _browser_locale() -> str:
    return request.accept_languages.best_match(LOCALES) or SOURCE_LOCALE


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _render(page: wording.Page, status: int = 200, **extra) -> Response:
    basic_id = current_app.config.get("LINE_BOT_BASIC_ID")
    back = line.chat_link(basic_id) if basic_id else None
    html = render_template("identity/page.html", page=page, title=wording.title(),
                           lang=current_locale(), back_url=back, back_label=wording.back_to_line(),
                           **extra)
    return _private(Response(html, status, mimetype="text/html"))


def _refused(reason: str, status: int) -> Response:
    with use_locale(_browser_locale()):
        return _render(wording.refusal_page(reason, guardian=_guardian_link()), status)


def _guardian_link() -> bool:
    """A guardian's link: they cannot ask the bot for a new one, only the minor can."""
    return request.path.startswith(handoff.PATHS[VerificationPurpose.GUARDIAN])


def _provider() -> Provider:
    """Built before any transaction: loading the key and fetching discovery can be slow."""
    return configured(current_app.config)


# Consent --------------------------------------------------------------------------------------

def _consent(session: Session, ticket: VerificationTicket, browser: str | None,
             problem: str | None = None, status: int = 200) -> Response:
    """The consent page, its form carrying the token of this browser's binding. Only `start`
    (a GET) sets the cookie: a refused POST shows the page again without one, and a browser
    that sent none (another site's form carries no cookie) gets a button that opens the page
    afresh instead of a form that could not work."""
    person = session.get(Person, ticket.person_id)
    verification = records.verification_of(session, person)
    with use_locale(people.locale_of(person)):
        form = {"action": request.path, "problem": problem}  # the link itself
        if browser is None:
            return _render(_consent_page(session, ticket, person, verification), status,
                           form=form | {"method": "get", "button": wording.reopen_button()})
        form |= {"method": "post",
                 "token": binding.form_token(current_app.secret_key, browser, ticket.id)}
        if ticket.purpose == VerificationPurpose.SELF:
            form["button"] = wording.consent_button()
        else:
            name = verification.name if verification else None
            form |= {"button": wording.guardian_button(), "relationships": wording.relationships(),
                     "relationship_question": wording.relationship_question(),
                     "consent_label": wording.consent_checkbox(name)}
        return _render(_consent_page(session, ticket, person, verification), status, form=form)


def _consent_page(session: Session, ticket: VerificationTicket, person: Person,
                  verification: IdentityVerification | None) -> wording.Page:
    if ticket.purpose == VerificationPurpose.SELF:
        return wording.consent_page(day(verification.verified_at) if verification else None,
                                    person.display_name, in_chat=True)
    return wording.guardian_page(verification.name if verification else None,
                                 person.display_name)


@blueprint.get("/identity/start/<link>")
@blueprint.get("/identity/guardian/<link>")
def start(link: str):
    if not is_configured(current_app.config):
        return _refused("unavailable", 503)
    browser = binding.of(request) or binding.new_value()
    with database().transaction() as session:
        try:
            ticket = handoff.open_ticket(session, link, datetime.now(UTC), current_app.config)
        except handoff.TicketRefused as refusal:
            return _refused(refusal.reason, refusal.status)
        return binding.keep(_consent(session, ticket, browser), browser, current_app.config)


def _cross_site() -> bool:
    """A POST that another site's page made: the browser says so (Sec-Fetch-Site), or its
    Origin is another. `Origin: null` is ours too: the pages send no referrer, and with that
    policy a browser sends `null` for its own forms."""
    if request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
        return True
    origin = request.headers.get("Origin")
    own = urlsplit(base_url(current_app.config))
    return origin not in (None, "null", f"{own.scheme}://{own.netloc}")


def _relationship() -> Relationship | None:
    try:
        chosen = Relationship(request.form.get("relationship", ""))
    except ValueError:
        return None
    return chosen if request.form.get("consent") == "yes" else None


@blueprint.post("/identity/start/<link>")
@blueprint.post("/identity/guardian/<link>")
def begin(link: str):
    if not is_configured(current_app.config):
        return _refused("unavailable", 503)
    now = datetime.now(UTC)
    try:
        provider = _provider()
    except ProviderUnavailable as error:
        log.warning("identity provider unavailable: %s", error)
        return _refused("unavailable", 503)
    browser = binding.of(request)
    with database().transaction() as session:
        try:
            ticket = handoff.open_ticket(session, link, now, current_app.config, lock=True)
        except handoff.TicketRefused as refusal:
            return _refused(refusal.reason, refusal.status)
        if _cross_site() or not binding.form_token_ok(current_app.secret_key, browser, ticket.id,
                                                      request.form.get("token", "")):
            # Not a form this browser was shown (another site's, or the cookie is gone):
            # show the page, with its LINE name, and let the person decide; nothing is used,
            # and the browser's binding stays as it was.
            with use_locale(people.locale_of(session.get(Person, ticket.person_id))):
                problem = wording.consent_again()
            return _consent(session, ticket, browser, problem, 403)
        purpose = VerificationPurpose(ticket.purpose)
        relationship = None
        if purpose == VerificationPurpose.GUARDIAN:
            relationship = _relationship()
            if relationship is None:
                with use_locale(people.locale_of(session.get(Person, ticket.person_id))):
                    problem = wording.guardian_form_incomplete()
                return _consent(session, ticket, browser, problem, 400)
        ticket.used_at = now
        location = flow.start(session, session.get(Person, ticket.person_id), purpose, provider,
                              now, browser, relationship)
    return _private(redirect(location, 303))


# Back from the provider -----------------------------------------------------------------------

@blueprint.get("/identity/callback")
def callback():
    try:
        result = flow.complete(current_app._get_current_object(), request.args, datetime.now(UTC),
                               binding.of(request), tell=identity_notices.tell_result)
    except flow.AttemptRefused as refusal:
        return _refused(refusal.reason, refusal.status)
    if result.code:
        return _confirm_in_chat(result)
    with use_locale(result.locale):
        page = wording.result_page(result.outcome, result.residence, result.replayed,
                                   guardian=result.purpose == VerificationPurpose.GUARDIAN,
                                   premium_at_home=result.premium_at_home)
        extra = {}
        if result.guardian_url:
            extra["guardian"] = {"url": result.guardian_url, "intro": wording.guardian_link_intro(),
                                 "button": wording.guardian_here_button()}
        if result.retry_state:
            extra["retry"] = {"action": url_for("identity.retry"), "state": result.retry_state,
                              "button": wording.retry_button()}
        return _render(page, 410 if result.outcome == flow.EXPIRED else 200, **extra)


def _confirm_in_chat(result: flow.Result) -> Response:
    """Another browser than the one that consented: the code to send in the person's chat."""
    basic_id = current_app.config.get("LINE_BOT_BASIC_ID")
    minutes = int(confirmation.LIFETIME.total_seconds() // 60)
    with use_locale(result.locale):
        typed = confirmation.chat_text(result.code)
        code = {"shown": confirmation.shown(result.code), "typed": typed,
                "url": line.chat_link(basic_id, typed) if basic_id else None,
                "button": wording.send_code_button(),
                "by_hand": wording.code_by_hand(typed, button=bool(basic_id))}
        page = wording.confirm_in_chat_page(result.line_name, minutes, button=bool(basic_id))
        return _render(page, confirmation=code)


@blueprint.post("/identity/retry")
def retry():
    if _cross_site():
        return _refused("unbound", 403)
    now = datetime.now(UTC)
    try:
        provider = _provider()
        with database().transaction() as session:
            location = flow.retry(session, request.form.get("state", ""), provider, now,
                                  binding.of(request))
    except flow.AttemptRefused as refusal:
        return _refused(refusal.reason, refusal.status)
    except ProviderUnavailable as error:
        log.warning("identity provider unavailable: %s", error)
        return _refused("unavailable", 503)
    return _private(redirect(location, 303))


# LIFF -----------------------------------------------------------------------------------------

def _liff_id() -> str | None:
    return current_app.config.get("IDENTITY_LIFF_ID") or None


@blueprint.get("/identity/liff")
def liff_page():
    liff_id = _liff_id()
    if liff_id is None or not is_configured(current_app.config):
        return _refused("unavailable", 404 if liff_id is None else 503)
    with use_locale(_browser_locale()):
        html = render_template("identity/liff.html", lang=current_locale(), liff_id=liff_id,
                               title=wording.title(), page=wording.consent_page(None),
                               button=wording.consent_button(), strings=wording.liff_strings(),
                               begin_url=url_for("identity.liff_begin"))
    # LINE's ID token says who it is; the cookie still ties the provider's callback to here.
    browser = binding.of(request) or binding.new_value()
    return binding.keep(_private(Response(html, mimetype="text/html")), browser, current_app.config)


def _json_error(status: int, reason: str) -> Response:
    with use_locale(_browser_locale()):
        page = wording.refusal_page(reason)
    response = jsonify(error=page.heading, detail=page.paragraphs[0])
    response.status_code = status
    return _private(response)


@blueprint.post("/identity/liff/begin")
def liff_begin():
    liff_id = _liff_id()
    if liff_id is None or not is_configured(current_app.config):
        return _json_error(404, "unavailable")
    if _cross_site():
        return _json_error(403, "unbound")
    body = request.get_json(silent=True)
    id_token = body.get("idToken") if isinstance(body, dict) else None
    if not isinstance(id_token, str) or not 0 < len(id_token) <= MAX_ID_TOKEN:
        return _json_error(400, "invalid")
    app = current_app._get_current_object()
    try:
        user_id = line.gateway(app).verify_id_token(id_token, liff_id.split("-", 1)[0])
    except line.LineUnavailable as error:
        log.warning("LIFF identity: %s", error)
        return _json_error(503, "unavailable")
    if user_id is None:
        return _json_error(401, "invalid")
    now = datetime.now(UTC)
    try:
        provider = _provider()
    except ProviderUnavailable as error:
        log.warning("identity provider unavailable: %s", error)
        return _json_error(503, "unavailable")
    with database().transaction() as session:
        person = people.find(session, user_id)
        if person is None or not person.following:
            return _json_error(403, "unknown_person")
        browser = binding.of(request)
        if browser is None:  # the LIFF page sets it; without it the callback could not finish
            return _json_error(403, "unbound")
        location = flow.start(session, person, VerificationPurpose.SELF, provider, now, browser,
                              vouched=True)  # LINE said whose account this browser is
    return _private(jsonify(location=location))


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
