"""Steps reachable from anywhere: help, cancel, settings, language, local information."""

from __future__ import annotations

from linebot.v3.messaging.models import Action

from bot.i18n import LOCALES, use_locale
from bot.i18n.names import place
from bot.services import registry, staff
from bot.services.people import locale_of
from conversations.common import menu_actions, text
from conversations.engine import Context, Step
from conversations.menu import messages
from conversations.menu.states import ChangeHome, SetLanguage
from conversations.residence import steps as residence_steps
from conversations.staff import messages as staff_messages


def show_help(ctx: Context) -> Step:
    """Help keeps the person where they are and repeats the question they were asked."""
    if ctx.current is None:
        replies = messages.help_text(None)
        if staff.roles_of(ctx.session, ctx.person):
            replies.append(text(staff_messages.staff_help(), staff_messages.staff_actions()))
        return Step.staying(replies)
    return Step.staying([text(messages.help_body(ctx.current.help())),
                         *ctx.current.prompt(ctx)])


def cancel(ctx: Context) -> Step:
    return Step(messages.cancelled(was_busy=ctx.state is not None, actions=next_actions(ctx)))


def next_actions(ctx: Context) -> list[Action]:
    """The quick replies after an answer that leads nowhere in particular: staff get theirs."""
    if staff.roles_of(ctx.session, ctx.person):
        return staff_messages.staff_actions()
    return menu_actions()


def show_settings(ctx: Context) -> Step:
    home = ctx.person.residence
    return Step(messages.settings(locale_of(ctx.person), place(home) if home else None))


def set_language(ctx: Context, postback: SetLanguage) -> Step:
    if postback.locale not in LOCALES:
        return show_settings(ctx)
    ctx.person.locale = postback.locale
    with use_locale(postback.locale):  # answer in the language just chosen
        return Step.staying(messages.language_set())


def change_home(ctx: Context, postback: ChangeHome) -> Step:
    return residence_steps.ask(ctx)


def local_information(ctx: Context) -> Step:
    return Step(messages.local_information(registry.active(ctx.session, ctx.person)))
