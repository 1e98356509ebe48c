"""Walk the verification pages over HTTP as a browser would (scenario runner and tests).

From a link the bot sent: the consent page, its form, the provider's persona picker, the
redirect back, and the page it ends on — the result, or the code to send in one's own chat
(every verification started from the chat's signed link ends there). Only what a browser
does: follow redirects, submit forms. Development and tests only: it picks sandbox personas.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urljoin, urlsplit

import urllib3

from bot.identity.personas import personas
from cli.delivered import message_actions, message_texts

TIMEOUT_SECONDS = 15
SANDBOX_PIN = "8067"
#: The words a guardian may give for the relationship, in the page's languages, and its value.
RELATIONSHIPS = {"親権者": "parent", "parent": "parent", "未成年後見人": "legal_guardian",
                 "legal guardian": "legal_guardian", "legal_guardian": "legal_guardian",
                 "その他": "other", "other": "other"}
LINK = re.compile(r"https?://[^\s\"'<>]+/identity/(?:start|guardian)/[A-Za-z0-9._\-]+")
SELF_PATH, GUARDIAN_PATH = "/identity/start/", "/identity/guardian/"
SELF_VERBS = ("verifies identity", "verifies identity in another browser")


class WalkFailed(Exception):
    """The pages did not lead where a person would expect; the message says where it stopped."""


@dataclass
class Form:
    id: str | None
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    choices: dict[str, list[str]] = field(default_factory=dict)  # radio name → values


@dataclass
class Page:
    url: str
    status: int
    text: str
    forms: list[Form]
    outcome: str | None
    links: list[str]
    browser: Browser | None = field(default=None, repr=False)  # the one that fetched it

    def form(self, form_id: str | None = None) -> Form:
        for form in self.forms:
            if form_id is None or form.id == form_id:
                return form
        raise WalkFailed(f"no form {form_id or ''} on {self.url} ({self.status}): {self.text[:300]}")


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self.words: list[str] = []
        self.links: list[str] = []
        self.outcome: str | None = None
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "style", "title"):
            self._skip += 1
        elif tag == "form":
            self.forms.append(Form(attrs.get("id"), attrs.get("action") or "",
                                   (attrs.get("method") or "get").lower()))
        elif tag == "input" and self.forms and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind == "radio":
                self.forms[-1].choices.setdefault(attrs["name"], []).append(attrs.get("value", ""))
                if "checked" in attrs:
                    self.forms[-1].fields[attrs["name"]] = attrs.get("value", "")
            elif kind != "checkbox" or "checked" in attrs:
                self.forms[-1].fields[attrs["name"]] = attrs.get("value", "")
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if attrs.get("data-outcome"):
            self.outcome = attrs["data-outcome"]

    def handle_endtag(self, tag):
        if tag in ("script", "style", "title"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.words.append(data.strip())


class Browser:
    """A fresh in-app browser: it keeps the cookies it is given (by host and path, no
    expiry: a walk is short) and follows every redirect by hand."""

    def __init__(self, language: str = "ja"):
        self.http = urllib3.PoolManager(timeout=TIMEOUT_SECONDS, retries=False)
        self.language = language
        self.cookies: dict[tuple[str, str], tuple[str, str]] = {}  # (host, name) → (path, value)

    def cookie_header(self, url: str) -> str:
        """The Cookie header this browser sends to `url`."""
        parts = urlsplit(url)
        return "; ".join(f"{name}={value}" for (host, name), (path, value) in self.cookies.items()
                         if host == parts.netloc and (parts.path or "/").startswith(path))

    def _keep_cookies(self, url: str, response: urllib3.BaseHTTPResponse) -> None:
        for header in response.headers.getlist("Set-Cookie"):
            for name, morsel in SimpleCookie(header).items():
                key = (urlsplit(url).netloc, name)
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = (morsel["path"] or "/", morsel.value)

    def _request(self, method: str, url: str, form: dict[str, str] | None = None,
                 body: str | None = None, content_type: str | None = None) -> Page:
        headers = {"Accept-Language": self.language}
        if form is not None:
            content_type, body = "application/x-www-form-urlencoded", urlencode(form)
        if content_type:
            headers["Content-Type"] = content_type
        for _ in range(5):
            cookie = self.cookie_header(url)
            sent = {**headers, "Cookie": cookie} if cookie else headers
            response = self.http.request(method, url, body=body, headers=sent, redirect=False)
            self._keep_cookies(url, response)
            if response.status not in (301, 302, 303, 307):
                return _page(url, response, self)
            url = urljoin(url, response.headers["Location"])
            if response.status != 307:
                method, body = "GET", None
                headers.pop("Content-Type", None)
        raise WalkFailed(f"too many redirects, last at {url}")

    def get(self, url: str) -> Page:
        return self._request("GET", url)

    def post(self, url: str, form: dict[str, str]) -> Page:
        """A form post this browser did not get from a page (another site's, say)."""
        return self._request("POST", url, form)

    def post_json(self, url: str, data: object) -> Page:
        """What a page's script sends with fetch(): same-origin, so with the cookies."""
        return self._request("POST", url, body=json.dumps(data), content_type="application/json")

    def submit(self, page: Page, form: Form, **values: str) -> Page:
        for name, value in values.items():
            if name in form.choices and value not in form.choices[name]:
                raise WalkFailed(f"{name}={value!r} is not offered; the page offers "
                                 + ", ".join(form.choices[name]))
        return self._request(form.method.upper(), urljoin(page.url, form.action),
                             {**form.fields, **values})


def _page(url: str, response: urllib3.BaseHTTPResponse, browser: Browser) -> Page:
    reader = _Reader()
    if "html" in response.headers.get("Content-Type", ""):
        reader.feed(response.data.decode("utf-8", errors="replace"))
        text = "\n".join(reader.words)
    else:
        text = response.data.decode("utf-8", errors="replace")
    return Page(url, response.status, text, reader.forms, reader.outcome, reader.links, browser)


def sign_in(browser: Browser, page: Page, persona: str, pin: str = SANDBOX_PIN) -> Page:
    """At the sandbox provider: choose the persona, enter the PIN; back at our page."""
    if page.status != 200:
        raise WalkFailed(f"the provider answered {page.status}: {page.text[:300]}")
    return browser.submit(page, page.form("persona-form"), persona=persona, pin=pin)


def verify(link: str, persona: str, language: str = "ja", *, elsewhere: bool = False) -> Page:
    """One's own verification from the chat's link, to the page with the code to send in the
    chat; `elsewhere`: the provider returns to another browser than the one that consented
    (a phone's default)."""
    browser = Browser(language)
    consent = browser.get(link)
    if consent.status != 200:
        return consent
    at_provider = browser.submit(consent, consent.form("consent"))
    if elsewhere:
        browser = Browser(language)
        at_provider = browser.get(at_provider.url)
    return sign_in(browser, at_provider, persona)


def consent_as_guardian(link: str, persona: str, relationship: str, language: str = "ja") -> Page:
    """A guardian opens the minor's link, states the relationship, consents and verifies."""
    value = RELATIONSHIPS.get(relationship.strip().lower(), relationship)
    browser = Browser(language)
    consent = browser.get(link)
    if consent.status != 200:
        return consent
    provider = browser.submit(consent, consent.form("consent"), relationship=value, consent="yes")
    return sign_in(browser, provider, persona)


def try_again(result: Page, persona: str) -> Page:
    """The result page's "try again" button (in the browser that showed it), then the provider."""
    browser = result.browser or Browser()
    return sign_in(browser, browser.submit(result, result.form("retry")), persona)


def links_in(text: str) -> list[str]:
    return LINK.findall(text)


# Scenario steps (docs/scenarios.md) -------------------------------------------------------------

def _persona_keys() -> list[str]:
    return list(personas(date.today()))


def scenario_value(verb: str, value: object) -> str | dict[str, str]:
    """Check a step's value when the file is read: a persona, or {persona, relationship}."""
    keys = _persona_keys()
    if verb in SELF_VERBS:
        if value not in keys:
            raise ValueError(f"a persona of the sandbox provider: {', '.join(keys)}; not {value!r}")
        return str(value)
    if not (isinstance(value, dict) and set(value) == {"persona", "relationship"}
            and value["persona"] in keys and isinstance(value["relationship"], str)
            and value["relationship"].strip().lower() in RELATIONSHIPS):
        raise ValueError("give {persona: parent, relationship: 親権者}: the persona one of "
                         f"{', '.join(keys)}; the relationship 親権者, 未成年後見人 or その他")
    return {"persona": value["persona"], "relationship": value["relationship"]}


def scenario_walk(verb: str, value: str | dict[str, str], newest_first: list[dict],
                  language: str) -> str:
    """Play a scenario step from the messages the user received; returns the text of the page
    it ends on (a verification of one's own: the code to send in the chat).

    `verifies identity` follows the newest verification link (`… in another browser`: the
    provider returns to another browser than the one that consented); `gets guardian consent`
    the newest guardian link (a button, or the link the result message carries once the
    worker has sent it).
    """
    wanted = SELF_PATH if verb in SELF_VERBS else GUARDIAN_PATH
    for message in newest_first:
        found = [a["uri"] for a in message_actions(message) if a.get("type") == "uri"]
        found += links_in("\n".join(message_texts(message)))
        found = [uri for uri in found if wanted in uri]
        if found:
            link = found[0]
            break
    else:
        what = ("a verification button (send 本人確認 first)" if verb in SELF_VERBS
                else "a guardian link in the chat (run `worker --once` after the minor verifies)")
        raise WalkFailed(f"expected: {what}")
    if verb in SELF_VERBS:
        page = verify(link, str(value), language,
                      elsewhere=verb == "verifies identity in another browser")
    else:
        page = consent_as_guardian(link, value["persona"], value["relationship"], language)
    return page.text
