"""Support measures, managed by an entity's admin staff in the chat (R6)."""

from bot.i18n import N_
from conversations.engine import Command, Conversation, State
from conversations.measures_admin import messages, steps
from conversations.measures_admin.states import (
    AddMeasure,
    ConfirmRetire,
    EditField,
    EditMeasure,
    KeepMeasure,
    MeasuresFor,
    MeasureState,
    PickCategory,
    RetireMeasure,
    SaveMeasure,
)

_add, _edit = messages.add_help, messages.edit_help

MEASURES_ADMIN = Conversation(
    name="measures",
    commands=(Command((N_("施策管理"),), steps.manage, for_staff=True),),
    states={
        MeasureState.TITLE: State(steps.ask_title, _add, on_text=steps.on_title),
        # The buttons are the catalogue; a category's name typed counts too.
        MeasureState.CATEGORY: State(steps.ask_category, _add, on_text=steps.on_category_typed,
                                     postbacks={PickCategory: steps.on_category}),
        MeasureState.DESCRIPTION: State(steps.ask_description, _add, on_text=steps.on_description),
        MeasureState.HOW: State(steps.ask_how, _add, on_text=steps.on_how),
        MeasureState.CONFIRM: State(steps.ask_confirm, _add,
                                    postbacks={SaveMeasure: steps.on_save, KeepMeasure: steps.on_keep}),
        MeasureState.EDIT_FIELD: State(steps.ask_field, _edit, postbacks={EditField: steps.on_field}),
        MeasureState.EDIT_VALUE: State(steps.ask_value, _edit, on_text=steps.on_edit_value),
        MeasureState.EDIT_CATEGORY: State(steps.ask_edit_category, _edit,
                                          on_text=steps.on_edit_category_typed,
                                          postbacks={PickCategory: steps.on_edit_category}),
        MeasureState.RETIRE: State(steps.ask_retire, messages.retire_help,
                                   postbacks={ConfirmRetire: steps.on_confirm_retire,
                                              KeepMeasure: steps.on_keep}),
    },
    # The list's buttons start something from anywhere.
    postbacks={
        MeasuresFor: steps.on_for,
        AddMeasure: steps.on_add,
        EditMeasure: steps.on_edit,
        RetireMeasure: steps.on_retire,
    },
)
