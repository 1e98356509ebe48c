"""The printable check-in poster of an activity session: A4 portrait, its QR code in the middle."""

from __future__ import annotations

import io
import math
import re
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bot.codes.qr import qr_png

DPI = 150
WIDTH, HEIGHT = 1240, 1754  # A4 at 150 dpi
MARGIN = 100  # 17 mm: inside what any office printer can print
FONT = Path(__file__).parents[1] / "assets" / "fonts" / "ipaexg.ttf"

INK = (33, 37, 41)
SUBTLE_INK = (92, 99, 107)
ACCENT = (46, 107, 79)  # pine green, as on the rich menu
PANEL = (240, 246, 242)
RULE = (206, 212, 208)

QR_MIN_WIDTH = math.ceil(9 / 2.54 * DPI)  # 9 cm of code, quiet zone not counted
QR_BORDER = 4  # modules of quiet zone, as the QR standard asks

INSTRUCTIONS = (
    "参加受付：スマートフォンのカメラまたはLINEの「QRコードリーダー」で読み取り、"
    "開いたトークでそのまま送信してください。"
)
FALLBACK = "読み取れないときは、このQRコードの写真をLINEで送っても受付できます。"
FOOTER = "ふるさと住民登録"

# Japanese breaks between any two characters, except before closing marks and small kana
# (those hang past the line's end, as in Japanese typesetting) and after opening brackets.
# Latin words stay whole.
_NO_LINE_START = set("、。，．,.・：:；;？?！!ー…‥)）」』】〕〉》]｝"
                     "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々")
_NO_LINE_END = set("(（「『【〔〈《[｛")
_TOKENS = re.compile(r"[A-Za-z0-9][A-Za-z0-9.'’&@/:_-]*|\s+|.")


def poster(*, title: str, entity_name: str, when: str, where: str, link: str,
           fmt: str = "png") -> bytes:
    if fmt not in ("png", "pdf"):
        raise ValueError(f"poster format must be png or pdf, not {fmt!r}")
    page = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(page)
    top = _draw_header(draw, entity_name, title, when, where)
    bottom = _draw_footer(draw)
    _draw_qr(page, link, top, bottom)
    out = io.BytesIO()
    if fmt == "pdf":
        # Pillow stores the page as a JPEG: at this quality, without chroma subsampling, the
        # text and the QR modules keep their edges.
        page.save(out, "PDF", resolution=DPI, title=title, quality=95, subsampling=0)
    else:
        page.save(out, "PNG", dpi=(DPI, DPI), optimize=True)
    return out.getvalue()


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    lines, line = [], ""
    for token in _TOKENS.findall(" ".join(text.split())):
        if line and font.getlength(line + token) > width and token[0] not in _NO_LINE_START:
            carried = len(line) - len(line.rstrip("".join(_NO_LINE_END)))
            if carried < len(line):
                lines.append(line[:len(line) - carried].rstrip())
                line = line[len(line) - carried:]
            line += token.lstrip()
        else:
            line += token
        while font.getlength(line) > width and len(line) > 1 and line[-1] not in _NO_LINE_START:
            cut = _longest_fit(line, font, width)  # a Latin word longer than the line
            lines.append(line[:cut])
            line = line[cut:]
    return [*lines, line] if line else lines


def _longest_fit(text: str, font: ImageFont.FreeTypeFont, width: float) -> int:
    return max((n for n in range(1, len(text)) if font.getlength(text[:n]) <= width), default=1)


def _fit(text: str, width: float, sizes: range, max_lines: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest of sizes at which text wraps into max_lines; cut short with … at the smallest."""
    for size in sizes:
        font = _font(size)
        lines = _wrap(text, font, width)
        if len(lines) <= max_lines:
            return font, lines
    kept = lines[:max_lines]
    while kept[-1] and font.getlength(kept[-1] + "…") > width:
        kept[-1] = kept[-1][:-1]
    kept[-1] += "…"
    return font, kept


def _text_lines(draw: ImageDraw.ImageDraw, lines: list[str], font: ImageFont.FreeTypeFont,
                x: float, y: float, *, fill, leading: float = 1.4, anchor: str = "la") -> float:
    """Draws lines from y down; returns the y below the last one."""
    step = round(font.size * leading)
    for line in lines:
        draw.text((x, y), line, font=font, fill=fill, anchor=anchor)
        y += step
    return y


def _draw_header(draw: ImageDraw.ImageDraw, entity_name: str, title: str, when: str,
                 where: str) -> int:
    centre, width = WIDTH / 2, WIDTH - 2 * MARGIN
    font, lines = _fit(entity_name, width, range(34, 25, -2), 1)
    y = _text_lines(draw, lines, font, centre, MARGIN, fill=SUBTLE_INK, anchor="ma")
    draw.rectangle([centre - 40, y + 2, centre + 40, y + 7], fill=ACCENT)

    font, lines = _fit(title, width, range(76, 43, -4), 3)
    y = _text_lines(draw, lines, font, centre, y + 46, fill=INK, leading=1.3, anchor="ma")

    # 日時 and 場所 on a light panel, a label column and up to two lines of value each.
    label, padding, label_width = _font(30), 40, 110
    rows = [(name, *_fit(text, width - 2 * padding - label_width, range(34, 27, -2), 2))
            for name, text in (("日時", when), ("場所", where))]
    panel_top = y + 24
    panel_bottom = panel_top + 20 + sum(round(font.size * 1.4) * len(lines) for _, font, lines in rows)
    draw.rounded_rectangle([MARGIN, panel_top, WIDTH - MARGIN, panel_bottom + 20], radius=18, fill=PANEL)
    y = panel_top + 30
    for name, font, lines in rows:
        draw.text((MARGIN + padding, y + font.size / 2), name, font=label, fill=ACCENT, anchor="lm")
        y = _text_lines(draw, lines, font, MARGIN + padding + label_width, y, fill=INK)
    return panel_bottom + 20


def _draw_footer(draw: ImageDraw.ImageDraw) -> int:
    """The instructions and the footer, from the bottom margin up; returns their top."""
    centre, width = WIDTH / 2, WIDTH - 2 * MARGIN - 60
    footer = _font(24)
    draw.line([MARGIN, HEIGHT - MARGIN - 50, WIDTH - MARGIN, HEIGHT - MARGIN - 50], fill=RULE, width=2)
    draw.text((centre, HEIGHT - MARGIN), FOOTER, font=footer, fill=SUBTLE_INK, anchor="md")

    font, small = _font(30), _font(26)
    steps, fallback = _wrap(INSTRUCTIONS, font, width), _wrap(FALLBACK, small, width)
    height = round(font.size * 1.5) * len(steps) + 14 + round(small.size * 1.5) * len(fallback)
    top = HEIGHT - MARGIN - 50 - 36 - height
    left = centre - max(font.getlength(line) for line in steps) / 2  # a centred block, lines flush left
    y = _text_lines(draw, steps, font, left, top, fill=INK, leading=1.5)
    _text_lines(draw, fallback, small, left, y + 14, fill=SUBTLE_INK, leading=1.5)
    return top


def _draw_qr(page: Image.Image, link: str, top: int, bottom: int) -> None:
    """The QR code as big as the space between header and instructions allows, whole pixels per module."""
    code = Image.open(io.BytesIO(qr_png(link, box_size=1, border=QR_BORDER)))
    modules = code.width
    room = min(bottom - top - 40, WIDTH - 2 * MARGIN)
    # 12 px (2 mm) a module is plenty for a phone across a room; bigger only crowds the page.
    scale = max(math.ceil(QR_MIN_WIDTH / (modules - 2 * QR_BORDER)), min(room // modules, 12))
    code = code.resize((modules * scale, modules * scale), Image.Resampling.NEAREST)
    x, y = (WIDTH - code.width) // 2, top + (bottom - top - code.height) // 2
    page.paste(code, (x, y))
    ImageDraw.Draw(page).rounded_rectangle([x - 2, y - 2, x + code.width + 1, y + code.height + 1],
                                           radius=16, outline=RULE, width=2)
