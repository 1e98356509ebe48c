"""Staff steps of the premium review. Every request is looked up among the staff's own entities."""

from __future__ import annotations

from bot.services import premium, staff
from bot.services.card import verified_name
from bot.store.models import PremiumRequest, PremiumRequestStatus
from conversations.engine import Context, Step, Text
from conversations.notices import premium as notices
from conversations.premium_review import messages
from conversations.premium_review.states import Approve, Decline, ReviewFor, ReviewState
from conversations.staff import messages as staff_messages
from conversations.staff.roles import acting

MAX_REASON = 300


def applicant(ctx: Context, request: PremiumRequest) -> str:
    """The verified name when there is one: staff decide about a verified person (R5)."""
    person = request.person
    return verified_name(ctx.session, person) or person.display_name or "—"


def reviews(ctx: Context, code: str | None = None) -> Step:
    role = acting(ctx, code, messages.choose_entity)
    if isinstance(role, Step):
        return role
    pending = premium.pending_of(ctx.session, role.entity)
    if not pending:
        return Step(messages.nothing_pending(role.entity))
    return Step(messages.queue(role.entity, [_shown(ctx, r) for r in pending[:messages.MAX_SHOWN]],
                               len(pending)))


def _shown(ctx: Context, request: PremiumRequest) -> messages.Shown:
    """What the system judged when the request was made, and what approving would judge now
    (a renewal's activities over the 12 months before its expiry, as the expiry job)."""
    stored = premium.stored_judgement(request)
    return messages.Shown(request, applicant(ctx, request), stored,
                          premium.judge_request(ctx.session, request, ctx.now),
                          own=request.person_id == ctx.person.id,
                          judged_at=request.requested_at if stored is not None else ctx.now)


def on_review_for(ctx: Context, postback: ReviewFor) -> Step:
    return reviews(ctx, postback.code)


def _own_request(ctx: Context, request_id: int) -> PremiumRequest | None:
    """The request if the person is staff of its entity, else None (staff of A never see B)."""
    request = ctx.session.get(PremiumRequest, request_id)
    if request is None or staff.role_at(ctx.session, ctx.person, request.entity.code) is None:
        return None
    return request


def on_approve(ctx: Context, postback: Approve) -> Step:
    if not staff.roles_of(ctx.session, ctx.person):
        return Step(staff_messages.staff_only())
    request = _own_request(ctx, postback.id)
    if request is None or request.status != PremiumRequestStatus.PENDING:
        return Step(messages.not_found())
    if request.person_id == ctx.person.id:
        return Step(messages.own_request())
    name = applicant(ctx, request)
    try:
        premium.decide(ctx.session, request, ctx.person, True, None, ctx.now)
    except premium.PremiumRefused as refused:
        return Step(messages.cannot_approve(name, refused.unmet))
    notices.tell_decision(ctx.session, request, ctx.now)
    if request.status == PremiumRequestStatus.WITHDRAWN:
        return Step(messages.withdrawn(name))
    return Step(messages.approved(request, name))


def on_decline(ctx: Context, postback: Decline) -> Step:
    if not staff.roles_of(ctx.session, ctx.person):
        return Step(staff_messages.staff_only())
    request = _own_request(ctx, postback.id)
    if request is None or request.status != PremiumRequestStatus.PENDING:
        return Step(messages.not_found())
    if request.person_id == ctx.person.id:
        return Step(messages.own_request())
    ctx.restart()
    return Step(messages.ask_reason(applicant(ctx, request)), next=ReviewState.REASON,
                data={"id": request.id})


def on_reason(ctx: Context, typed: Text) -> Step:
    reason = " ".join(typed.text.split())
    if not 0 < len(reason) <= MAX_REASON:
        return Step.staying(messages.reason_problem(MAX_REASON))
    request = _own_request(ctx, ctx.data.get("id", 0))
    if request is None or request.status != PremiumRequestStatus.PENDING:
        return Step(messages.not_found())
    name = applicant(ctx, request)
    premium.decide(ctx.session, request, ctx.person, False, reason, ctx.now)
    notices.tell_decision(ctx.session, request, ctx.now)
    if request.status == PremiumRequestStatus.WITHDRAWN:
        return Step(messages.withdrawn(name))
    return Step(messages.declined(request, name))


def ask_reason(ctx: Context) -> list:
    request = _own_request(ctx, ctx.data.get("id", 0))
    if request is None:
        return messages.not_found()
    return messages.ask_reason(applicant(ctx, request))
