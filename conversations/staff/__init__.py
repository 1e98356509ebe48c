"""Municipality staff in the chat: enrolment, activities and their QR codes, figures."""

from bot.i18n import N_
from bot.services import staff
from conversations.engine import Command, Conversation, Pattern, State
from conversations.staff import messages, steps
from conversations.staff.states import (
    ActivityState,
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
)

_create = messages.creation_help

STAFF = Conversation(
    name="staff",
    patterns=(Pattern(staff.find_invitation_code, steps.on_invitation),),
    commands=(
        Command((N_("活動を作る"),), steps.new_activity, for_staff=True),
        Command((N_("活動一覧"),), steps.activity_list, for_staff=True),
        Command((N_("集計"),), steps.figures, for_staff=True),
        Command((N_("スタッフメニュー"),), steps.activity_list, for_staff=True),
    ),
    states={
        ActivityState.TITLE: State(steps.ask_title, _create, on_text=steps.on_title),
        ActivityState.CATEGORY: State(steps.ask_category, _create,
                                      postbacks={Category: steps.on_category}),
        ActivityState.DESIGNATED: State(steps.ask_designated, _create,
                                        postbacks={Designated: steps.on_designated}),
        # 「日程はこれで全部」 is offered while a further day is half given.
        ActivityState.DAY: State(steps.ask_day, _create, on_text=steps.on_day_typed,
                                 postbacks={PickDay: steps.on_day_picked,
                                            MoreDays: steps.on_enough_days}),
        ActivityState.START: State(steps.ask_start, _create, on_text=steps.on_start_typed,
                                   postbacks={PickTime: steps.on_start_picked,
                                              MoreDays: steps.on_enough_days}),
        ActivityState.END: State(steps.ask_end, _create, on_text=steps.on_end_typed,
                                 postbacks={PickTime: steps.on_end_picked,
                                            MoreDays: steps.on_enough_days}),
        ActivityState.PLACE: State(steps.ask_place, _create, on_text=steps.on_place),
        ActivityState.KIND: State(steps.ask_kind, _create, postbacks={CodeKind: steps.on_kind}),
        ActivityState.MORE: State(steps.ask_more, _create, postbacks={MoreDays: steps.on_more}),
        ActivityState.CONFIRM: State(steps.ask_confirm, _create, postbacks={Create: steps.on_create}),
        ActivityState.FINISH: State(steps.ask_finish, messages.finish_help,
                                    postbacks={ConfirmFinish: steps.on_confirm_finish,
                                               KeepOpen: steps.on_keep_open}),
    },
    # The menu's and the activity list's buttons start something from anywhere.
    postbacks={
        MenuNewActivity: steps.on_new_activity,
        MenuActivityList: steps.on_activity_list,
        MenuFigures: steps.on_figures,
        ForEntity: steps.on_for_entity,
        ShowCodes: steps.on_show_codes,
        Finish: steps.on_finish,
    },
)
