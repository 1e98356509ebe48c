"""The relationship survey's answers in words: the survey's buttons in the chat and the
statistics' rows name them alike (the codes are bot/domain/relationship_survey.py's)."""

from __future__ import annotations

from bot.i18n import _l

RELATIONSHIP_LABELS = {
    "birthplace": _l("出身地"),
    "former_residence": _l("以前住んでいた"),
    "family": _l("家族・親族がいる"),
    "work_study": _l("仕事・学校で通った"),
    "furusato_nozei": _l("ふるさと納税をした"),
    "repeat_visits": _l("何度も訪れている"),
    "two_region": _l("二地域居住をしている"),
    "volunteering": _l("ボランティア・災害支援"),
    "interest": _l("関心がある"),
}
