"""Steps of the premium application: judge, explain, confirm, grant or queue for staff."""

from __future__ import annotations

from bot.domain import premium as rules
from bot.i18n.dates import date_with_year, day
from bot.i18n.names import place
from bot.identity import handoff
from bot.services import entities, premium, registry
from bot.store.models import (
    Entity,
    Origin,
    PremiumRequestPurpose,
    Registration,
    RegistrationKind,
    RenewalMode,
)
from conversations.card import registration_card
from conversations.common import menu_actions, text
from conversations.engine import Context, Step
from conversations.notices import premium as notices
from conversations.premium import messages
from conversations.premium.states import (
    Apply,
    ConfirmGiveUp,
    GiveUp,
    KeepPremium,
    NotNow,
    PickPlace,
    PremiumState,
)


def _basic(ctx: Context) -> list[Registration]:
    return [r for r in registry.active(ctx.session, ctx.person)
            if r.kind == RegistrationKind.BASIC]


def _until(registration: Registration) -> str:
    return date_with_year(registration.premium_until) if registration.premium_until else "—"


def _own_premium(registrations_: list[Registration]) -> list[Registration]:
    """Premium with a validity of its own (a prefecture co-registration follows its town)."""
    return [r for r in registrations_ if r.kind == RegistrationKind.PREMIUM
            and r.premium_origin != Origin.CO_REGISTRATION and r.premium_until is not None]


def _status(ctx: Context, own: list[Registration]) -> list:
    """Until when, the renewal's figures over the 12 months before the expiry, what happens
    then (R8) — what the reminders' 「プレミアム登録」 button opens."""
    outlooks, missing = [], False
    for registration in own:
        judgement = premium.judge(ctx.session, ctx.person, registration.entity, ctx.now,
                                  counted_until=registration.premium_until)
        missing |= not judgement.progress.reached
        pending = premium.pending_request(ctx.session, ctx.person, registration.entity)
        outlooks.append(messages.premium_outlook(
            registration, judgement,
            reviewing=pending is not None and pending.purpose == PremiumRequestPurpose.RENEWAL))
    return messages.premium_status(outlooks, missing) if outlooks else []


def start(ctx: Context) -> Step:
    """「プレミアム登録」: where the person is premium, how its renewal stands; then the one
    basic registration straight away, or a choice."""
    ctx.restart()
    current = registry.active(ctx.session, ctx.person)
    if not current:
        return Step(messages.nothing_to_apply_for())
    status = _status(ctx, _own_premium(current))
    basic = [r for r in current if r.kind == RegistrationKind.BASIC]
    if not basic:
        return Step(status or messages.all_premium(current, _until))
    applying = (explain(ctx, basic[0].entity) if len(basic) == 1
                else Step(messages.choose(basic, ctx.token), next=PremiumState.CHOOSE))
    return Step(status + applying.replies, next=applying.next, data=applying.data)


def _names(ctx: Context, judgement: premium.Judgement) -> dict[str, str]:
    codes = {*judgement.counted_now, *judgement.counted_after}
    return {e.code: place(e) for e in entities.by_codes(ctx.session, codes)}


def _verification_url(ctx: Context, judgement: premium.Judgement) -> str | None:
    """The person's own verification page, or the link a minor passes on to a guardian."""
    if premium.Unmet.IDENTITY in judgement.unmet:
        return handoff.verification_link(ctx.session, ctx.person, ctx.now, ctx.config)
    if premium.Unmet.GUARDIAN in judgement.unmet:
        return handoff.guardian_link(ctx.session, ctx.person, ctx.now, ctx.config)
    return None


def explain(ctx: Context, entity: Entity) -> Step:
    """Every rule at `entity` with the person's figures; a confirmation when all hold."""
    registration = premium.registration_at(ctx.session, ctx.person, entity)
    if registration is not None and registration.kind == RegistrationKind.PREMIUM:
        if registration.premium_origin == Origin.CO_REGISTRATION:
            return Step(messages.co_registered_premium(registration))
        return Step(_status(ctx, _own_premium([registration]))
                    or messages.co_registered_premium(registration))
    pending = premium.pending_request(ctx.session, ctx.person, entity)
    if pending is not None:
        return Step(messages.under_review(entity, day(pending.requested_at)))
    judgement = premium.judge(ctx.session, ctx.person, entity, ctx.now)
    names = _names(ctx, judgement)
    if judgement.ok or _staff_may_confirm(entity, judgement):
        return Step(_ask_confirm(ctx, entity, judgement, names),
                    next=PremiumState.CONFIRM, data={"code": entity.code})
    return Step(messages.not_yet(entity, judgement, names, _verification_url(ctx, judgement),
                                 others=len(_basic(ctx)) > 1))


def _staff_may_confirm(entity: Entity, judgement: premium.Judgement) -> bool:
    """R4 "or by staff": in manual mode, an application short only of activities still goes to
    the staff, who may confirm activities the QR codes did not record."""
    return entity.renewal_mode == RenewalMode.MANUAL and not rules.unwaivable(judgement.unmet)


def _ask_confirm(ctx: Context, entity: Entity, judgement: premium.Judgement,
                 names: dict[str, str]) -> list:
    if judgement.ok:
        return messages.ask_confirm(entity, judgement, names,
                                    entity.renewal_mode == RenewalMode.MANUAL, ctx.token)
    return messages.ask_staff_confirm(entity, judgement, names, ctx.token)


def on_pick(ctx: Context, postback: PickPlace) -> Step:
    entity = entities.by_code(ctx.session, postback.code)
    if entity is None:  # not a code we offered: the choice on screen stays open
        return Step.staying(ask_choice(ctx))
    return explain(ctx, entity)


def on_apply(ctx: Context, postback: Apply) -> Step:
    if ctx.data.get("code") != postback.code:
        return Step.staying(ask_apply(ctx))
    entity = entities.by_code(ctx.session, postback.code)
    if entity is None:
        return start(ctx)
    if entity.renewal_mode == RenewalMode.MANUAL:
        return _request(ctx, entity)
    try:
        granted = premium.grant(ctx.session, ctx.person, entity, ctx.now)
    except premium.PremiumRefused:  # something changed since the question: explain again
        return explain(ctx, entity)
    except premium.AlreadyPremium:
        return explain(ctx, entity)
    card = registration_card(ctx.session, ctx.person, ctx.now, ctx.config)
    return Step([messages.granted(granted.registration, granted.co_registration,
                                  _until(granted.registration)), card])


def _request(ctx: Context, entity: Entity) -> Step:
    """Renewal mode `manual`: the entity's staff decide; they are told through the outbox."""
    premium.lock_person(ctx.session, ctx.person)
    judgement = premium.judge(ctx.session, ctx.person, entity, ctx.now)
    registration = premium.registration_at(ctx.session, ctx.person, entity)
    if not (judgement.ok or _staff_may_confirm(entity, judgement)) or registration is None \
            or registration.kind != RegistrationKind.BASIC:
        return explain(ctx, entity)
    queued = premium.request_review(ctx.session, registration, PremiumRequestPurpose.APPLICATION,
                                    judgement, ctx.now)
    notices.tell_reviewers(ctx.session, queued, ctx.now)
    return Step(messages.requested(entity, activities_to_confirm=not judgement.ok))


def on_not_now(ctx: Context, postback: NotNow) -> Step:
    return Step(messages.not_now())


# Giving up premium, from 「登録状況」 -----------------------------------------------------------

def _given_up_able(ctx: Context, registration_id: int) -> Registration | None:
    """The person's own premium, applied for directly: a co-registration follows its town."""
    registration = registry.owned_active(ctx.session, ctx.person, registration_id)
    if registration is None or registration.kind != RegistrationKind.PREMIUM \
            or registration.premium_origin == Origin.CO_REGISTRATION:
        return None
    return registration


def _confirm_give_up(ctx: Context, registration: Registration) -> list:
    falls_back = premium.would_fall_back(ctx.session, registration)
    stays = None
    if falls_back is None and not registration.entity.is_prefecture:
        prefecture = premium.prefecture_registration(ctx.session, ctx.person, registration.entity)
        if prefecture is not None and prefecture.kind == RegistrationKind.PREMIUM:
            stays = prefecture
    return messages.confirm_give_up(registration, falls_back, stays, ctx.token)


def on_give_up(ctx: Context, postback: GiveUp) -> Step:
    registration = _given_up_able(ctx, postback.id)
    if registration is None:
        return Step(messages.not_premium())
    ctx.restart()
    return Step(_confirm_give_up(ctx, registration), next=PremiumState.CONFIRM_GIVE_UP,
                data={"id": registration.id})


def on_confirm_give_up(ctx: Context, postback: ConfirmGiveUp) -> Step:
    if ctx.data.get("id") != postback.id:
        return Step.staying(ask_give_up(ctx))
    registration = _given_up_able(ctx, postback.id)
    if registration is None:
        return Step(messages.not_premium())
    reverted = premium.revert_to_basic(ctx.session, registration, ctx.now, reason="given_up")
    return Step(messages.gave_up(registration, reverted.co_registration))


def on_keep_premium(ctx: Context, postback: KeepPremium) -> Step:
    return Step(messages.premium_kept())


def ask_choice(ctx: Context) -> list:
    basic = _basic(ctx)
    if basic:
        return messages.choose(basic, ctx.token)
    return _nothing_asked()


def ask_apply(ctx: Context) -> list:
    entity = entities.by_code(ctx.session, ctx.data.get("code", ""))
    if entity is None:
        return _nothing_asked()
    judgement = premium.judge(ctx.session, ctx.person, entity, ctx.now)
    if judgement.ok or _staff_may_confirm(entity, judgement):
        return _ask_confirm(ctx, entity, judgement, _names(ctx, judgement))
    return explain(ctx, entity).replies  # something changed: what is missing now


def ask_give_up(ctx: Context) -> list:
    registration = _given_up_able(ctx, ctx.data.get("id", 0))
    if registration is None:
        return _nothing_asked()
    return _confirm_give_up(ctx, registration)


def _nothing_asked() -> list:
    """What the question was about is gone (given up, ended meanwhile): how to go on."""
    return [text(messages.choose_help(), menu_actions())]
