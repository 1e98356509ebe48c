"""Check-in QR codes: drawn, printed on the poster, and read back from residents' photos."""

from __future__ import annotations

import io
import random
import re
from urllib.parse import quote

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageFilter, ImageOps

from bot.codes.poster import poster
from bot.codes.qr import UnreadableImage, decode_qr, qr_png

_rng = random.Random(7)
TOKEN = "".join(_rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
                for _ in range(100))
LINK = "https://line.me/R/oaMessage/%40furusato-demo/?" + quote(f"チェックイン {TOKEN}")
WHITE = 255


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def noisy(image: Image.Image, seed: int = 7) -> Image.Image:
    """Gaussian-ish noise (the mean of two uniform draws, σ ≈ 52 levels) over every pixel."""
    rng = random.Random(seed)
    draws = [Image.frombytes("L", image.size, rng.randbytes(image.width * image.height))
             for _ in range(2)]
    return ImageChops.add(image, ImageChops.add(*draws, scale=2.0), offset=-128)


def keystone(image: Image.Image, slant: float = 0.12) -> Image.Image:
    """As photographed from below: the top edge farther away, so narrower than the bottom."""
    width, height = image.size
    inset = width * slant
    quad = (-inset, 0, 0, height, width, height, width + inset, 0)  # source corners: UL, LL, LR, UR
    return image.transform(image.size, Image.Transform.QUAD, quad, Image.Resampling.BICUBIC,
                           fillcolor=WHITE)


@pytest.fixture(scope="module")
def code() -> Image.Image:
    return Image.open(io.BytesIO(qr_png(LINK))).convert("L")


def test_qr_png_is_a_png_that_decodes_back_exactly(code):
    png = qr_png(LINK)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(TOKEN) == 100 and len(LINK) > 200
    assert decode_qr(png) == [LINK]


TRANSFORMS = {
    "rotated 90°": lambda image: image.rotate(90, expand=True),
    "rotated 33°": lambda image: image.rotate(33, Image.Resampling.BICUBIC, expand=True, fillcolor=WHITE),
    "scaled to 40%": lambda image: image.resize((image.width * 2 // 5, image.height * 2 // 5),
                                                Image.Resampling.LANCZOS),
    "noisy": noisy,
    "blurred": lambda image: image.filter(ImageFilter.GaussianBlur(1.5)),
    "seen at a slant": keystone,
    "phone photo": lambda image: noisy(keystone(image.rotate(
        17, Image.Resampling.BICUBIC, expand=True, fillcolor=WHITE)).filter(
        ImageFilter.GaussianBlur(1.5))).resize((400, 400), Image.Resampling.LANCZOS),
}


@pytest.mark.parametrize("transform", TRANSFORMS.values(), ids=TRANSFORMS.keys())
@pytest.mark.parametrize("fmt,options", [("PNG", {}), ("JPEG", {"quality": 35})], ids=["png", "jpeg35"])
def test_a_transformed_code_still_decodes(code, transform, fmt, options):
    assert decode_qr(encode(transform(code), fmt, **options)) == [LINK]


def test_exif_orientation_is_applied_and_formats_beyond_jpeg_read(code):
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was held upright: the pixels lie on their side
    assert decode_qr(encode(code.rotate(90, expand=True), "JPEG", exif=exif)) == [LINK]
    assert decode_qr(encode(code.convert("RGB"), "WEBP", quality=50)) == [LINK]


def test_a_transparent_background_reads_as_white(code):
    dark_on_clear = Image.new("RGBA", code.size, (0, 0, 0, 0))
    dark_on_clear.putalpha(ImageOps.invert(code))
    assert decode_qr(encode(dark_on_clear)) == [LINK]


def test_every_code_in_a_picture_is_found_once(code):
    other = Image.open(io.BytesIO(qr_png("https://example.org/"))).convert("L")
    both = Image.new("L", (code.width + other.width + 40, code.height), WHITE)
    both.paste(code, (0, 0))
    both.paste(other, (code.width + 40, 0))
    assert sorted(decode_qr(encode(both))) == sorted([LINK, "https://example.org/"])


def test_a_picture_without_a_code_gives_nothing():
    landscape = Image.linear_gradient("L").resize((800, 600)).convert("RGB")
    assert decode_qr(encode(landscape, "JPEG")) == []


@pytest.mark.parametrize("data", [b"", b"checkin please", random.Random(7).randbytes(4096)],
                         ids=["empty", "text", "random"])
def test_bytes_that_are_not_an_image_raise_unreadable(data):
    with pytest.raises(UnreadableImage):
        decode_qr(data)


def test_a_truncated_image_raises_unreadable(code):
    with pytest.raises(UnreadableImage):
        decode_qr(encode(code.convert("RGB"), "JPEG")[:1000])


POSTERS = {
    "short": dict(title="棚田の草刈り", entity_name="小谷村", when="7月12日（土）9:00〜12:00",
                  where="大網地区 集会所前"),
    "long": dict(
        title="ふるさと祭り準備のお手伝い：テント設営・会場設営・飾り付け、さらに当日の受付補助と"
              "後片付けまでお願いできる方を募集しています",
        entity_name="北海道標茶町 まちづくり推進課 ふるさと住民登録担当",
        when="2025年10月4日（土）8:30〜17:00　雨天時は10月5日（日）に順延します。"
             "詳細は後日LINEでお知らせします",
        where="標茶町 開運町 ふれあい交流センター 大ホールおよび屋外駐車場"
              "（車でお越しの方は第二駐車場をご利用ください）",
    ),
}


@pytest.fixture(scope="module", params=POSTERS.keys())
def poster_png(request) -> bytes:
    return poster(**POSTERS[request.param], link=LINK)


def test_poster_is_an_a4_png_at_150_dpi(poster_png):
    page = Image.open(io.BytesIO(poster_png))
    assert page.format == "PNG" and page.size == (1240, 1754)
    assert round(page.info["dpi"][0]) == 150


def test_poster_code_decodes_and_prints_at_least_9_cm_wide(poster_png):
    assert decode_qr(poster_png) == [LINK]
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(poster_png)))
    corners = found.position  # the symbol's outer edges, quiet zone left out
    assert corners.top_right.x - corners.top_left.x >= 9 / 2.54 * 150


def test_poster_code_decodes_from_a_phone_sized_photo(poster_png):
    page = Image.open(io.BytesIO(poster_png)).convert("RGB")
    photo = page.rotate(-4, Image.Resampling.BICUBIC, expand=True, fillcolor=(110, 104, 96))
    photo.thumbnail((1024, 1024), Image.Resampling.LANCZOS)
    assert decode_qr(encode(photo, "JPEG", quality=60)) == [LINK]


def test_poster_as_pdf_is_one_a4_page():
    pdf = poster(**POSTERS["short"], link=LINK, fmt="pdf")
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
    width, height = map(float, re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf).groups())
    assert (round(width), round(height)) == (595, 842)  # A4 in points


def test_poster_refuses_an_unknown_format():
    with pytest.raises(ValueError):
        poster(**POSTERS["short"], link=LINK, fmt="svg")
