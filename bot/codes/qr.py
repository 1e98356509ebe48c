"""QR codes: draw one as a PNG, and read the ones in a resident's photo.

Decoded texts hold check-in tokens and photos are residents' own: log neither.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import qrcode
import zxingcpp
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError
from qrcode.constants import ERROR_CORRECT_M

# Above this many pixels on the long side a photo is scaled down before decoding: a phone's
# 12-megapixel photo decodes several times faster at this size and a QR code that fills a
# fair part of the frame keeps enough pixels per module.
DECODE_SIZE = 2000


class UnreadableImage(ValueError):
    """The bytes are not an image, or one too damaged or too large to read."""


def qr_png(data: str, *, box_size: int = 10, border: int = 4) -> bytes:
    # M (15 % recovery), not Q: check-in links run to ~200 bytes, and at M the symbol needs
    # fewer modules (version 10 rather than 13), so each module is bigger on the same poster.
    # Big modules are what a phone at arm's length, a blurry or a downscaled photo need; a
    # poster indoors is seldom damaged enough to need Q's 25 %.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(data)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out, "PNG")
    return out.getvalue()


def decode_qr(image: bytes) -> list[str]:
    """Every QR code text found in a photo (JPEG, PNG, WebP…), once each; [] when there is none."""
    for attempt in _attempts(_open(image)):
        codes = zxingcpp.read_barcodes(attempt, formats=zxingcpp.BarcodeFormat.QRCode)
        texts = [code.text for code in codes]
        if texts:
            return list(dict.fromkeys(texts))
    return []


def _open(image: bytes) -> Image.Image:
    try:
        picture = Image.open(io.BytesIO(image))
        # A big JPEG decodes straight to half or quarter size, much faster than scaling after.
        scale = DECODE_SIZE / max(picture.size)
        picture.draft("L", (round(picture.width * scale), round(picture.height * scale)))
        picture = ImageOps.exif_transpose(picture)
        if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
            # A transparent background would otherwise turn black, dark modules on dark.
            white = Image.new("RGBA", picture.size, "white")
            picture = Image.alpha_composite(white, picture.convert("RGBA"))
        return picture.convert("L")
    except UnidentifiedImageError as error:
        raise UnreadableImage("not an image (JPEG, PNG, WebP, …)") from error
    except (OSError, Image.DecompressionBombError) as error:
        raise UnreadableImage("the image is damaged or too large to read") from error


def _attempts(picture: Image.Image) -> Iterator[Image.Image]:
    """The picture at decoding size, then versions that read better when a photo is poor."""
    base = picture
    if max(picture.size) > DECODE_SIZE:
        base = picture.copy()
        base.thumbnail((DECODE_SIZE, DECODE_SIZE), Image.Resampling.LANCZOS)
    yield base
    if base is not picture:
        yield picture  # a small code far off in a big photo
    if max(base.size) <= DECODE_SIZE // 2:
        # At 3–5 pixels a module, noise moves module edges; zxing finds them at twice the size.
        yield base.resize((base.width * 2, base.height * 2), Image.Resampling.BICUBIC)
    # Sensor and JPEG noise break modules into specks; a light blur joins them again.
    yield base.filter(ImageFilter.GaussianBlur(0.7))
