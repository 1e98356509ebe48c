"""The residents' rich menu: one layout table drawn as the image and declared as the menu.

The postback `data` of each area (`menu.register`, `menu.mine`, …) is a contract: the bot
routes on it, so changing one means changing the handlers too.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from linebot.v3.messaging import (
    PostbackAction,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
)
from PIL import Image, ImageDraw, ImageFont

from bot import line

WIDTH, HEIGHT = 2500, 1686
NAME_PREFIX = "furusato-residents-"
NAME = NAME_PREFIX + "v1"
CHAT_BAR_TEXT = "メニュー / Menu"
FONT = Path(__file__).parent / "assets" / "fonts" / "ipaexg.ttf"

BACKGROUND = (247, 244, 237)
DIVIDER = (214, 206, 190)
INK = (43, 43, 43)
SUBTLE_INK = (96, 96, 96)
WHITE = (255, 255, 255)
_ACCENT = {
    "register": (46, 107, 79),     # pine green
    "mine": (47, 75, 124),         # indigo
    "local": (176, 92, 52),        # persimmon
    "settings": (90, 98, 110),     # slate
    "help": (126, 78, 122),        # plum
}

Box = tuple[int, int, int, int]  # x, y, width, height
Point = tuple[float, float]


# Pictograms: white strokes on a coloured disc, drawn relative to the disc's centre and radius.

def _stroke(r: float) -> int:
    return max(4, round(r * 0.09))


def _house_with_plus(draw: ImageDraw.ImageDraw, c: Point, r: float) -> None:
    x, y = c[0] - r * 0.1, c[1]
    draw.polygon([(x - r * 0.55, y - r * 0.05), (x, y - r * 0.55), (x + r * 0.55, y - r * 0.05)],
                 fill=WHITE)
    draw.rectangle([x - r * 0.4, y - r * 0.1, x + r * 0.4, y + r * 0.5], fill=WHITE)
    badge, accent = (c[0] + r * 0.36, c[1] + r * 0.36), _ACCENT["register"]
    draw.ellipse(_square(badge, r * 0.34), fill=accent)  # a gap between house and badge
    draw.ellipse(_square(badge, r * 0.27), fill=WHITE)
    arm, width = r * 0.15, _stroke(r)
    draw.line([(badge[0] - arm, badge[1]), (badge[0] + arm, badge[1])], fill=accent, width=width)
    draw.line([(badge[0], badge[1] - arm), (badge[0], badge[1] + arm)], fill=accent, width=width)


def _card_with_lines(draw: ImageDraw.ImageDraw, c: Point, r: float) -> None:
    draw.rounded_rectangle([c[0] - r * 0.42, c[1] - r * 0.55, c[0] + r * 0.42, c[1] + r * 0.55],
                           radius=r * 0.1, outline=WHITE, width=_stroke(r))
    for row in range(3):
        y = c[1] - r * 0.25 + row * r * 0.25
        draw.ellipse(_square((c[0] - r * 0.2, y), r * 0.06), fill=WHITE)
        draw.line([(c[0] - r * 0.06, y), (c[0] + r * 0.24, y)], fill=WHITE, width=_stroke(r))


def _map_pin(draw: ImageDraw.ImageDraw, c: Point, r: float) -> None:
    head, top = r * 0.36, (c[0], c[1] - r * 0.15)
    draw.ellipse(_square(top, head), fill=WHITE)
    draw.polygon([(top[0] - head * 0.87, top[1] + head * 0.5), (c[0], c[1] + r * 0.62),
                  (top[0] + head * 0.87, top[1] + head * 0.5)], fill=WHITE)
    draw.ellipse(_square(top, head * 0.42), fill=_ACCENT["local"])


def _gear(draw: ImageDraw.ImageDraw, c: Point, r: float) -> None:
    teeth, outer, inner = 8, r * 0.58, r * 0.44
    points = []
    for step in range(teeth * 4):
        angle = 2 * math.pi * step / (teeth * 4)
        radius = outer if step % 4 in (1, 2) else inner
        points.append((c[0] + radius * math.cos(angle), c[1] + radius * math.sin(angle)))
    draw.polygon(points, fill=WHITE)
    draw.ellipse(_square(c, r * 0.18), fill=_ACCENT["settings"])


def _question(draw: ImageDraw.ImageDraw, c: Point, r: float) -> None:
    draw.text(c, "?", font=_font(round(r * 1.3)), fill=WHITE, anchor="mm",
              stroke_width=round(r * 0.04), stroke_fill=WHITE)


def _square(centre: Point, half: float) -> list[float]:
    return [centre[0] - half, centre[1] - half, centre[0] + half, centre[1] + half]


@dataclass(frozen=True)
class Cell:
    key: str
    ja: str
    en: str
    box: Box
    pictogram: Callable[[ImageDraw.ImageDraw, Point, float], None]

    @property
    def data(self) -> str:
        return f"menu.{self.key}"

    @property
    def accent(self) -> tuple[int, int, int]:
        return _ACCENT[self.key]


_ROW = HEIGHT // 2
_THIRD = WIDTH // 3

CELLS = (
    Cell("register", "登録する", "Register", (0, 0, WIDTH // 2, _ROW), _house_with_plus),
    Cell("mine", "登録状況", "My registrations", (WIDTH // 2, 0, WIDTH - WIDTH // 2, _ROW),
         _card_with_lines),
    Cell("local", "地域の情報", "Local information", (0, _ROW, _THIRD, HEIGHT - _ROW), _map_pin),
    Cell("settings", "設定・言語", "Settings", (_THIRD, _ROW, WIDTH - 2 * _THIRD, HEIGHT - _ROW),
         _gear),
    Cell("help", "ヘルプ", "Help", (WIDTH - _THIRD, _ROW, _THIRD, HEIGHT - _ROW), _question),
)


# The image -----------------------------------------------------------------------------------

@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size)


def _draw_cell(draw: ImageDraw.ImageDraw, cell: Cell) -> None:
    x, y, width, height = cell.box
    centre_x = x + width / 2
    radius = height * 0.17
    icon_centre = (centre_x, y + height * 0.32)
    draw.ellipse(_square(icon_centre, radius), fill=cell.accent)
    cell.pictogram(draw, icon_centre, radius)
    draw.text((centre_x, y + height * 0.66), cell.ja, font=_font(120), fill=INK, anchor="mm",
              stroke_width=2, stroke_fill=INK)
    draw.text((centre_x, y + height * 0.81), cell.en, font=_font(64), fill=SUBTLE_INK,
              anchor="mm")


def _draw_dividers(draw: ImageDraw.ImageDraw) -> None:
    width, inset = 6, 60
    draw.line([(inset, _ROW), (WIDTH - inset, _ROW)], fill=DIVIDER, width=width)
    draw.line([(WIDTH // 2, inset), (WIDTH // 2, _ROW - inset)], fill=DIVIDER, width=width)
    for x in (_THIRD, WIDTH - _THIRD):
        draw.line([(x, _ROW + inset), (x, HEIGHT - inset)], fill=DIVIDER, width=width)


def menu_image() -> bytes:
    """The menu as a PNG of 2,500 × 1,686 pixels."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    _draw_dividers(draw)
    for cell in CELLS:
        _draw_cell(draw, cell)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# The menu ------------------------------------------------------------------------------------

def menu_definition() -> RichMenuRequest:
    return RichMenuRequest(
        size=RichMenuSize(width=WIDTH, height=HEIGHT),
        selected=True,
        name=NAME,
        chat_bar_text=CHAT_BAR_TEXT,
        areas=[_area(cell) for cell in CELLS],
    )


def _area(cell: Cell) -> RichMenuArea:
    x, y, width, height = cell.box
    return RichMenuArea(
        bounds=RichMenuBounds(x=x, y=y, width=width, height=height),
        action=PostbackAction(label=cell.ja, data=cell.data, display_text=cell.ja),
    )


def deploy(gateway: line.LineGateway) -> str:
    """Create the menu with its image, make it everyone's default, drop the menus it replaced."""
    rich_menu_id = gateway.create_rich_menu(menu_definition(), menu_image())
    gateway.set_default_rich_menu(rich_menu_id)
    for old_id, name in gateway.rich_menus().items():
        if old_id != rich_menu_id and name.startswith(NAME_PREFIX):
            gateway.delete_rich_menu(old_id)
    return rich_menu_id


# CLI -----------------------------------------------------------------------------------------

@click.group("richmenu", help="The residents' rich menu.")
def richmenu_cli():
    pass


@richmenu_cli.command("deploy", help="Create the menu, make it the default, remove older ones.")
@with_appcontext
def deploy_command():
    gateway = line.gateway(current_app)
    rich_menu_id = deploy(gateway)
    click.echo(f"Rich menu {rich_menu_id} is the default at {gateway.host}.")


@richmenu_cli.command("image", help="Write the menu image to OUT (a PNG), to look at it.")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def image_command(out: Path):
    out.write_bytes(menu_image())
    click.echo(f"Wrote {out} ({WIDTH}×{HEIGHT}).")
