"""Support measures (R6): the fixed catalogue, and why a measure cannot be one.

Support goes to premium registrants who come to the place: travel, lodging and workspace
fees (activity support) and resident rates, evacuation acceptance and other services used
on the spot (quasi-resident support). Return gifts (返礼品) — material benefits that reach the
person without a visit — are forbidden: the catalogue has no category for them, and a
measure that describes one is refused, whatever category it claims.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

#: The catalogue, as the `SupportCategory` values of bot/store/models.py (a test keeps them equal).
ACTIVITY_SUPPORT = ("travel", "lodging", "workspace")
QUASI_RESIDENT_SUPPORT = ("facility_rates", "evacuation", "in_person_service")
CATEGORIES = ACTIVITY_SUPPORT + QUASI_RESIDENT_SUPPORT

MAX_TITLE = 100
MAX_TEXT = 1000


class Refusal(StrEnum):
    RETURN_GIFT = "return_gift"          # names a return gift (返礼品, お礼の品, "return gift")
    SHIPPED_GOODS = "shipped_goods"      # goods sent to the person: reaches them without a visit
    UNKNOWN_CATEGORY = "unknown_category"
    EMPTY = "empty"
    TOO_LONG = "too_long"


# Matched on NFKC-folded, lower-cased text, blanks removed for the Japanese words.
_RETURN_GIFT_JA = ("返礼品", "返礼", "お礼の品", "御礼の品", "お礼品", "御礼品", "謝礼品",
                   "おれいのひん", "へんれいひん")
_RETURN_GIFT_EN = re.compile(r"\b(return[\s-]*gifts?|thank[\s-]*you[\s-]*gifts?|henreihin)\b")
_GOODS_JA = ("特産品", "特産物", "名産品", "名産", "産品", "品物", "商品券", "ギフト", "カタログ",
             "贈答", "農産物", "海産物", "お米", "新米", "地酒", "詰め合わせ", "詰合せ", "お菓子")
_GOODS_EN = re.compile(r"\b(gifts?|goods|products?|produce|specialt(y|ies)|vouchers?|"
                       r"merchandise|hampers?|rice|sake)\b")
_SHIPPING_JA = ("送る", "お送り", "送ら", "送ります", "送付", "発送", "郵送", "配送", "送料", "お届け",
                "届け", "届く", "宅配", "宅急便", "直送", "ご自宅", "自宅へ", "自宅に", "お手元")
_SHIPPING_EN = re.compile(r"\b(ship(s|ped|ping)?|deliver(s|ed|y|ies)?|mail(s|ed)?|"
                          r"send(s)?|sent|courier|to\s+your\s+(home|door|address))\b")

#: Category names someone might try for a return gift: refused with R6's reason.
_GIFT_CATEGORIES = ("return_gift", "returngift", "gift", "gifts", "返礼品", "お礼の品", "特産品")


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _compact(text: str) -> str:
    return "".join(_folded(text).split())


def gift_refusal(*texts: str) -> Refusal | None:
    """RETURN_GIFT or SHIPPED_GOODS when the words describe a benefit that needs no visit."""
    folded = _folded(" ".join(texts))
    compact = _compact(" ".join(texts))
    if any(word in compact for word in _RETURN_GIFT_JA) or _RETURN_GIFT_EN.search(folded):
        return Refusal.RETURN_GIFT
    goods = any(word in compact for word in _GOODS_JA) or _GOODS_EN.search(folded)
    shipped = any(word in compact for word in _SHIPPING_JA) or _SHIPPING_EN.search(folded)
    if goods and shipped:
        return Refusal.SHIPPED_GOODS
    return None


def category_refusal(value: str) -> Refusal | None:
    if value in CATEGORIES:
        return None
    if _compact(value).replace("-", "_") in _GIFT_CATEGORIES:
        return Refusal.RETURN_GIFT
    return Refusal.UNKNOWN_CATEGORY


def field_refusal(value: str, limit: int = MAX_TEXT) -> Refusal | None:
    """One text field on its own: present, within its length, and no return gift."""
    if not value.strip():
        return Refusal.EMPTY
    if len(value) > limit:
        return Refusal.TOO_LONG
    return gift_refusal(value)


def measure_refusal(title: str, category: str, description: str, how_to_use: str) -> Refusal | None:
    """Why this measure cannot be offered, or None (R6). Fields together: a title naming
    local produce and a "how to use" promising delivery are a return gift only as a pair."""
    return (category_refusal(category)
            or field_refusal(title, MAX_TITLE)
            or field_refusal(description)
            or field_refusal(how_to_use)
            or gift_refusal(title, description, how_to_use))
