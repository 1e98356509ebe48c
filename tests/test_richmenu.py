"""The residents' rich menu: its image, its definition, and deploying it to LINE."""

from __future__ import annotations

import io
import itertools

import pytest
from linebot.v3.messaging import RichMenuArea, RichMenuBounds, RichMenuSize
from linebot.v3.messaging.models import MessageAction, RichMenuRequest
from PIL import Image

from bot import richmenu
from bot.line import gateway

DATA = ["menu.register", "menu.mine", "menu.local", "menu.settings", "menu.help"]


@pytest.fixture(scope="module")
def image() -> Image.Image:
    return Image.open(io.BytesIO(richmenu.menu_image()))


def test_image_is_a_png_of_the_menu_size_within_lines_limit(image):
    assert image.format == "PNG"
    assert image.size == (2500, 1686)
    assert len(richmenu.menu_image()) <= 1024 * 1024


@pytest.mark.parametrize("cell", richmenu.CELLS, ids=lambda cell: cell.key)
def test_every_cell_has_its_pictogram_and_its_words_drawn(image, cell):
    x, y, width, height = cell.box
    pictogram = image.crop((x, y, x + width, y + height // 2))
    words = image.crop((x, y + height // 2, x + width, y + height)).convert("L")
    assert cell.accent in {colour for _, colour in pictogram.getcolors(1 << 16)}
    ink = sum(words.histogram()[:100])
    assert ink > 0.02 * words.width * words.height, "the labels are missing or too faint"


def test_definition_names_the_menu_and_opens_it():
    menu = richmenu.menu_definition()
    assert menu.size == RichMenuSize(width=2500, height=1686)
    assert menu.selected is True
    assert menu.name == "furusato-residents-v1"
    assert menu.chat_bar_text == "メニュー / Menu"


def test_areas_cover_the_image_without_overlap():
    areas = [area.bounds for area in richmenu.menu_definition().areas]
    for bounds in areas:
        assert bounds.x >= 0 and bounds.y >= 0
        assert bounds.x + bounds.width <= 2500 and bounds.y + bounds.height <= 1686
    for a, b in itertools.combinations(areas, 2):
        overlap_x = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
        overlap_y = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
        assert overlap_x <= 0 or overlap_y <= 0, (a, b)
    assert sum(bounds.width * bounds.height for bounds in areas) == 2500 * 1686


def test_areas_post_back_the_menu_contract_and_show_what_was_tapped():
    actions = [area.action for area in richmenu.menu_definition().areas]
    assert [action.data for action in actions] == DATA
    assert [action.label for action in actions] == ["登録する", "登録状況", "地域の情報",
                                                    "設定・言語", "ヘルプ"]
    for action in actions:
        assert action.type == "postback"
        assert action.display_text == action.label
        assert len(action.label) <= 20


def test_deploy_creates_the_menu_with_its_image_as_everyones_default(app, line):
    rich_menu_id = richmenu.deploy(gateway(app))

    stored = line.rich_menus[rich_menu_id]
    assert stored["menu"]["name"] == "furusato-residents-v1"
    assert [area["action"]["data"] for area in stored["menu"]["areas"]] == DATA
    assert stored["image"] == richmenu.menu_image()
    assert stored["content_type"] == "image/png"
    assert line.default_rich_menu_id == rich_menu_id


def test_deploying_again_replaces_the_menu_and_keeps_other_menus(app, line):
    other = _staff_menu(app)
    first = richmenu.deploy(gateway(app))
    second = richmenu.deploy(gateway(app))

    assert first != second
    assert set(line.rich_menus) == {other, second}
    assert line.default_rich_menu_id == second


def test_deploy_command_says_what_it_deployed_where(app, line, runner):
    result = runner.invoke(richmenu.richmenu_cli, ["deploy"])

    assert result.exit_code == 0, result.output
    assert line.default_rich_menu_id in result.output
    assert app.config["LINE_API_HOST"] in result.output


def test_image_command_writes_the_png(runner, tmp_path):
    out = tmp_path / "menu.png"
    result = runner.invoke(richmenu.richmenu_cli, ["image", str(out)])

    assert result.exit_code == 0, result.output
    assert out.read_bytes() == richmenu.menu_image()


def _staff_menu(app) -> str:
    menu = RichMenuRequest(
        size=RichMenuSize(width=2500, height=843), selected=False, name="furusato-staff-v1",
        chat_bar_text="Staff",
        areas=[RichMenuArea(bounds=RichMenuBounds(x=0, y=0, width=2500, height=843),
                            action=MessageAction(label="staff", text="staff"))])
    buffer = io.BytesIO()
    Image.new("RGB", (2500, 843), "white").save(buffer, "PNG")
    return gateway(app).create_rich_menu(menu, buffer.getvalue())
