"""The rich menus: the residents' (everyone's default) and the staff's (linked per person).

Each menu is one table of cells, drawn as the image and declared as the menu. The postback
`data` of each cell (`menu.register`, `staff.new`, …) is a contract: the bot routes on it,
so changing one means changing the handlers too.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

from linebot.v3.messaging import (
    PostbackAction,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
)
from PIL import Image, ImageDraw, ImageFont

from bot import line

log = logging.getLogger(__name__)

WIDTH, HEIGHT = 2500, 1686
COLUMNS, ROWS = 4, 2
CHAT_BAR_TEXT = "メニュー / Menu"
FONT = Path(__file__).parents[1] / "assets" / "fonts" / "ipaexg.ttf"

BACKGROUND = (247, 244, 237)
DIVIDER = (214, 206, 190)
INK = (43, 43, 43)
SUBTLE_INK = (96, 96, 96)
WHITE = (255, 255, 255)

PINE = (46, 107, 79)
INDIGO = (47, 75, 124)
TEAL = (31, 110, 122)
PERSIMMON = (176, 92, 52)
SLATE = (90, 98, 110)
PLUM = (126, 78, 122)
OCHRE = (160, 118, 32)
GOLD = (178, 134, 22)

Box = tuple[int, int, int, int]  # x, y, width, height
Point = tuple[float, float]
Colour = tuple[int, int, int]
Pictogram = Callable[[ImageDraw.ImageDraw, Point, float, Colour], None]


# Pictograms: white shapes on a disc of the cell's accent, drawn relative to the disc's centre
# and radius; the accent is passed in to cut holes and badges.

def _stroke(r: float) -> int:
    return max(4, round(r * 0.09))


def _square(centre: Point, half: float) -> list[float]:
    return [centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half]


def _plus_badge(draw: ImageDraw.ImageDraw, c: Point, r: float, accent: Colour) -> None:
    """A white disc with a plus at the lower right, cut off from the shape behind it."""
    badge = (c[0] + r * 0.36, c[1] + r * 0.36)
    draw.ellipse(_square(badge, r * 0.34), fill=accent)
    draw.ellipse(_square(badge, r * 0.27), fill=WHITE)
    arm, width = r * 0.15, _stroke(r)
    draw.line([(badge[0] - arm, badge[1]), (badge[0] + arm, badge[1])], fill=accent, width=width)
    draw.line([(badge[0], badge[1] - arm), (badge[0], badge[1] + arm)], fill=accent, width=width)


def _house_with_plus(draw: ImageDraw.ImageDraw, c: Point, r: float, accent: Colour) -> None:
    x, y = c[0] - r * 0.1, c[1]
    draw.polygon([(x - r * 0.55, y - r * 0.05), (x, y - r * 0.55), (x + r * 0.55, y - r * 0.05)],
                 fill=WHITE)
    draw.rectangle([x - r * 0.4, y - r * 0.1, x + r * 0.4, y + r * 0.5], fill=WHITE)
    _plus_badge(draw, c, r, accent)


def _card_with_lines(draw: ImageDraw.ImageDraw, c: Point, r: float, accent: Colour) -> None:
    draw.rounded_rectangle([c[0] - r * 0.42, c[1] - r * 0.55, c[0] + r * 0.42, c[1] + r * 0.55],
                           radius=r * 0.1, outline=WHITE, width=_stroke(r))
    _bullets(draw, (c[0] + r * 0.02, c[1]), r * 0.5, r)


def _bullets(draw: ImageDraw.ImageDraw, c: Point, half_width: float, r: float) -> None:
    """Three rows of a dot and a line: a list."""
    for row in (-1, 0, 1):
        y = c[1] + row * r * 0.25
        draw.ellipse(_square((c[0] - half_width * 0.45, y), r * 0.06), fill=WHITE)
        draw.line([(c[0] - half_width * 0.15, y), (c[0] + half_width * 0.45, y)], fill=WHITE,
                  width=_stroke(r))


def _list(draw: ImageDraw.ImageDraw, c: Point, r: float, accent: Colour) -> None:
    _bullets(draw, c, r * 1.1, r * 1.3)


def _calendar(draw: ImageDraw.ImageDraw, c: Point, r: float) -> tuple[float, float, float, float]:
    """A calendar page; returns the box of its body below the binding."""
    left, top, right, bottom = c[0] - r * 0.5, c[1] - r * 0.42, c[0] + r * 0.5, c[1] + r * 0.52
    draw.rounded_rectangle([left, top, right, bottom], radius=r * 0.08, outline=WHITE,
                           width=_stroke(r))
    draw.rectangle([left, top, right, top + r * 0.2], fill=WHITE)
    for x in (c[0] - r * 0.25, c[0] + r * 0.25):
        draw.line([(x, top - r * 0.14), (x, top + r * 0.06)], fill=WHITE, width=_stroke(r))
    return left, top + r * 0.2, right, bottom


def _calendar_with_check(draw: ImageDraw.ImageDraw, c: Point, r: float, accent: Colour) -> None:
    left, top, right, bottom = _calendar(draw, c, r)
    middle = ((left + right) / 2, (top + bottom) / 2)
    draw.line([(middle[0] - r * 0.22, middle[1]), (middle[0] - r * 0.05, middle[1] + r * 0.16),
               (middle[0] + r * 0.24, middle[1] - r * 0.14)], fill=WHITE, width=_stroke(r) + 2,
              joint="curve")


def _calendar_with_plus(draw: ImageDraw.ImageDraw, c: Point, r: float, accent: Colour) -> None:
    _calendar(draw, (c[0] - r * 0.08, c[1] - r * 0.06), r * 0.92)
    _plus_badge(draw, c, r, accent)


def _bar_chart(draw: ImageDraw.ImageDraw, c: Point, r: float, accent: Colour) -> None:
    base, bar = c[1] + r * 0.45, r * 0.2
    for step, height in enumerate((0.45, 0.7, 0.95)):
        x = c[0] - r * 0.42 + step * r * 0.32
        draw.rectangle([x, base - r * height, x + bar, base], fill=WHITE)
    draw.line([(c[0] - r * 0.55, base + _stroke(r)), (c[0] + r * 0.55, base + _stroke(r))],
              fill=WHITE, width=_stroke(r))


def _map_pin(draw: ImageDraw.ImageDraw, c: Point, r: float, accent: Colour) -> None:
    head, top = r * 0.36, (c[0], c[1] - r * 0.15)
    draw.ellipse(_square(top, head), fill=WHITE)
    draw.polygon([(top[0] - head * 0.87, top[1] + head * 0.5), (c[0], c[1] + r * 0.62),
                  (top[0] + head * 0.87, top[1] + head * 0.5)], fill=WHITE)
    draw.ellipse(_square(top, head * 0.42), fill=accent)


def _gear(draw: ImageDraw.ImageDraw, c: Point, r: float, accent: Colour) -> None:
    teeth, outer, inner = 8, r * 0.58, r * 0.44
    points = []
    for step in range(teeth * 4):
        angle = 2 * math.pi * step / (teeth * 4)
        radius = outer if step % 4 in (1, 2) else inner
        points.append((c[0] + radius * math.cos(angle), c[1] + radius * math.sin(angle)))
    draw.polygon(points, fill=WHITE)
    draw.ellipse(_square(c, r * 0.18), fill=accent)


def _star(draw: ImageDraw.ImageDraw, c: Point, r: float, accent: Colour) -> None:
    outer, inner = r * 0.62, r * 0.26
    points = []
    for step in range(10):
        angle = -math.pi / 2 + math.pi * step / 5
        radius = outer if step % 2 == 0 else inner
        points.append((c[0] + radius * math.cos(angle), c[1] + r * 0.05 + radius * math.sin(angle)))
    draw.polygon(points, fill=WHITE)


def _id_card(draw: ImageDraw.ImageDraw, c: Point, r: float, accent: Colour) -> None:
    """A landscape card with a QR-like block: the registration card."""
    left, top, right, bottom = c[0] - r * 0.6, c[1] - r * 0.4, c[0] + r * 0.6, c[1] + r * 0.4
    draw.rounded_rectangle([left, top, right, bottom], radius=r * 0.1, outline=WHITE,
                           width=_stroke(r))
    block = r * 0.4
    qx, qy = right - r * 0.14 - block, c[1] - block / 2
    draw.rectangle([qx, qy, qx + block, qy + block], fill=WHITE)
    cell = block / 4
    for col, row in ((1, 1), (2, 2), (1, 2), (2, 0)):
        draw.rectangle([qx + col * cell, qy + row * cell, qx + (col + 1) * cell,
                        qy + (row + 1) * cell], fill=accent)
    for row in (-1, 1):
        y = c[1] + row * r * 0.14
        draw.line([(left + r * 0.16, y), (qx - r * 0.12, y)], fill=WHITE, width=_stroke(r))


def _list_with_check(draw: ImageDraw.ImageDraw, c: Point, r: float, accent: Colour) -> None:
    _card_with_lines(draw, (c[0] - r * 0.1, c[1] - r * 0.04), r * 0.92, accent)
    badge = (c[0] + r * 0.36, c[1] + r * 0.36)
    draw.ellipse(_square(badge, r * 0.34), fill=accent)
    draw.ellipse(_square(badge, r * 0.27), fill=WHITE)
    draw.line([(badge[0] - r * 0.13, badge[1]), (badge[0] - r * 0.03, badge[1] + r * 0.1),
               (badge[0] + r * 0.14, badge[1] - r * 0.1)], fill=accent, width=_stroke(r),
              joint="curve")


def _megaphone(draw: ImageDraw.ImageDraw, c: Point, r: float, accent: Colour) -> None:
    x, y = c[0] - r * 0.1, c[1]
    draw.polygon([(x - r * 0.45, y - r * 0.16), (x + r * 0.3, y - r * 0.5),
                  (x + r * 0.3, y + r * 0.5), (x - r * 0.45, y + r * 0.16)], fill=WHITE)
    draw.rectangle([x - r * 0.38, y + r * 0.1, x - r * 0.18, y + r * 0.48], fill=WHITE)
    for step in (-1, 0, 1):
        draw.line([(x + r * 0.45, y + step * r * 0.3), (x + r * 0.62, y + step * r * 0.42)],
                  fill=WHITE, width=_stroke(r))


def _question(draw: ImageDraw.ImageDraw, c: Point, r: float, accent: Colour) -> None:
    draw.text(c, "?", font=_font(round(r * 1.3)), fill=WHITE, anchor="mm",
              stroke_width=round(r * 0.04), stroke_fill=WHITE)


# The tables ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    data: str  # the postback data: the contract with the handlers
    ja: str
    en: str
    accent: Colour
    pictogram: Pictogram


@dataclass(frozen=True)
class Menu:
    name: str
    cells: tuple[Cell, ...]  # row by row, COLUMNS to a row

    def boxes(self) -> list[tuple[Cell, Box]]:
        return list(zip(self.cells, _grid(), strict=True))


def _grid() -> list[Box]:
    """COLUMNS × ROWS boxes that tile the image exactly (the last column takes the remainder)."""
    xs = [WIDTH * column // COLUMNS for column in range(COLUMNS + 1)]
    ys = [HEIGHT * row // ROWS for row in range(ROWS + 1)]
    return [(xs[column], ys[row], xs[column + 1] - xs[column], ys[row + 1] - ys[row])
            for row in range(ROWS) for column in range(COLUMNS)]


_REGISTER = Cell("menu.register", "登録する", "Register", PINE, _house_with_plus)
_MY_ACTIVITIES = Cell("menu.activities", "活動履歴", "My activities", TEAL, _calendar_with_check)
_HELP = Cell("menu.help", "ヘルプ", "Help", PLUM, _question)

RESIDENTS = Menu("furusato-residents-v2", (
    _REGISTER,
    Cell("menu.mine", "登録状況", "My registrations", INDIGO, _card_with_lines),
    Cell("menu.premium", "プレミアム登録", "Premium", GOLD, _star),
    Cell("menu.card", "登録証", "My card", PINE, _id_card),
    _MY_ACTIVITIES,
    Cell("menu.local", "地域の情報", "Local information", PERSIMMON, _map_pin),
    Cell("menu.settings", "設定・言語", "Settings", SLATE, _gear),
    _HELP,
))

STAFF = Menu("furusato-staff-v2", (
    Cell("staff.new", "活動を作る", "New activity", PINE, _calendar_with_plus),
    Cell("staff.list", "活動一覧", "Activities", INDIGO, _list),
    Cell("staff.news", "お知らせ", "News", PERSIMMON, _megaphone),
    Cell("staff.stats", "集計", "Figures", OCHRE, _bar_chart),
    Cell("staff.reviews", "審査", "Reviews", GOLD, _list_with_check),
    _REGISTER,
    _MY_ACTIVITIES,
    _HELP,
))

MENUS = {"residents": RESIDENTS, "staff": STAFF}
#: Menus of ours whose name starts so are replaced by deploy; others are left alone.
NAME_PREFIXES = ("furusato-residents-", "furusato-staff-")
#: How an operator links the staff menu to staff who did not get it (`deploy`, below).
RELINK = "To link it: `furusato richmenu deploy` links the staff menu to every staff member."


# The image -----------------------------------------------------------------------------------

@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size)


def _fitting_font(text: str, size: int, width: float) -> ImageFont.FreeTypeFont:
    while size > 24 and _font(size).getlength(text) > width:
        size -= 4
    return _font(size)


def _draw_cell(draw: ImageDraw.ImageDraw, cell: Cell, box: Box) -> None:
    x, y, width, height = box
    centre_x = x + width / 2
    radius = height * 0.17
    icon_centre = (centre_x, y + height * 0.32)
    draw.ellipse(_square(icon_centre, radius), fill=cell.accent)
    cell.pictogram(draw, icon_centre, radius, cell.accent)
    room = width * 0.88
    draw.text((centre_x, y + height * 0.66), cell.ja, font=_fitting_font(cell.ja, 120, room),
              fill=INK, anchor="mm", stroke_width=2, stroke_fill=INK)
    draw.text((centre_x, y + height * 0.81), cell.en, font=_fitting_font(cell.en, 64, room),
              fill=SUBTLE_INK, anchor="mm")


def _draw_dividers(draw: ImageDraw.ImageDraw) -> None:
    width, inset = 6, 60
    for row in range(1, ROWS):
        y = HEIGHT * row // ROWS
        draw.line([(inset, y), (WIDTH - inset, y)], fill=DIVIDER, width=width)
    for row in range(ROWS):
        top, bottom = HEIGHT * row // ROWS, HEIGHT * (row + 1) // ROWS
        for column in range(1, COLUMNS):
            x = WIDTH * column // COLUMNS
            draw.line([(x, top + inset), (x, bottom - inset)], fill=DIVIDER, width=width)


@cache
def menu_image(menu: Menu = RESIDENTS) -> bytes:
    """The menu as a PNG of 2,500 × 1,686 pixels."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    _draw_dividers(draw)
    for cell, box in menu.boxes():
        _draw_cell(draw, cell, box)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# The menu ------------------------------------------------------------------------------------

def menu_definition(menu: Menu = RESIDENTS) -> RichMenuRequest:
    return RichMenuRequest(
        size=RichMenuSize(width=WIDTH, height=HEIGHT),
        selected=True,
        name=menu.name,
        chat_bar_text=CHAT_BAR_TEXT,
        areas=[_area(cell, box) for cell, box in menu.boxes()],
    )


def _area(cell: Cell, box: Box) -> RichMenuArea:
    x, y, width, height = box
    return RichMenuArea(
        bounds=RichMenuBounds(x=x, y=y, width=width, height=height),
        # One menu serves every language: the chat shows both words, as the image does.
        action=PostbackAction(label=cell.ja, data=cell.data,
                              display_text=f"{cell.ja} / {cell.en}"),
    )


@dataclass(frozen=True)
class Deployed:
    residents: str  # everyone's default
    staff: str      # linked to each staff member


def deploy(gateway: line.LineGateway, staff_user_ids: Iterable[str] = ()) -> Deployed:
    """Create both menus, make the residents' the default, drop the menus they replace.

    Deleting the old staff menu unlinks it from everyone, so the staff named here are
    linked to the new one first.
    """
    deployed = Deployed(gateway.create_rich_menu(menu_definition(RESIDENTS), menu_image(RESIDENTS)),
                        gateway.create_rich_menu(menu_definition(STAFF), menu_image(STAFF)))
    gateway.set_default_rich_menu(deployed.residents)
    for user_id in staff_user_ids:
        gateway.link_rich_menu(user_id, deployed.staff)
    for old_id, name in gateway.rich_menus().items():
        if old_id not in (deployed.residents, deployed.staff) and name.startswith(NAME_PREFIXES):
            gateway.delete_rich_menu(old_id)
    return deployed


def staff_menu_id(gateway: line.LineGateway) -> str | None:
    """The deployed staff menu, found by its name."""
    return next((rich_menu_id for rich_menu_id, name in gateway.rich_menus().items()
                 if name == STAFF.name), None)


def link_staff_menu(gateway: line.LineGateway, user_id: str) -> bool:
    """Show this person the staff menu; False when no staff menu is deployed."""
    rich_menu_id = staff_menu_id(gateway)
    if rich_menu_id is None:
        log.warning("no staff menu is deployed. %s", RELINK)
        return False
    gateway.link_rich_menu(user_id, rich_menu_id)
    return True


def linking_staff_menu(user_id: str) -> line.AfterCommit:
    """`link_staff_menu`, once the person's enrolment is committed."""
    return line.AfterCommit("link the staff menu", partial(link_staff_menu, user_id=user_id),
                            RELINK)


def unlink_staff_menu(gateway: line.LineGateway, user_id: str) -> None:
    """Back to the residents' menu, everyone's default."""
    gateway.unlink_rich_menu(user_id)
