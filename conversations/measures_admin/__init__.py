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
    Measures,
    MeasuresFor,
    PickCategory,
    RetireMeasure,
    SaveMeasure,
)

_add, _edit = messages.add_help, messages.edit_help

MEASURES_ADMIN = Conversation(
    name="measures",
    commands=(Command((N_("施策管理"),), steps.manage, for_staff=True),),
    states={
        Measures.TITLE: State(steps.prompt, _add, on_input=steps.on_title),
        Measures.CATEGORY: State(steps.prompt, _add, on_input=steps.on_category_typed),
        Measures.DESCRIPTION: State(steps.prompt, _add, on_input=steps.on_description),
        Measures.HOW: State(steps.prompt, _add, on_input=steps.on_how),
        Measures.CONFIRM: State(steps.prompt, _add, on_input=steps.buttons_only),
        Measures.EDIT_FIELD: State(steps.prompt, _edit, on_input=steps.buttons_only),
        Measures.EDIT_VALUE: State(steps.prompt, _edit, on_input=steps.on_edit_value),
        Measures.EDIT_CATEGORY: State(steps.prompt, _edit, on_input=steps.on_category_typed),
        Measures.RETIRE: State(steps.prompt, messages.retire_help, on_input=steps.buttons_only),
    },
    postbacks={
        MeasuresFor: steps.on_for,
        AddMeasure: steps.on_add,
        PickCategory: steps.on_category,
        SaveMeasure: steps.on_save,
        EditMeasure: steps.on_edit,
        EditField: steps.on_field,
        RetireMeasure: steps.on_retire,
        ConfirmRetire: steps.on_confirm_retire,
        KeepMeasure: steps.on_keep,
    },
)
