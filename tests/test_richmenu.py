"""The rich menus (residents', staff's): images, definitions, deploying and linking them."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime

import pytest
from linebot.v3.messaging import RichMenuArea, RichMenuBounds, RichMenuSize
from linebot.v3.messaging.models import MessageAction, RichMenuRequest
from PIL import Image

from bot.line import gateway, richmenu
from bot.services import entities, people, staff
from bot.store.models import StaffRole
from cli.richmenu import richmenu_cli
from tests.factories import KAMIYAMA, make_staff

RESIDENTS_DATA = ["menu.register", "menu.mine", "menu.premium", "menu.card",
                  "menu.activities", "menu.local", "menu.settings", "menu.help"]
RESIDENTS_LABELS = ["登録する", "登録状況", "プレミアム登録", "登録証", "活動履歴", "地域の情報",
                    "設定・言語", "ヘルプ"]
STAFF_DATA = ["staff.new", "staff.list", "staff.news", "staff.stats", "staff.reviews",
              "menu.register", "menu.activities", "menu.help"]
STAFF_LABELS = ["活動を作る", "活動一覧", "お知らせ", "集計", "審査", "登録する", "活動履歴", "ヘルプ"]
MENUS = [richmenu.RESIDENTS, richmenu.STAFF]
STAFF_USER = "U" + "5" * 32


@pytest.fixture(scope="module", params=MENUS, ids=lambda menu: menu.name)
def menu(request):
    return request.param


def test_image_is_a_png_of_the_menu_size_within_lines_limit(menu):
    png = richmenu.menu_image(menu)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (2500, 1686)
    assert len(png) <= 1024 * 1024


@pytest.mark.parametrize("menu, cell, box", [
    pytest.param(menu, cell, box, id=f"{menu.name}:{cell.data}")
    for menu in MENUS for cell, box in menu.boxes()])
def test_every_cell_has_its_pictogram_and_its_words_drawn(menu, cell, box):
    image = Image.open(io.BytesIO(richmenu.menu_image(menu)))
    x, y, width, height = box
    pictogram = image.crop((x, y, x + width, y + height // 2))
    words = image.crop((x, y + height // 2, x + width, y + height)).convert("L")
    assert cell.accent in {colour for _, colour in pictogram.getcolors(1 << 16)}
    ink = sum(words.histogram()[:100])
    assert ink > 0.02 * words.width * words.height, "the labels are missing or too faint"


def test_the_two_menus_look_different():
    assert richmenu.menu_image(richmenu.RESIDENTS) != richmenu.menu_image(richmenu.STAFF)


def test_definitions_name_the_menus_and_open_them():
    for menu, name in ((richmenu.RESIDENTS, "furusato-residents-v2"),
                       (richmenu.STAFF, "furusato-staff-v2")):
        definition = richmenu.menu_definition(menu)
        assert definition.size == RichMenuSize(width=2500, height=1686)
        assert definition.selected is True
        assert definition.name == name
        assert definition.chat_bar_text == "メニュー / Menu"


def test_eight_areas_cover_the_image_without_overlap(menu):
    areas = [area.bounds for area in richmenu.menu_definition(menu).areas]
    assert len(areas) == 8
    for bounds in areas:
        assert bounds.x >= 0 and bounds.y >= 0
        assert bounds.x + bounds.width <= 2500 and bounds.y + bounds.height <= 1686
    for a, b in itertools.combinations(areas, 2):
        overlap_x = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
        overlap_y = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
        assert overlap_x <= 0 or overlap_y <= 0, (a, b)
    assert sum(bounds.width * bounds.height for bounds in areas) == 2500 * 1686


@pytest.mark.parametrize("menu, data, labels", [
    (richmenu.RESIDENTS, RESIDENTS_DATA, RESIDENTS_LABELS),
    (richmenu.STAFF, STAFF_DATA, STAFF_LABELS),
], ids=["residents", "staff"])
def test_areas_post_back_the_menu_contract_and_show_what_was_tapped(menu, data, labels):
    actions = [area.action for area in richmenu.menu_definition(menu).areas]
    assert [action.data for action in actions] == data
    assert [action.label for action in actions] == labels
    for action in actions:
        assert action.type == "postback"
        assert action.display_text.startswith(action.label + " / ")  # the image's two words
        assert len(action.label) <= 20


def test_deploy_creates_both_menus_with_their_images_and_the_residents_as_default(app, line):
    deployed = richmenu.deploy(gateway(app))

    for rich_menu_id, menu, data in ((deployed.residents, richmenu.RESIDENTS, RESIDENTS_DATA),
                                     (deployed.staff, richmenu.STAFF, STAFF_DATA)):
        stored = line.rich_menus[rich_menu_id]
        assert stored["menu"]["name"] == menu.name
        assert [area["action"]["data"] for area in stored["menu"]["areas"]] == data
        assert stored["image"] == richmenu.menu_image(menu)
        assert stored["content_type"] == "image/png"
    assert line.default_rich_menu_id == deployed.residents
    assert richmenu.staff_menu_id(gateway(app)) == deployed.staff


def test_deploying_again_replaces_both_menus_and_keeps_other_menus(app, line):
    other = _other_menu(app)
    first = richmenu.deploy(gateway(app))
    second = richmenu.deploy(gateway(app))

    assert {first.residents, first.staff}.isdisjoint({second.residents, second.staff})
    assert set(line.rich_menus) == {other, second.residents, second.staff}
    assert line.default_rich_menu_id == second.residents


def test_staff_see_their_menu_until_it_is_unlinked(app, line):
    resident = "U" + "6" * 32
    deployed = richmenu.deploy(gateway(app))

    assert richmenu.link_staff_menu(gateway(app), STAFF_USER) is True
    assert line.rich_menu_for(STAFF_USER) == deployed.staff
    assert line.rich_menu_for(resident) == deployed.residents

    richmenu.unlink_staff_menu(gateway(app), STAFF_USER)
    assert line.rich_menu_for(STAFF_USER) == deployed.residents


def test_redeploying_keeps_the_staff_named_on_the_new_staff_menu(app, line):
    richmenu.deploy(gateway(app))
    richmenu.link_staff_menu(gateway(app), STAFF_USER)

    deployed = richmenu.deploy(gateway(app), [STAFF_USER])

    assert line.rich_menu_for(STAFF_USER) == deployed.staff


def test_without_a_deployed_staff_menu_nobody_is_linked(app, line):
    assert richmenu.staff_menu_id(gateway(app)) is None
    assert richmenu.link_staff_menu(gateway(app), STAFF_USER) is False
    assert line.rich_menu_for(STAFF_USER) is None


def test_deploy_command_says_what_it_deployed_where_and_links_the_staff(app, line, runner, db):
    now = datetime.now(UTC)
    with db.transaction() as session:
        person = people.lock(session, STAFF_USER, now)
        invitation = staff.invite(session, entities.by_code(session, KAMIYAMA), StaffRole.STAFF, now)
        staff.redeem(session, invitation.code, person, now)

    result = runner.invoke(richmenu_cli, ["deploy"])

    assert result.exit_code == 0, result.output
    assert line.default_rich_menu_id in result.output
    assert app.config["LINE_API_HOST"] in result.output
    staff_menu = richmenu.staff_menu_id(gateway(app))
    assert f"Staff menu {staff_menu} is linked to 1 staff." in result.output
    assert line.rich_menu_for(STAFF_USER) == staff_menu


@pytest.mark.parametrize("args, menu", [([], richmenu.RESIDENTS),
                                        (["--menu", "staff"], richmenu.STAFF)],
                         ids=["residents", "staff"])
def test_image_command_writes_the_png(runner, tmp_path, args, menu):
    out = tmp_path / "menu.png"
    result = runner.invoke(richmenu_cli, ["image", str(out), *args])

    assert result.exit_code == 0, result.output
    assert out.read_bytes() == richmenu.menu_image(menu)


def _other_menu(app) -> str:
    """A menu that is not ours: deploying leaves it alone."""
    menu = RichMenuRequest(
        size=RichMenuSize(width=2500, height=843), selected=False, name="campaign-2026",
        chat_bar_text="Campaign",
        areas=[RichMenuArea(bounds=RichMenuBounds(x=0, y=0, width=2500, height=843),
                            action=MessageAction(label="campaign", text="campaign"))])
    buffer = io.BytesIO()
    Image.new("RGB", (2500, 843), "white").save(buffer, "PNG")
    return gateway(app).create_rich_menu(menu, buffer.getvalue())


@pytest.mark.parametrize("data, answer", [
    ("menu.premium", "まず「登録する」から登録してください"),
    ("menu.card", "登録はまだありません"),
])
def test_the_residents_new_cells_answer_someone_not_yet_registered(chat, data, answer):
    chat.follow()
    chat.postback(data)
    assert answer in chat.text()


def test_the_staff_cells_for_news_and_reviews_open_them(app, runner, chat, join):
    join(KAMIYAMA)
    make_staff(runner, chat, KAMIYAMA)
    chat.postback("staff.news")
    assert "登録者へお知らせを送ります" in chat.text()
    chat.say("キャンセル")
    chat.postback("staff.reviews")
    assert "審査待ちの申請はありません" in chat.text()
