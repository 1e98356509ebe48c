"""The 「本人確認」 command and the page's 本人確認コード: no states (the verification itself is a
web page)."""

from __future__ import annotations

from bot.domain.calendar import today_in_japan
from bot.identity import flow, handoff, provider, records
from conversations.engine import Context, Step
from conversations.identity import messages


def show(ctx: Context) -> Step:
    if not provider.is_configured(ctx.config):
        return Step(messages.unavailable())
    status = records.status(ctx.session, ctx.person, today_in_japan(ctx.now))
    link = handoff.verification_link(ctx.session, ctx.person, ctx.now, ctx.config)
    guardian = (handoff.guardian_link(ctx.session, ctx.person, ctx.now, ctx.config)
                if status.minor and not status.guardian_consented else None)
    return Step(messages.verification_card(status, link, guardian))


def on_code(ctx: Context, code: str) -> Step:
    """A 本人確認コード from a verification page: its result is recorded once the code
    arrives in the account's own chat (bot/identity/flow.py, confirm_from_chat)."""
    done = flow.confirm_from_chat(ctx.session, ctx.person, code, ctx.now, ctx.config)
    return Step.staying(messages.confirmed(done.outcome, done.tries_left, done.residence,
                                           done.guardian_url, done.premium_at_home))
