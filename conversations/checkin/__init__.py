"""Activity check-in by QR code (R12) and the person's activity history (R4, R11)."""

from bot.codes import checkin_codes
from bot.i18n import N_
from conversations.checkin import messages, steps
from conversations.checkin.states import CheckInState, MenuActivities, NotNow, RegisterAndCheckIn
from conversations.engine import Command, Conversation, Pattern, State

CHECKIN = Conversation(
    name="checkin",
    commands=(Command((N_("活動履歴"), N_("参加履歴")), steps.my_activities),),
    patterns=(Pattern(checkin_codes.find_token, steps.on_code),),
    states={
        # The offer to register first takes only its buttons: anything typed is re-asked.
        CheckInState.REGISTER: State(
            steps.ask_register, messages.register_help,
            postbacks={RegisterAndCheckIn: steps.on_register, NotNow: steps.on_not_now}),
    },
    postbacks={MenuActivities: lambda ctx, _pb: steps.my_activities(ctx)},
)
