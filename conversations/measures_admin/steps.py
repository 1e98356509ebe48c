"""Steps of the admin's support-measure management. Every step checks the admin role again."""

from __future__ import annotations

from bot.domain import support as rules
from bot.i18n import typed_as
from bot.services import staff, support_measures
from bot.store.models import Entity, SupportMeasure
from conversations.engine import Context, Step, Text, Turn
from conversations.measures_admin import messages
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
from conversations.staff import messages as staff_messages
from conversations.support.messages import CATEGORY_LABELS

TEXT_FIELDS = ("title", "description", "how_to_use")


# Who may act -----------------------------------------------------------------------------------

def _admin_roles(ctx: Context):
    return [role for role in staff.roles_of(ctx.session, ctx.person) if staff.is_admin(role)]


def _refused(ctx: Context) -> Step:
    """Residents hear that this is for staff; staff who are not admins, that it is for admins."""
    if staff.roles_of(ctx.session, ctx.person):
        return Step(messages.admin_only())
    return Step(staff_messages.staff_only())


def _admin_entity(ctx: Context, code: str | None) -> Entity | None:
    role = staff.role_at(ctx.session, ctx.person, code or "")
    return role.entity if role is not None and staff.is_admin(role) else None


def _owned(ctx: Context, measure_id: int) -> SupportMeasure | None:
    """A current measure of an entity this person administers; others' IDs find nothing."""
    for role in _admin_roles(ctx):
        found = support_measures.find(ctx.session, role.entity, measure_id)
        if found is not None:
            return found
    return None


def _draft_measure(ctx: Context) -> SupportMeasure | None:
    entity = _admin_entity(ctx, ctx.data.get("entity"))
    return support_measures.find(ctx.session, entity, ctx.data.get("id", 0)) if entity else None


# The list --------------------------------------------------------------------------------------

def manage(ctx: Context, code: str | None = None) -> Step:
    roles = _admin_roles(ctx)
    if code is not None:
        roles = [role for role in roles if role.entity.code == code]
    if not roles:
        return _refused(ctx)
    if len(roles) > 1:
        return Step(messages.choose_entity(roles))
    entity = roles[0].entity
    return Step(messages.measure_list(entity, support_measures.of_entity(ctx.session, entity)))


def on_for(ctx: Context, postback: MeasuresFor) -> Step:
    return manage(ctx, postback.code)


# Adding ----------------------------------------------------------------------------------------

def on_add(ctx: Context, postback: AddMeasure) -> Step:
    entity = _admin_entity(ctx, postback.code)
    if entity is None:
        return _refused(ctx)
    ctx.restart()
    return Step(messages.ask_title(entity), next=Measures.TITLE, data={"entity": entity.code})


def _typed(turn: Turn, one_line: bool = False) -> str | None:
    if not isinstance(turn, Text):
        return None
    return " ".join(turn.text.split()) if one_line else turn.text.strip()


def on_title(ctx: Context, turn: Turn) -> Step | None:
    title = _typed(turn, one_line=True)
    if title is None:
        return None
    refused = rules.field_refusal(title, rules.MAX_TITLE)
    if refused is not None:
        return Step.staying(messages.refused(refused))
    return Step(messages.ask_category(ctx.token), next=Measures.CATEGORY,
                data={**ctx.data, "title": title})


def _category_typed(typed: str) -> str | None:
    return next((code for code, msgid in CATEGORY_LABELS.items() if typed_as(typed, msgid)), None)


def on_category_typed(ctx: Context, turn: Turn) -> Step | None:
    """The buttons are the catalogue; a typed name of one counts, a return gift is refused."""
    typed = _typed(turn, one_line=True)
    if typed is None:
        return None
    code = _category_typed(typed)
    if code is not None:
        return _category_chosen(ctx, code)
    if rules.category_refusal(typed) is rules.Refusal.RETURN_GIFT or rules.gift_refusal(typed):
        return Step.staying(messages.category_refused(ctx.token))
    return None


def on_category(ctx: Context, postback: PickCategory) -> Step:
    if ctx.state_name not in (Measures.CATEGORY, Measures.EDIT_CATEGORY) \
            or postback.v not in rules.CATEGORIES:
        return Step.staying(prompt(ctx))
    return _category_chosen(ctx, postback.v)


def _category_chosen(ctx: Context, code: str) -> Step:
    if ctx.state_name == Measures.EDIT_CATEGORY:
        return _apply_edit(ctx, "category", code)
    return Step(messages.ask_description(), next=Measures.DESCRIPTION,
                data={**ctx.data, "category": code})


def on_description(ctx: Context, turn: Turn) -> Step | None:
    description = _typed(turn)
    if description is None:
        return None
    refused = rules.field_refusal(description)
    if refused is not None:
        return Step.staying(messages.refused(refused))
    return Step(messages.ask_how(), next=Measures.HOW, data={**ctx.data, "description": description})


def on_how(ctx: Context, turn: Turn) -> Step | None:
    how_to_use = _typed(turn)
    if how_to_use is None:
        return None
    draft = {**ctx.data, "how_to_use": how_to_use}
    # All fields together: produce in the title and delivery in "how to use" is a return gift.
    refused = rules.measure_refusal(draft["title"], draft["category"], draft["description"],
                                    how_to_use)
    if refused is not None:
        return Step.staying(messages.refused(refused))
    return Step(messages.confirm_measure(draft, ctx.token), next=Measures.CONFIRM, data=draft)


def on_save(ctx: Context, postback: SaveMeasure) -> Step:
    if ctx.state_name != Measures.CONFIRM:
        return Step.staying(prompt(ctx))
    entity = _admin_entity(ctx, ctx.data.get("entity"))
    if entity is None:
        return _refused(ctx)
    draft = ctx.data
    try:
        measure = support_measures.add(
            ctx.session, entity, title=draft["title"], category=draft["category"],
            description=draft["description"], how_to_use=draft["how_to_use"], by=ctx.person,
            now=ctx.now)
    except support_measures.MeasureRefused as refusal:
        return Step(messages.refused(refusal.reason))
    return Step(messages.saved(measure))


# Editing ---------------------------------------------------------------------------------------

def on_edit(ctx: Context, postback: EditMeasure) -> Step:
    if not _admin_roles(ctx):
        return _refused(ctx)
    measure = _owned(ctx, postback.id)
    if measure is None:
        return Step(messages.not_found())
    ctx.restart()
    return Step(messages.ask_field(measure, ctx.token), next=Measures.EDIT_FIELD,
                data={"entity": measure.entity.code, "id": measure.id})


def on_field(ctx: Context, postback: EditField) -> Step:
    if ctx.state_name != Measures.EDIT_FIELD or postback.f not in support_measures.FIELDS:
        return Step.staying(prompt(ctx))
    measure = _draft_measure(ctx)
    if measure is None:
        return Step(messages.not_found())
    if postback.f == "category":
        return Step(messages.ask_category(ctx.token), next=Measures.EDIT_CATEGORY, data=ctx.data)
    return Step(messages.ask_value(postback.f, getattr(measure, postback.f)),
                next=Measures.EDIT_VALUE, data={**ctx.data, "field": postback.f})


def on_edit_value(ctx: Context, turn: Turn) -> Step | None:
    field = ctx.data.get("field")
    value = _typed(turn, one_line=field == "title")
    if value is None:
        return None
    return _apply_edit(ctx, field, value)


def _apply_edit(ctx: Context, field: str, value: str) -> Step:
    measure = _draft_measure(ctx)
    if measure is None:
        return Step(messages.not_found())
    try:
        support_measures.edit(ctx.session, measure, ctx.now, **{field: value})
    except support_measures.MeasureRefused as refusal:
        return Step.staying(messages.refused(refusal.reason))
    return Step(messages.updated(measure))


# Retiring --------------------------------------------------------------------------------------

def on_retire(ctx: Context, postback: RetireMeasure) -> Step:
    if not _admin_roles(ctx):
        return _refused(ctx)
    measure = _owned(ctx, postback.id)
    if measure is None:
        return Step(messages.not_found())
    ctx.restart()
    return Step(messages.confirm_retire(measure, ctx.token), next=Measures.RETIRE,
                data={"entity": measure.entity.code, "id": measure.id})


def on_confirm_retire(ctx: Context, postback: ConfirmRetire) -> Step:
    if ctx.state_name != Measures.RETIRE or ctx.data.get("id") != postback.id:
        return Step.staying(prompt(ctx))
    measure = _draft_measure(ctx)
    if measure is None:
        return Step(messages.not_found())
    support_measures.retire(measure, ctx.now)
    return Step(messages.retired(measure))


def on_keep(ctx: Context, postback: KeepMeasure) -> Step:
    return Step(messages.kept())


# Asking again ----------------------------------------------------------------------------------

def buttons_only(ctx: Context, turn: Turn) -> Step | None:
    return None  # the engine answers with this state's help and question


def prompt(ctx: Context) -> list:
    name = ctx.state_name
    if name in (Measures.TITLE, Measures.CATEGORY, Measures.DESCRIPTION, Measures.HOW,
                Measures.CONFIRM):
        entity = _admin_entity(ctx, ctx.data.get("entity"))
        if entity is None:
            return messages.admin_only()
        return {
            Measures.TITLE: lambda: messages.ask_title(entity),
            Measures.CATEGORY: lambda: messages.ask_category(ctx.token),
            Measures.DESCRIPTION: messages.ask_description,
            Measures.HOW: messages.ask_how,
            Measures.CONFIRM: lambda: messages.confirm_measure(ctx.data, ctx.token),
        }[name]()
    measure = _draft_measure(ctx)
    if measure is None:
        return messages.not_found()
    if name == Measures.EDIT_FIELD:
        return messages.ask_field(measure, ctx.token)
    if name == Measures.EDIT_VALUE:
        return messages.ask_value(ctx.data["field"], getattr(measure, ctx.data["field"]))
    if name == Measures.EDIT_CATEGORY:
        return messages.ask_category(ctx.token)
    return messages.confirm_retire(measure, ctx.token)
