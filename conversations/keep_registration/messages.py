"""Messages of the inactivity prompt and the lapse of basic registrations (R8)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from linebot.v3.messaging.models import Message

from bot.i18n import _
from bot.i18n.dates import date_with_year
from bot.i18n.names import place
from bot.store.models import Registration
from conversations.common import listing, say, tap, text
from conversations.keep_registration.states import KeepRegistration


def places(registrations: Sequence[Registration]) -> str:
    return listing(dict.fromkeys(place(r.entity) for r in registrations))


def keep_prompt(registrations: Sequence[Registration], lapse_at: datetime) -> list[Message]:
    body = _("しばらくご利用がありません。ふるさと住民登録を続けますか？\n\n"
             "{date}までにこのトークで何も操作がないと、次のベーシック登録が終了します："
             "{places}\n\n続ける場合は下の「登録を続ける」を押してください。").format(
        date=date_with_year(lapse_at), places=places(registrations))
    return [text(body, [tap(_("登録を続ける"), KeepRegistration()), say(_("登録状況"))])]


def lapsed(registrations: Sequence[Registration]) -> list[Message]:
    body = _("長い間ご利用がなかったため、次のベーシック登録を終了しました：{places}\n\n"
             "また登録するには「登録する」と送ってください。").format(places=places(registrations))
    return [text(body, [say(_("登録する"))])]


def kept(registrations: Sequence[Registration]) -> list[Message]:
    if not registrations:
        return [text(_("ベーシック登録はすでに終了しています。もう一度登録するには「登録する」と"
                       "送ってください。"), [say(_("登録する"))])]
    return [text(_("ありがとうございます。登録を続けます：{places}").format(
        places=places(registrations)), [say(_("登録状況"))])]
