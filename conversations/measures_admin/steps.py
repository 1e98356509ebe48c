"""Steps of the admin's support-measure management. Every step checks the admin role again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.domain import support as rules
from bot.i18n import typed_as
from bot.services import staff, support_measures
from bot.store.models import Entity, SupportMeasure
from conversations.engine import Context, Step, Text
from conversations.measures_admin import messages
from conversations.measures_admin.draft import MeasureDraft, PickedMeasure
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
from conversations.staff import messages as staff_messages
from conversations.support.messages import CATEGORY_LABELS

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


def _draft(ctx: Context) -> MeasureDraft:
    return ctx.draft(MeasureDraft)


def _picked(ctx: Context) -> PickedMeasure:
    return ctx.draft(PickedMeasure)


def _picked_measure(ctx: Context) -> SupportMeasure | None:
    """The measure picked from the list, while it is current and the person its admin."""
    picked = _picked(ctx)
    entity = _admin_entity(ctx, picked.entity)
    return support_measures.find(ctx.session, entity, picked.id) if entity else None


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
    return Step(messages.ask_title(entity), next=MeasureState.TITLE,
                data=MeasureDraft(entity=entity.code))


def _one_line(turn: Text) -> str:
    return " ".join(turn.text.split())


def on_title(ctx: Context, turn: Text) -> Step:
    title = _one_line(turn)
    refused = rules.field_refusal(title, rules.MAX_TITLE)
    if refused is not None:
        return Step.staying(messages.refused(refused))
    return Step(messages.ask_category(ctx.token), next=MeasureState.CATEGORY,
                data=replace(_draft(ctx), title=title))


def _read_category(ctx: Context, turn: Text, chosen: Callable[[Context, str], Step]) -> Step | None:
    """The buttons are the catalogue; a typed name of one counts, a return gift is refused."""
    typed = _one_line(turn)
    code = next((code for code, msgid in CATEGORY_LABELS.items() if typed_as(typed, msgid)), None)
    if code is not None:
        return chosen(ctx, code)
    if rules.category_refusal(typed) is rules.Refusal.RETURN_GIFT or rules.gift_refusal(typed):
        return Step.staying(messages.category_refused(ctx.token))
    return None


def _add_category(ctx: Context, code: str) -> Step:
    return Step(messages.ask_description(), next=MeasureState.DESCRIPTION,
                data=replace(_draft(ctx), category=code))


def on_category(ctx: Context, postback: PickCategory) -> Step:
    if postback.v not in rules.CATEGORIES:
        return Step.staying(ask_category(ctx))
    return _add_category(ctx, postback.v)


def on_category_typed(ctx: Context, turn: Text) -> Step | None:
    return _read_category(ctx, turn, _add_category)


def on_description(ctx: Context, turn: Text) -> Step:
    description = turn.text.strip()
    refused = rules.field_refusal(description)
    if refused is not None:
        return Step.staying(messages.refused(refused))
    return Step(messages.ask_how(), next=MeasureState.HOW,
                data=replace(_draft(ctx), description=description))


def on_how(ctx: Context, turn: Text) -> Step:
    draft = replace(_draft(ctx), how_to_use=turn.text.strip())
    # All fields together: produce in the title and delivery in "how to use" is a return gift.
    refused = rules.measure_refusal(draft.title, draft.category, draft.description, draft.how_to_use)
    if refused is not None:
        return Step.staying(messages.refused(refused))
    return Step(messages.confirm_measure(draft, ctx.token), next=MeasureState.CONFIRM, data=draft)


def on_save(ctx: Context, postback: SaveMeasure) -> Step:
    draft = _draft(ctx)
    entity = _admin_entity(ctx, draft.entity)
    if entity is None:
        return _refused(ctx)
    try:
        measure = support_measures.add(
            ctx.session, entity, title=draft.title, category=draft.category,
            description=draft.description, how_to_use=draft.how_to_use, by=ctx.person,
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
    return Step(messages.ask_field(measure, ctx.token), next=MeasureState.EDIT_FIELD,
                data=PickedMeasure(entity=measure.entity.code, id=measure.id))


def on_field(ctx: Context, postback: EditField) -> Step:
    if postback.f not in support_measures.FIELDS:
        return Step.staying(ask_field(ctx))
    measure = _picked_measure(ctx)
    if measure is None:
        return Step(messages.not_found())
    if postback.f == "category":
        return Step(messages.ask_category(ctx.token), next=MeasureState.EDIT_CATEGORY,
                    data=_picked(ctx))
    return Step(messages.ask_value(postback.f, getattr(measure, postback.f)),
                next=MeasureState.EDIT_VALUE, data=replace(_picked(ctx), field=postback.f))


def on_edit_value(ctx: Context, turn: Text) -> Step:
    field = _picked(ctx).field
    return _apply_edit(ctx, field, _one_line(turn) if field == "title" else turn.text.strip())


def _edit_category(ctx: Context, code: str) -> Step:
    return _apply_edit(ctx, "category", code)


def on_edit_category(ctx: Context, postback: PickCategory) -> Step:
    if postback.v not in rules.CATEGORIES:
        return Step.staying(ask_edit_category(ctx))
    return _edit_category(ctx, postback.v)


def on_edit_category_typed(ctx: Context, turn: Text) -> Step | None:
    return _read_category(ctx, turn, _edit_category)


def _apply_edit(ctx: Context, field: str, value: str) -> Step:
    measure = _picked_measure(ctx)
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
    return Step(messages.confirm_retire(measure, ctx.token), next=MeasureState.RETIRE,
                data=PickedMeasure(entity=measure.entity.code, id=measure.id))


def on_confirm_retire(ctx: Context, postback: ConfirmRetire) -> Step:
    if _picked(ctx).id != postback.id:
        return Step.staying(ask_retire(ctx))
    measure = _picked_measure(ctx)
    if measure is None:
        return Step(messages.not_found())
    support_measures.retire(measure, ctx.now)
    return Step(messages.retired(measure))


def on_keep(ctx: Context, postback: KeepMeasure) -> Step:
    return Step(messages.kept())


# The questions, asked again --------------------------------------------------------------------

def _adding(ctx: Context) -> Entity | None:
    """The entity the measure is added to, while the person is still its admin."""
    return _admin_entity(ctx, _draft(ctx).entity)


def ask_title(ctx: Context) -> list:
    entity = _adding(ctx)
    return messages.ask_title(entity) if entity else messages.admin_only()


def ask_category(ctx: Context) -> list:
    return messages.ask_category(ctx.token) if _adding(ctx) else messages.admin_only()


def ask_description(ctx: Context) -> list:
    return messages.ask_description() if _adding(ctx) else messages.admin_only()


def ask_how(ctx: Context) -> list:
    return messages.ask_how() if _adding(ctx) else messages.admin_only()


def ask_confirm(ctx: Context) -> list:
    return messages.confirm_measure(_draft(ctx), ctx.token) if _adding(ctx) else messages.admin_only()


def ask_field(ctx: Context) -> list:
    measure = _picked_measure(ctx)
    return messages.ask_field(measure, ctx.token) if measure else messages.not_found()


def ask_value(ctx: Context) -> list:
    measure = _picked_measure(ctx)
    if measure is None:
        return messages.not_found()
    field = _picked(ctx).field
    return messages.ask_value(field, getattr(measure, field))


def ask_edit_category(ctx: Context) -> list:
    return messages.ask_category(ctx.token) if _picked_measure(ctx) else messages.not_found()


def ask_retire(ctx: Context) -> list:
    measure = _picked_measure(ctx)
    return messages.confirm_retire(measure, ctx.token) if measure else messages.not_found()
