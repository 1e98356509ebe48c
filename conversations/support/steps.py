"""Support steps: the resident's measures and card; the staff's counter check of a card."""

from __future__ import annotations

from bot.codes import card_codes
from bot.services import registry, staff, support_measures
from bot.services.card import verified_name
from bot.store.models import Person, RegistrationKind
from conversations.card import registration_card
from conversations.engine import Context, Photo, Step
from conversations.support import messages


def show_measures(ctx: Context) -> Step:
    current = registry.active(ctx.session, ctx.person)
    if not current:
        return Step(messages.nothing_registered())
    premium = [r for r in current if r.kind == RegistrationKind.PREMIUM]
    premium_at = {r.entity_id for r in premium}
    basic = [r for r in current if r.kind == RegistrationKind.BASIC and r.entity_id not in premium_at]
    measures = support_measures.of_entities(ctx.session, {r.entity_id for r in current})
    return Step(messages.measures_view(premium, basic, measures, ctx.person.residence_entity_id))


def show_card(ctx: Context) -> Step:
    return Step([registration_card(ctx.session, ctx.person, ctx.now, ctx.config)])


def card_token_in(photo: Photo) -> str | None:
    """A card code among the QR codes of a photo (staff may photograph the card)."""
    return next(filter(None, map(card_codes.find_token, photo.codes or ())), None)


def on_card_code(ctx: Context, token: str) -> Step:
    """Staff scanned a card: what the holder holds at the staff's own entities, nothing else."""
    roles = staff.roles_of(ctx.session, ctx.person)
    if not roles:
        return Step(messages.card_for_staff_only())
    try:
        code = card_codes.read(token, ctx.config["SECRET_KEY"], ctx.now)
    except card_codes.ExpiredCardCode as expired:
        return Step(messages.card_code_expired(expired.code.expires_at))
    except card_codes.InvalidCardCode:
        return Step(messages.card_code_invalid())
    own = [role.entity for role in roles]
    holder = ctx.session.get(Person, code.person_id)
    found = []
    if holder is not None and holder.deleted_at is None:
        found = registry.active_at(ctx.session, holder, own)
    if not found:
        return Step(messages.not_registered_here(own))
    who = messages.holder(verified_name(ctx.session, holder), holder.display_name)
    return Step(messages.card_confirmed(who, found, ctx.now))

