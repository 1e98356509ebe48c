"""Scenario files: conversations written as transcripts and played against the running bot.

Each user action becomes a signed webhook POSTed over HTTP to /callback, as LINE sends it;
each expectation reads what the local LINE platform delivered. docs/scenarios.md has the format.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import re
import shlex
import tempfile
import textwrap
import time
import traceback
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import click
import urllib3
import yaml
from flask import Flask

from bot.codes.qr import decode_qr
from bot.devtools import events, time_travel
from bot.devtools.live_server import LiveServer
from bot.services import entities
from bot.store import migrate
from cli import walkthrough
from cli.commands import cli as furusato
from cli.delivered import message_actions, message_texts
from web import create_app

#: What each subject can do, and whether the verb takes a value after a colon.
ACTOR_VERBS = {"follows": False, "unfollows": False, "says": True, "taps": True,
               "taps menu": True, "sends location": True, "sends image": True,
               "says from output": True, "scans code from": True, "photographs code from": True,
               # The verification web view through the sandbox provider (bot/identity).
               "verifies identity": True, "verifies identity in another browser": True,
               "gets guardian consent": True}
IDENTITY_VERBS = ("verifies identity", "verifies identity in another browser",
                  "gets guardian consent")
#: Verbs whose value names another user: the QR code the bot last sent them is used.
CODE_VERBS = ("scans code from", "photographs code from")
GRAMMAR = {
    "bot": {"says": True, "offers": True, "does not say": True, "says nothing": False},
    "run": {"": True},
    "output": {"says": True},
    # Every stored moment moves back (bot/devtools/time_travel.py): `time passes: 335 days`.
    "time": {"passes": True},
}
#: A LINE profile's language is a BCP 47 tag (ja, en, en-US, zh-Hant…), or missing.
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
PICKER_MODES = ("date", "time", "datetime")
#: LINE recommends answering webhooks asynchronously, so a reply may land after /callback
#: returns: positive expectations wait this long for it.
WAIT_SECONDS = 2.0
CALLBACK_TIMEOUT_SECONDS = 10


# The format ----------------------------------------------------------------------------------

class ScenarioError(ValueError):
    """A scenario file that cannot be played; the message says where and why."""


@dataclass(frozen=True)
class User:
    key: str
    name: str
    language: str | None
    user_id: str


@dataclass(frozen=True)
class Step:
    number: int
    text: str      # as written, for reports
    subject: str   # "bot", "run", "output" or a user's key
    verb: str
    value: Any = None


@dataclass(frozen=True)
class Scenario:
    title: str
    users: dict[str, User]
    setup: tuple[str, ...]
    steps: tuple[Step, ...]


def user_id(title: str, key: str) -> str:
    """The same LINE user ID on every run, different in every scenario."""
    return "U" + hashlib.md5((title + key).encode()).hexdigest()


def load_scenarios(path: Path) -> list[Scenario]:
    """One scenario or a list of them per YAML document; `---` separates documents."""
    try:
        documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {error}") from None
    items = [item for document in documents
             for item in (document if isinstance(document, list) else [document])
             if item is not None]
    if not items:
        raise ScenarioError(f"{path}: no scenario in the file")
    return [_scenario(item, path) for item in items]


def _scenario(data: Any, path: Path) -> Scenario:
    if not isinstance(data, dict) or not isinstance(data.get("title"), str):
        raise ScenarioError(f"{path}: a scenario is a mapping with a title, users, setup and steps")
    title = data["title"]
    where = f"{path}, 「{title}」"
    unknown = set(data) - {"title", "users", "setup", "steps"}
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(map(str, sorted(unknown)))};"
                            " a scenario has title, users, setup and steps")
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ScenarioError(f"{where}: `steps` must be a list of steps")
    users = _users(data.get("users") or {}, title, where)
    setup = data.get("setup") or []
    if not isinstance(setup, list) or not all(isinstance(c, str) for c in setup):
        raise ScenarioError(f"{where}: `setup` must be a list of furusato commands")
    return Scenario(title, users, tuple(setup), tuple(
        _step(number, raw, users, path.parent, where) for number, raw in enumerate(steps, 1)))


def _users(data: Any, title: str, where: str) -> dict[str, User]:
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: `users` maps names to profiles: "
                            "hanako: {name: 花子, language: ja}")
    users = {}
    for key, profile in data.items():
        key = str(key)
        if key in GRAMMAR or " " in key:
            raise ScenarioError(f"{where}: {key!r} cannot name a user "
                                "(no spaces; bot, run and output are taken)")
        if not isinstance(profile, dict) or not isinstance(profile.get("name"), str) \
                or set(profile) - {"name", "language"}:
            raise ScenarioError(f"{where}: user {key}: give a profile like "
                                "{name: 花子, language: ja}")
        language = profile.get("language")
        if language is not None and not (isinstance(language, str) and LANGUAGE_TAG.match(language)):
            raise ScenarioError(f"{where}: user {key}: language must be a BCP 47 tag "
                                f"(ja, en, en-US…) or null, not {language!r}")
        users[key] = User(key, profile["name"], profile.get("language"), user_id(title, key))
    return users


def _step(number: int, raw: Any, users: dict[str, User], directory: Path, where: str) -> Step:
    if isinstance(raw, str):
        head, value, text = raw, None, raw
    elif isinstance(raw, dict) and len(raw) == 1:
        head, value = next(iter(raw.items()))
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        text = f"{head}: {shown}"
    else:
        raise ScenarioError(f"{where}, step {number}: a step is a string (`hanako follows`) "
                            f"or one `verb: value` pair (`hanako says: 神山`), not {raw!r}")
    try:
        subject, _, verb = str(head).strip().partition(" ")
        if verb in CODE_VERBS and value not in users:
            raise ValueError(f"{value!r} is not one of the users")
        if verb == "says from output":
            re.compile(_text(value))
        return Step(number, text, subject, verb,
                    _value(subject, verb, value, _verbs(subject, verb, users), directory))
    except (ValueError, re.error) as error:
        raise ScenarioError(f"{where}, step {number} ({text}): {error}") from None


def _verbs(subject: str, verb: str, users: dict[str, User]) -> dict[str, bool]:
    if subject in GRAMMAR:
        verbs = GRAMMAR[subject]
    elif subject in users:
        verbs = ACTOR_VERBS
    else:
        raise ValueError(f"unknown actor {subject!r}; the users are "
                         + (", ".join(users) or "(none declared under `users`)"))
    if verb not in verbs:
        raise ValueError(f"unknown verb {verb!r}; {subject} can: "
                         + ", ".join(f"{v}:" if takes else v for v, takes in verbs.items()))
    return verbs


def _value(subject: str, verb: str, value: Any, verbs: dict[str, bool], directory: Path) -> Any:
    if verbs[verb] != (value is not None):
        raise ValueError("needs a value after a colon" if verbs[verb] else "takes no value")
    if value is None:
        return None
    if subject == "time":
        time_travel.parse(_text(value))  # a bad amount fails here, not halfway through a run
        return value
    if subject in GRAMMAR:
        return _command(value) if subject == "run" else _text(value)
    if verb in IDENTITY_VERBS:
        return walkthrough.scenario_value(verb, value)
    if verb == "sends location":
        return _location(value)
    if verb == "sends image":
        return _image_path(value, directory)
    if verb == "taps":
        return _tap(value)
    return _text(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not text: put it in quotes "
                         "(YAML reads numbers, yes/no and dates as other types)")
    return value


def _command(value: Any) -> str:
    shlex.split(_text(value))  # unbalanced quotes fail here, not halfway through a run
    return value


def _location(value: Any) -> tuple[float, float]:
    if not (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            and abs(value[0]) <= 90 and abs(value[1]) <= 180):
        raise ValueError(f"a location is [latitude, longitude], e.g. [33.9672, 134.3506], "
                         f"not {value!r}")
    return float(value[0]), float(value[1])


def _image_path(value: Any, directory: Path) -> Path:
    path = directory / _text(value)
    if not path.is_file():
        raise ValueError(f"no image file at {path} (paths are relative to the scenario file)")
    return path


def _tap(value: Any) -> str | dict[str, str]:
    """A label, or for a date/time picker {label: …, date|time|datetime: …}."""
    if isinstance(value, dict):
        if not isinstance(value.get("label"), str) or len(value) != 2 \
                or not any(isinstance(value.get(mode), str) for mode in PICKER_MODES):
            raise ValueError("a picker tap is {label: 生年月日, date: \"2000-01-31\"} "
                             "(or time: / datetime:), with the value in quotes")
        return value
    return _text(value)


# What the bot sent ---------------------------------------------------------------------------

def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def describe(messages: list[dict]) -> list[str]:
    """What a person would see: each text, then each button as [label], one per line."""
    lines = []
    for message in messages:
        shown = message_texts(message) + [f"[{a['label']}]" for a in message_actions(message)]
        lines += shown or [f"({message.get('type')} message)"]
    return lines


# Playing -------------------------------------------------------------------------------------

class StepFailed(Exception):
    """A step did not hold; the message says what was expected."""


@dataclass(frozen=True)
class ScenarioResult:
    title: str
    failure: str | None = None

    @property
    def passed(self) -> bool:
        return self.failure is None

    def summary(self) -> str:
        if self.passed:
            return f"✓ {self.title}"
        return f"✗ {self.title}\n" + textwrap.indent(self.failure, "    ")


@dataclass
class _Mark:
    step: Step
    deliveries: int  # how many deliveries the user had had before this step


class ScenarioPlay:
    """One scenario against the served app: who acted last, and since which delivery."""

    def __init__(self, app: Flask, scenario: Scenario):
        self.app = app
        self.scenario = scenario
        self.platform = app.extensions["line_platform"]
        self.marks: dict[str, _Mark] = {}
        self.last_actor: User | None = None
        self.blocked: set[str] = set()
        self.output = ""

    def perform(self, step: Step) -> None:
        if step.subject == "bot":
            self._expect(step)
        elif step.subject == "run":
            self.run(step.value)
        elif step.subject == "time":
            time_travel.pass_time(self.app.extensions["db"], time_travel.parse(step.value))
        elif step.subject == "output":
            self._output_says(step.value)
        else:
            self._act(self.scenario.users[step.subject], step)

    # Users act -------------------------------------------------------------------------------

    def _act(self, user: User, step: Step) -> None:
        if user.user_id not in self.platform.users:
            self.platform.add_user(user.user_id, user.name, language=user.language)
        if step.verb in IDENTITY_VERBS:
            self._verify_identity(user, step)
            return
        event = self._event(user, step)
        self.marks[user.user_id] = _Mark(step, len(self.platform.deliveries(user.user_id)))
        self.last_actor = user
        self._post(event)
        if step.verb == "unfollows":
            self.blocked.add(user.user_id)
        elif step.verb == "follows":
            self.blocked.discard(user.user_id)

    def _event(self, user: User, step: Step) -> dict:
        uid, value = user.user_id, step.value
        if step.verb == "unfollows":
            return events.unfollow_event(uid)
        token = self.platform.issue_reply_token(uid)
        if step.verb == "follows":
            event = events.follow_event(uid, reply_token=token)
            event["follow"]["isUnblocked"] = uid in self.blocked
            return event
        if step.verb == "says":
            return events.text_event(value, uid, reply_token=token)
        if step.verb == "says from output":
            found = re.search(value, self.output)
            if found is None:
                raise StepFailed(f"expected the last command's output to match {value!r}")
            return events.text_event(found.group(0), uid, reply_token=token)
        if step.verb == "scans code from":
            # A phone opens the QR's LINE link, which types its text into the chat.
            link = self._code_link(self.scenario.users[value])
            return events.text_event(unquote(link.partition("?")[2]), uid, reply_token=token)
        if step.verb == "photographs code from":
            event = events.image_event(uid, reply_token=token)
            self.platform.add_content(event["message"]["id"],
                                      self._code_image(self.scenario.users[value]), "image/png")
            return event
        if step.verb == "sends location":
            return events.location_event(*value, uid, reply_token=token)
        if step.verb == "sends image":
            event = events.image_event(uid, reply_token=token)
            content_type = mimetypes.guess_type(value.name)[0] or "application/octet-stream"
            self.platform.add_content(event["message"]["id"], value.read_bytes(), content_type)
            return event
        label = value if isinstance(value, str) else value["label"]
        action = self._menu_action(user, label) if step.verb == "taps menu" \
            else self._sent_action(user, label)
        return _action_event(action, value, uid, token)

    def _verify_identity(self, user: User, step: Step) -> None:
        """Walk the verification pages from the link the bot sent; `output says` reads the result."""
        self.marks[user.user_id] = _Mark(step, len(self.platform.deliveries(user.user_id)))
        self.last_actor = user
        messages = [m for d in reversed(self.platform.deliveries(user.user_id))
                    for m in reversed(d.messages)]
        try:
            self.output = walkthrough.scenario_walk(step.verb, step.value, messages,
                                                    user.language or "ja")
        except walkthrough.WalkFailed as failure:
            raise StepFailed(str(failure)) from None

    def _sent_action(self, user: User, label: str) -> dict:
        """The most recent button, quick reply or template action with this label."""
        for delivery in reversed(self.platform.deliveries(user.user_id)):
            for message in reversed(delivery.messages):
                for action in message_actions(message):
                    if _normal(action["label"]) == _normal(label):
                        return action
        raise StepFailed(f"expected: a button, quick reply or template action labelled "
                         f"「{label}」 among all the bot sent to {user.key}")

    def _menu_action(self, user: User, label: str) -> dict:
        menu_id = self.platform.rich_menu_for(user.user_id)
        if menu_id is None:
            raise StepFailed(f"{user.key} has no rich menu (none linked and no default)")
        areas = self.platform.rich_menus[menu_id]["menu"]["areas"]
        for area in areas:
            if _normal(area["action"].get("label") or "") == _normal(label):
                return area["action"]
        raise StepFailed(f"expected: an area labelled 「{label}」 in {user.key}'s rich menu; "
                         "its areas are " + ", ".join(
                             f"「{area['action'].get('label')}」" for area in areas))

    def _code_image(self, holder: User) -> bytes:
        """The QR image the bot last sent to `holder` (a member of staff), fetched by its URL."""
        for delivery in reversed(self.platform.deliveries(holder.user_id)):
            for message in reversed(delivery.messages):
                if message.get("type") == "image":
                    response = urllib3.request("GET", message["originalContentUrl"],
                                               timeout=CALLBACK_TIMEOUT_SECONDS, retries=False)
                    if response.status != 200:
                        raise StepFailed(f"the QR image answered {response.status}")
                    return response.data
        raise StepFailed(f"the bot has sent {holder.key} no image")

    def _code_link(self, holder: User) -> str:
        found = decode_qr(self._code_image(holder))
        if not found:
            raise StepFailed(f"no QR code could be read in the image sent to {holder.key}")
        return found[0]

    def _post(self, event: dict) -> None:
        body = events.webhook_body(event)
        secret = self.app.config["LINE_CHANNEL_SECRET"]
        headers = {"Content-Type": "application/json",
                   "X-Line-Signature": events.signature(body, secret)}
        # No retries: a second POST would be a second delivery of the same event.
        response = urllib3.request("POST", f"{self.app.live_url}/callback", body=body,
                                   headers=headers, timeout=CALLBACK_TIMEOUT_SECONDS, retries=False)
        if not 200 <= response.status < 300:
            raise StepFailed(f"/callback answered {response.status}: "
                             + response.data.decode(errors="replace")[:500])

    # The bot answers -------------------------------------------------------------------------

    def sent_since(self) -> list[dict]:
        """The messages delivered to the last actor since their last action."""
        if self.last_actor is None:
            return []
        mark = self.marks[self.last_actor.user_id]
        deliveries = self.platform.deliveries(self.last_actor.user_id)[mark.deliveries:]
        return [message for delivery in deliveries for message in delivery.messages]

    def _expect(self, step: Step) -> None:
        if self.last_actor is None:
            raise StepFailed("nobody has acted yet: the bot's messages are read for the user "
                             "who acted last")
        wanted = _normal(step.value or "")
        if step.verb == "says":
            self._wait_for(lambda sent: any(wanted in _normal(t) for t in _texts(sent)),
                           f"a message containing 「{step.value}」")
        elif step.verb == "offers":
            self._wait_for(lambda sent: any(wanted == _normal(a["label"])
                                            for m in sent for a in message_actions(m)),
                           f"a button or quick reply labelled 「{step.value}」")
        elif step.verb == "does not say":
            if any(wanted in _normal(text) for text in _texts(self.sent_since())):
                raise StepFailed(f"expected: no message containing 「{step.value}」")
        elif self.sent_since():
            raise StepFailed("expected: no message")

    def _wait_for(self, holds: Callable[[list[dict]], bool], expected: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not holds(self.sent_since()):
            if time.monotonic() > deadline:
                raise StepFailed(f"expected: {expected}")
            time.sleep(0.05)

    # Operators -------------------------------------------------------------------------------

    def run(self, command: str) -> None:
        result = self.app.test_cli_runner().invoke(furusato, shlex.split(command))
        self.output = result.output
        if result.exit_code != 0:
            crash = "" if result.exc_info is None or isinstance(result.exception, SystemExit) \
                else "".join(traceback.format_exception(*result.exc_info))
            raise StepFailed(f"`furusato {command}` exited with {result.exit_code}:\n"
                             + textwrap.indent((result.output + crash).rstrip(), "  "))

    def _output_says(self, text: str) -> None:
        if _normal(text) not in _normal(self.output):
            raise StepFailed(f"expected the last command's output to contain 「{text}」; it was:\n"
                             + textwrap.indent(self.output.rstrip() or "(nothing)", "  "))

    def explain(self, heading: str, failure: StepFailed) -> str:
        lines = [heading, textwrap.indent(str(failure), "  ")]
        if self.last_actor is not None:
            mark = self.marks[self.last_actor.user_id]
            sent = describe(self.sent_since()) or ["(nothing)"]
            lines.append(f"  the bot sent {self.last_actor.key} since step {mark.step.number} "
                         f"({mark.step.text}):")
            lines += [textwrap.indent(line, "    ") for line in sent]
        return "\n".join(lines)


def _texts(messages: list[dict]) -> list[str]:
    return [text for message in messages for text in message_texts(message)]


def _action_event(action: dict, tap: str | dict, uid: str, token: str) -> dict:
    kind, label = action.get("type"), action["label"]
    if isinstance(tap, dict) and kind != "datetimepicker":
        raise StepFailed(f"「{label}」 is a {kind} action, not a date or time picker")
    if kind == "message":
        return events.text_event(action["text"], uid, reply_token=token)
    if kind == "postback":
        return events.postback_event(action["data"], uid, reply_token=token)
    if kind == "datetimepicker":
        return events.postback_event(action["data"], uid, _picked(action, tap), reply_token=token)
    if kind == "location":
        raise StepFailed(f"「{label}」 asks for a location: write `<user> sends location: "
                         "[latitude, longitude]` instead")
    if kind in ("camera", "cameraRoll"):
        raise StepFailed(f"「{label}」 asks for a photo: write `<user> sends image: FILE` instead")
    if kind == "uri":
        raise StepFailed(f"「{label}」 opens {action.get('uri')} outside the chat, "
                         "which a scenario cannot follow")
    raise StepFailed(f"「{label}」 is a {kind} action, which a scenario cannot tap")


def _picked(action: dict, tap: str | dict) -> dict[str, str]:
    mode = action.get("mode", "datetime")
    value = (tap.get(mode) if isinstance(tap, dict) else None) or action.get("initial")
    if not value:
        raise StepFailed(f"「{action['label']}」 opens a {mode} picker: write "
                         f"`taps: {{label: {action['label']}, {mode}: \"…\"}}`")
    return {mode: value}


def run_scenario(app: Flask, scenario: Scenario) -> ScenarioResult:
    """Play one scenario on an app served at `app.live_url` with the local LINE platform."""
    play = ScenarioPlay(app, scenario)
    for number, command in enumerate(scenario.setup, 1):
        try:
            play.run(command)
        except StepFailed as failure:
            return ScenarioResult(scenario.title,
                                  play.explain(f"setup {number}: {command}", failure))
    for step in scenario.steps:
        try:
            play.perform(step)
        except StepFailed as failure:
            return ScenarioResult(scenario.title,
                                  play.explain(f"step {step.number}: {step.text}", failure))
    return ScenarioResult(scenario.title)


def run_scenario_file(app: Flask, path: str | Path) -> list[ScenarioResult]:
    return [run_scenario(app, scenario) for scenario in load_scenarios(Path(path))]


# CLI -----------------------------------------------------------------------------------------

@contextmanager
def served_app(database_url: str | None = None) -> Iterator[Flask]:
    """A test-mode app with the local LINE platform, served on a free local port.

    Without `database_url`, on a fresh SQLite database holding the shipped entities.
    """
    with tempfile.TemporaryDirectory() as directory:
        app = create_app({"FURUSATO_ENV": "test",
                          "DATABASE_URL": database_url or f"sqlite:///{directory}/scenario.sqlite3",
                          "LOG_LEVEL": "WARNING"})  # INFO logs would bury the report
        db = app.extensions["db"]
        if database_url is None:
            migrate.upgrade(db)
            with db.transaction() as session:
                entities.load(session)
        server = LiveServer(app)
        app.config["LINE_API_HOST"] = f"{server.url}/_dev/line"
        app.config["PUBLIC_BASE_URL"] = server.url
        app.live_url = server.url
        try:
            yield app
        finally:
            server.stop()
            db.dispose()


@click.group("scenario", help="Conversations written as transcripts (docs/scenarios.md).")
def scenario_cli():
    pass


@scenario_cli.command("run", help="Play scenario files against a fresh bot, each file on a "
                                  "fresh database; exit 1 if any scenario fails.")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--database-url", help="Play on this (already migrated) database instead.")
def run_command(files: tuple[Path, ...], database_url: str | None):
    # werkzeug logs every request of the live server at INFO unless told otherwise.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    passed = failed = 0
    for path in files:
        click.echo(str(path))
        try:
            scenarios = load_scenarios(path)
        except ScenarioError as error:
            click.echo(f"  ✗ {error}")
            failed += 1
            continue
        with served_app(database_url) as app:
            for scenario in scenarios:
                result = run_scenario(app, scenario)
                click.echo(textwrap.indent(result.summary(), "  "))
                passed += result.passed
                failed += not result.passed
    click.echo(f"{passed} passed, {failed} failed.")
    if failed:
        raise SystemExit(1)
