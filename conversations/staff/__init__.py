"""Municipality staff in the chat: enrolment, activities and their QR codes, figures."""

from bot.i18n import N_
from bot.services import staff
from conversations.engine import Command, Conversation, Pattern, State
from conversations.staff import messages, steps
from conversations.staff.states import (
                                        Category,
                                        CodeKind,
                                        ConfirmFinish,
                                        Create,
                                        Designated,
                                        Finish,
                                        ForEntity,
                                        KeepOpen,
                                        MenuActivityList,
                                        MenuFigures,
                                        MenuNewActivity,
                                        MoreDays,
                                        PickDay,
                                        PickTime,
                                        ShowCodes,
                                        Staffing,
)

_create = messages.creation_help

STAFF = Conversation(
    name="staff",
    patterns=(Pattern(staff.find_invitation_code, steps.on_invitation),),
    commands=(
        Command((N_("活動を作る"),), steps.new_activity, for_staff=True),
        Command((N_("活動一覧"),), steps.activity_list, for_staff=True),
        Command((N_("集計"),), steps.figures, for_staff=True),
        Command((N_("スタッフメニュー"),), lambda ctx: steps.activity_list(ctx), for_staff=True),
    ),
    states={
        Staffing.TITLE: State(steps.prompt, _create, on_input=steps.on_title),
        Staffing.CATEGORY: State(steps.prompt, _create, on_input=steps.buttons_only),
        Staffing.DESIGNATED: State(steps.prompt, _create, on_input=steps.buttons_only),
        Staffing.DAY: State(steps.prompt, _create, on_input=steps.on_day_typed),
        Staffing.START: State(steps.prompt, _create, on_input=steps.on_time_typed),
        Staffing.END: State(steps.prompt, _create, on_input=steps.on_time_typed),
        Staffing.PLACE: State(steps.prompt, _create, on_input=steps.on_place),
        Staffing.KIND: State(steps.prompt, _create, on_input=steps.buttons_only),
        Staffing.MORE: State(steps.prompt, _create, on_input=steps.buttons_only),
        Staffing.CONFIRM: State(steps.prompt, _create, on_input=steps.buttons_only),
        Staffing.FINISH: State(steps.prompt, messages.finish_help, on_input=steps.buttons_only),
    },
    postbacks={
        MenuNewActivity: lambda ctx, _pb: steps.new_activity(ctx),
        MenuActivityList: lambda ctx, _pb: steps.activity_list(ctx),
        MenuFigures: lambda ctx, _pb: steps.figures(ctx),
        ForEntity: steps.on_for_entity,
        Category: steps.on_category,
        Designated: steps.on_designated,
        PickDay: steps.on_day_picked,
        PickTime: steps.on_time_picked,
        CodeKind: steps.on_kind,
        MoreDays: steps.on_more,
        Create: steps.on_create,
        ShowCodes: steps.on_show_codes,
        Finish: steps.on_finish,
        ConfirmFinish: steps.on_confirm_finish,
        KeepOpen: steps.on_keep_open,
    },
)
