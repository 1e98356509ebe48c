"""Staff review premium requests of their own entity: approve, or decline with a reason (R8)."""

from bot.i18n import N_
from conversations.engine import Command, Conversation, State
from conversations.premium_review import messages, steps
from conversations.premium_review.states import (
    Approve,
    Decline,
    MenuReviews,
    ReviewFor,
    ReviewState,
)

PREMIUM_REVIEW = Conversation(
    name="premium_review",
    commands=(Command((N_("審査"), N_("審査待ち"), "Review"), steps.reviews, for_staff=True),),
    states={ReviewState.REASON: State(steps.ask_reason, messages.reason_help, on_text=steps.on_reason)},
    postbacks={ReviewFor: steps.on_review_for, Approve: steps.on_approve,
               Decline: steps.on_decline, MenuReviews: lambda ctx, _pb: steps.reviews(ctx)},
)
