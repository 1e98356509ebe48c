"""Support measures (R6): the catalogue, the return-gift refusal, admin-only management in the
chat and the CLI, and what residents see as premium or basic registrants."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.domain import support as rules
from bot.services import entities, registry, support_measures
from bot.store.models import SupportCategory, SupportMeasure
from conversations.measures_admin.states import EditMeasure, RetireMeasure
from conversations.postback import pack
from tests.factories import (
    KAMIYAMA,
    SAPPORO,
    TOKUSHIMA,
    count,
    kamiyama_resident,
    make_premium,
    make_staff,
    person_of,
    staff_member,
)

TRAVEL = dict(title="帰省・来訪の交通費補助", category="travel",
              description="神山町を訪れるときの交通費を、年2回まで半額補助します。",
              how_to_use="役場の窓口で登録証のQRコードと領収書を見せてください。")


def add(app, code=KAMIYAMA, **fields):
    with app.extensions["db"].transaction() as session:
        measure = support_measures.add(session, entities.by_code(session, code),
                                       **{**TRAVEL, **fields}, by=None, now=datetime.now(UTC))
        return measure.id


def measures(db, code=KAMIYAMA, current_only=True):
    with db.transaction() as session:
        query = select(SupportMeasure).join(SupportMeasure.entity).where(
            SupportMeasure.entity.has(code=code))
        if current_only:
            query = query.where(SupportMeasure.retired_at.is_(None))
        return [(m.title, m.category, m.description, m.how_to_use)
                for m in session.scalars(query.order_by(SupportMeasure.id))]


def admin(app, client, line, runner, code=KAMIYAMA, role="admin", name="管理者"):
    return staff_member(app, client, line, runner, name, code, role)


# The rules ---------------------------------------------------------------------------------------

def test_r6_catalogue_is_the_models_and_has_no_return_gift():
    assert set(rules.CATEGORIES) == {c.value for c in SupportCategory}
    assert not any("gift" in c for c in rules.CATEGORIES)


@pytest.mark.parametrize("value", ["return_gift", "gift", "返礼品", "お礼の品", "Return-Gift"])
def test_r6_a_return_gift_category_is_refused_with_the_reason(value):
    assert rules.category_refusal(value) is rules.Refusal.RETURN_GIFT


def test_an_unknown_category_is_refused():
    assert rules.category_refusal("souvenirs") is rules.Refusal.UNKNOWN_CATEGORY
    assert rules.category_refusal("travel") is None


@pytest.mark.parametrize("words", [
    "返礼品として地元のお米を",
    "お礼の品をお贈りします",
    "ふるさと納税の返礼",
    "Return gift for our supporters",
    "a thank-you gift",
])
def test_r6_naming_a_return_gift_is_refused(words):
    assert rules.gift_refusal(words) is rules.Refusal.RETURN_GIFT


@pytest.mark.parametrize("words", [
    "特産品を送る",
    "地元の特産品をご自宅へ発送します",
    "新米5kgを毎年お届け",
    "We ship local products to your home",
    "Local rice delivered to your door",
])
def test_r6_goods_sent_without_a_visit_are_refused(words):
    assert rules.gift_refusal(words) is rules.Refusal.SHIPPED_GOODS


@pytest.mark.parametrize("words", [
    "町営温泉を住民料金で利用できます",
    "交通費を後日口座に振り込みます",
    "申請書を郵送してください",
    "災害時に避難所で受け入れます",
    "Resident rates at the public pool",
    "Travel costs are reimbursed after your visit",
    "特産品づくりの体験に町民料金で参加できます",
    "特産品直売所までの送り迎えをします",
    "Prices are posted at the farm shop selling local products",
])
def test_in_person_measures_are_accepted(words):
    assert rules.gift_refusal(words) is None


def test_r6_fields_are_judged_together():
    assert rules.measure_refusal("地元の特産品セット", "in_person_service", "季節のものです",
                                 "ご自宅に配送します") is rules.Refusal.SHIPPED_GOODS
    assert rules.measure_refusal(**TRAVEL) is None
    assert rules.measure_refusal("", "travel", "x", "y") is rules.Refusal.EMPTY
    assert rules.measure_refusal("x" * 101, "travel", "x", "y") is rules.Refusal.TOO_LONG


# The chat: admin only ----------------------------------------------------------------------------

def test_admin_adds_a_measure_in_the_chat(app, client, line, db, join, runner):
    chat = admin(app, client, line, runner)
    chat.say("施策管理")
    assert "サポート施策はまだありません" in chat.text()
    chat.tap("施策を追加")
    chat.say(TRAVEL["title"])
    assert chat.labels()[:6] == ["交通費の支援", "宿泊費の支援", "仕事場の利用料支援",
                                 "公共施設の住民料金", "災害時の避難受け入れ", "その他の現地サービス"]
    chat.tap("交通費の支援")
    chat.say(TRAVEL["description"])
    chat.say(TRAVEL["how_to_use"])
    assert "この内容で登録します" in chat.text() and "【交通費の支援】" in chat.text()
    chat.tap("登録する")
    assert "を登録しました" in chat.text()
    assert measures(db) == [tuple(TRAVEL.values())]


def test_r6_return_gift_refused_in_the_chat_and_nothing_saved(app, client, line, db, join,
                                                               runner):
    chat = admin(app, client, line, runner)
    chat.say("施策管理")
    chat.tap("施策を追加")
    chat.say("返礼品のお米")
    assert "返礼品（お礼の品）はサポート施策として登録できません" in chat.text()
    assert "現地を訪れて利用するもの" in chat.text()  # the reason, R6
    chat.say("季節の特産品")  # fine alone
    chat.say("返礼品")  # typed as the category
    assert "返礼品（お礼の品）はサポート施策として登録できません" in chat.text()
    assert "交通費の支援" in chat.labels()
    chat.tap("その他の現地サービス")
    chat.say("旬の野菜の詰め合わせです")
    chat.say("毎年ご自宅へ発送します")
    assert "品物を送る・届ける内容は" in chat.text()
    chat.say("キャンセル")
    assert count(db, SupportMeasure) == 0


def test_staff_who_are_not_admins_and_residents_cannot_manage(app, client, line, db, join,
                                                              runner):
    staff = admin(app, client, line, runner, role="staff", name="職員")
    staff.say("施策管理")
    assert "管理者の方だけ" in staff.text()
    measure_id = add(app)
    staff.postback(pack(RetireMeasure(measure_id)))
    assert "管理者の方だけ" in staff.text()
    staff.postback(pack(EditMeasure(measure_id)))
    assert "管理者の方だけ" in staff.text()
    person = kamiyama_resident(app, client, line, join, name="住民")
    person.say("施策管理")
    assert "自治体の職員の方専用" in person.text()
    person.postback(pack(RetireMeasure(measure_id)))
    assert "自治体の職員の方専用" in person.text()
    assert len(measures(db)) == 1


def test_an_admin_of_two_entities_chooses_which(app, client, line, db, join, runner):
    chat = admin(app, client, line, runner)
    make_staff(runner, chat, SAPPORO, "admin")
    chat.say("施策管理")
    assert "どの団体のサポート施策を管理しますか" in chat.text()
    chat.tap("札幌市（北海道）")
    assert "札幌市（北海道）のサポート施策はまだありません" in chat.text()
    chat.tap("施策を追加")
    assert "札幌市（北海道）のサポート施策を追加します" in chat.text()


def test_an_admin_elsewhere_cannot_touch_another_entitys_measure(app, client, line, db, join,
                                                                 runner):
    measure_id = add(app)
    other = admin(app, client, line, runner, code=SAPPORO)
    other.postback(pack(RetireMeasure(measure_id)))
    assert "見つかりませんでした" in other.text()
    other.postback(pack(EditMeasure(measure_id)))
    assert "見つかりませんでした" in other.text()
    assert len(measures(db)) == 1


def test_admin_edits_a_field_and_a_return_gift_edit_is_refused(app, client, line, db, join,
                                                               runner):
    add(app)
    chat = admin(app, client, line, runner)
    chat.say("施策管理")
    chat.tap("編集する")
    chat.tap("使い方")
    chat.say("特産品をご自宅に郵送します")
    assert "品物を送る・届ける内容は" in chat.text()
    assert measures(db)[0][3] == TRAVEL["how_to_use"]
    chat.say("観光案内所で登録証を見せてください")
    assert "を更新しました" in chat.text()
    assert measures(db)[0][3] == "観光案内所で登録証を見せてください"
    chat.say("施策管理")
    chat.tap("編集する")
    chat.tap("種類")
    chat.tap("宿泊費の支援")
    assert measures(db)[0][1] == "lodging"


def test_retire_hides_the_measure_from_residents(app, client, line, db, join, runner):
    chat = kamiyama_resident(app, client, line, join)
    make_premium(db, chat, KAMIYAMA)
    add(app)
    chat.say("サポート施策")
    assert TRAVEL["title"] in chat.text()
    staff = admin(app, client, line, runner)
    staff.say("施策管理")
    staff.tap("終了する")
    staff.tap("終了する")
    assert "を終了しました" in staff.text()
    assert measures(db) == [] and len(measures(db, current_only=False)) == 1
    chat.say("サポート施策")
    assert TRAVEL["title"] not in chat.text()
    staff.say("施策管理")
    assert "サポート施策はまだありません" in staff.text()


# The CLI ---------------------------------------------------------------------------------------

def test_cli_add_list_edit_retire(runner, db):
    result = runner.invoke(args=["measures", "add", KAMIYAMA, "--title", TRAVEL["title"],
                                 "--category", "travel", "--description", TRAVEL["description"],
                                 "--how-to-use", TRAVEL["how_to_use"]])
    assert result.exit_code == 0, result.output
    measure_id = result.output.split("support measure ")[1].split(" ")[0]
    listed = runner.invoke(args=["measures", "list", KAMIYAMA])
    assert TRAVEL["title"] in listed.output and "travel" in listed.output
    edited = runner.invoke(args=["measures", "edit", measure_id, "--category", "lodging"])
    assert edited.exit_code == 0, edited.output
    assert measures(db)[0][1] == "lodging"
    retired = runner.invoke(args=["measures", "retire", measure_id])
    assert retired.exit_code == 0, retired.output
    assert "has no support measures" in runner.invoke(args=["measures", "list", KAMIYAMA]).output


@pytest.mark.parametrize("change", [
    ["--category", "return_gift"],
    ["--title", "返礼品セット"],
    ["--description", "We ship local products to your home"],
])
def test_r6_cli_refuses_return_gifts_with_the_reason(runner, db, change):
    base = {"--title": "交通費補助", "--category": "travel", "--description": "半額補助",
            "--how-to-use": "窓口で"}
    base.update(dict(zip(change[::2], change[1::2])))
    args = ["measures", "add", KAMIYAMA] + [x for pair in base.items() for x in pair]
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert "Refused" in result.output and "visiting" in result.output
    assert count(db, SupportMeasure) == 0


def test_cli_edit_to_a_return_gift_changes_nothing(app, runner, db):
    measure_id = add(app)
    result = runner.invoke(args=["measures", "edit", str(measure_id), "--how-to-use",
                                 "特産品を送ります"])
    assert result.exit_code != 0 and "Refused" in result.output
    assert measures(db)[0][3] == TRAVEL["how_to_use"]


def test_cli_unknown_entity_or_measure(runner):
    assert "Unknown entity code" in runner.invoke(args=["measures", "list", "999999"]).output
    assert "No current support measure" in runner.invoke(args=["measures", "retire", "12345"]).output


# Residents -------------------------------------------------------------------------------------

def test_premium_registrant_sees_the_measures_of_their_premium_entity(app, client, line, db,
                                                                      join):
    chat = kamiyama_resident(app, client, line, join)
    make_premium(db, chat, KAMIYAMA)
    add(app)
    add(app, code=TOKUSHIMA, title="県立施設の県民料金", category="facility_rates",
        description="県立美術館を県民料金で", how_to_use="受付で登録証を提示")
    chat.say("サポート施策")
    shown = chat.text()
    assert "プレミアム登録で受けられるサポート施策です" in shown
    assert "■ 神山町（徳島県）（プレミアム登録（2099年5月1日まで有効））" in shown
    assert "【交通費の支援】帰省・来訪の交通費補助" in shown
    assert TRAVEL["description"] in shown and TRAVEL["how_to_use"] in shown
    # 徳島県 is basic here (the co-registration was not upgraded in this setup): what premium brings
    assert "プレミアム登録をすると受けられるサポートです" in shown
    assert "・【公共施設の住民料金】県立施設の県民料金" in shown
    assert "登録証" in chat.labels() and "プレミアム登録" in chat.labels()


def test_basic_registrant_sees_what_premium_would_bring_and_how_to_apply(app, client, line, db,
                                                                          join):
    chat = kamiyama_resident(app, client, line, join)
    add(app)
    chat.say("サポート施策")
    shown = chat.text()
    assert "プレミアム登録で受けられるサポート施策です" not in shown
    assert "■ 神山町（徳島県）" in shown and "・【交通費の支援】帰省・来訪の交通費補助" in shown
    assert "■ 徳島県\nまだサポート施策は登録されていません。" in shown
    assert "「プレミアム登録」と送ってください" in shown
    assert "プレミアム登録" in chat.labels()


def test_support_in_english(app, client, line, db, join):
    chat = kamiyama_resident(app, client, line, join)
    add(app)
    chat.say("English")
    chat.say("Support")
    assert "[Travel support]" in chat.text()
    assert "Premium registration" in chat.labels()  # the premium command in English


def test_nothing_registered_offers_to_register(chat):
    chat.say("サポート施策")
    assert "まだどこにも登録していません" in chat.text()
    assert "登録する" in chat.labels()


def test_home_municipality_is_not_advertised_for_premium(app, client, line, db, join):
    chat = kamiyama_resident(app, client, line, join)
    with db.transaction() as session:
        registry.set_residence(session, person_of(session, chat), entities.by_code(session, KAMIYAMA))
    add(app)
    chat.say("サポート施策")
    assert "お住まいの市区町村のため、ここではプレミアム登録はできません" in chat.text()
    assert TRAVEL["title"] not in chat.text()
