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
        Measures.TITLE: State(steps.on_title, steps.prompt, _add),
        Measures.CATEGORY: State(steps.on_category_typed, steps.prompt, _add),
        Measures.DESCRIPTION: State(steps.on_description, steps.prompt, _add),
        Measures.HOW: State(steps.on_how, steps.prompt, _add),
        Measures.CONFIRM: State(steps.buttons_only, steps.prompt, _add),
        Measures.EDIT_FIELD: State(steps.buttons_only, steps.prompt, _edit),
        Measures.EDIT_VALUE: State(steps.on_edit_value, steps.prompt, _edit),
        Measures.EDIT_CATEGORY: State(steps.on_category_typed, steps.prompt, _edit),
        Measures.RETIRE: State(steps.buttons_only, steps.prompt, messages.retire_help),
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
