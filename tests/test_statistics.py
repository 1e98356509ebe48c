"""R15 statistics per entity, own residents excluded (R9): figures, CSV, download links, CLI, chat."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from bot.domain.calendar import JST
from bot.domain.statistics import last_months, standing
from bot.i18n import use_locale
from bot.services import activities, attendance, downloads, entities, people, staff
from bot.services.registry import end, register_basic, save_answers, set_residence
from bot.services.statistics import ActivityFigures, EntityStatistics, entity_statistics, statistics_csv
from bot.store.models import Entity
from conversations.common import MAX_TEXT
from conversations.staff import messages
from tests.factories import (
    FUCHU_TOKYO,
    KAMIKATSU,
    KAMIYAMA,
    SAPPORO,
    TOKUSHIMA,
    TOKYO_CHIYODA,
    Chat,
    register_by_name,
    staff_member,
    user_id,
)
from web import downloads as download_views

#: A fixed moment: 2026-11-27 12:00 in Japan. The 12 months are 2025-12 … 2026-11.
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=JST)


def jst(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=JST)


@pytest.fixture(autouse=True)
def with_downloads(app):
    if "downloads" not in app.blueprints:
        download_views.init_app(app)


# The pure parts --------------------------------------------------------------------------------

def test_months_are_japan_time_calendar_months():
    months = last_months(datetime(2026, 1, 31, 15, 30, tzinfo=UTC))  # 2026-02-01 00:30 in Japan
    assert [m.key for m in months][:2] == ["2025-03", "2025-04"]
    assert months[-1].key == "2026-02" and len(months) == 12
    assert months[-1].starts_at == jst(2026, 2, 1)
    assert [m.key for m in last_months(jst(2026, 12, 31, 23, 59), 2)] == ["2026-11", "2026-12"]


def test_standing_buckets():
    assert standing({1: 4, 2: 1, 3: 2, 7: 1}) == {"1": 4, "2": 1, "3+": 3}
    assert standing({}) == {"1": 0, "2": 0, "3+": 0}


# The figures -----------------------------------------------------------------------------------

def _person(session, name, lives_in=None):
    person = people.lock(session, user_id(name), jst(2025, 1, 1))
    if lives_in:
        set_residence(session, person, entities.by_code(session, lives_in))
    return person


def _activity(session, entity, title, starts_at, designated=True):
    return activities.create(session, entity, title=title, category="volunteer",
                             designated=designated, place="役場前",
                             windows=[(starts_at, starts_at + timedelta(hours=2))],
                             now=starts_at - timedelta(days=30))


def _check_in(app, session, person, activity_session):
    token = activities.token(activity_session, app.config["SECRET_KEY"])
    result = attendance.attempt(session, person, token, app.config["SECRET_KEY"],
                              activity_session.starts_at + timedelta(minutes=10), method="link")
    assert result.outcome is attendance.Outcome.CHECKED_IN, result


@pytest.fixture
def town(app, db):
    """神山町 and 徳島県 with registrants, one of whom lives in 神山町, and their activities."""
    with db.transaction() as session:
        entities.set_participation(session, [KAMIYAMA, TOKUSHIMA], True)
        kamiyama, tokushima = entities.by_codes(session, [KAMIYAMA, TOKUSHIMA])
        tokyo = _person(session, "東京の人", TOKYO_CHIYODA)
        sapporo = _person(session, "札幌の人", SAPPORO)
        undeclared = _person(session, "どこかの人")
        resident = _person(session, "地元の人")
        leaver = _person(session, "やめた人")
        old = _person(session, "古い人")
        midnight = _person(session, "真夜中の人", FUCHU_TOKYO)
        direct = _person(session, "県の人")
        registered = {}
        for person, at in ((tokyo, jst(2026, 11, 5)), (sapporo, jst(2026, 10, 10)),
                           (undeclared, jst(2025, 12, 15)), (resident, jst(2026, 11, 10)),
                           (leaver, jst(2026, 9, 1, 9)), (old, jst(2025, 11, 20)),
                           # 2026-10-31 15:30 UTC is 2026-11-01 00:30 in Japan: November.
                           (midnight, datetime(2026, 10, 31, 15, 30, tzinfo=UTC))):
            registered[person.id] = register_basic(session, person, kamiyama, at).registration
        register_basic(session, direct, tokushima, jst(2026, 11, 20))
        set_residence(session, resident, kamiyama)  # declared after registering: R9 still applies
        for person, answers in ((tokyo, ["birthplace", "furusato_nozei"]), (sapporo, ["birthplace"]),
                                (undeclared, ["interest"]), (resident, ["family"]),
                                (midnight, ["two_region"])):
            save_answers(session, registered[person.id].id, "relationship", answers, NOW)
        save_answers(session, registered[tokyo.id].id, "frequency", ["monthly"], NOW)

        weeding = activities.create(
            session, kamiyama, title="棚田の草刈り", category="volunteer", designated=True,
            place="棚田", now=jst(2026, 5, 1),
            windows=[(jst(2026, 6, 1, 10), jst(2026, 6, 1, 12)),
                     (jst(2026, 9, 1, 10), jst(2026, 9, 1, 12))])
        first, second = weeding.sessions
        blossom = _activity(session, kamiyama, "花見の準備", jst(2026, 4, 5, 10), designated=False)
        cancelled = _activity(session, kamiyama, "中止の活動", jst(2026, 7, 1, 10))
        long_ago = _activity(session, kamiyama, "昔の活動", jst(2025, 10, 1, 10))
        formula = _activity(session, kamiyama, "=1+2 清掃", jst(2026, 10, 15, 10))
        _activity(session, kamiyama, "来月の活動", jst(2026, 12, 10, 10))
        for person, attended in ((tokyo, [first, second, long_ago.sessions[0]]),
                                 (sapporo, [blossom.sessions[0]]),
                                 (undeclared, [first]),
                                 (resident, [first, second]),
                                 (leaver, [second]),
                                 (old, [cancelled.sessions[0]]),
                                 (midnight, [first, second, formula.sessions[0]])):
            for activity_session in attended:
                _check_in(app, session, person, activity_session)
        end(session, registered[leaver.id], jst(2026, 10, 1), "unregistered")
        activities.finish(cancelled, "cancelled")
        return {"weeding": weeding.id, "blossom": blossom.id, "formula": formula.id}


def _stats(db, code, now=NOW):
    with db.transaction() as session:
        return entity_statistics(session, entities.by_code(session, code), now)


def test_r15_registrants_by_kind_and_origin_exclude_own_residents(db, town):
    stats = _stats(db, KAMIYAMA)
    # 7 registered here; one lives here (R9) and one left: 5 counted.
    assert stats.by_kind == {"basic": 5, "premium": 0}
    assert stats.by_origin == {"direct": 5, "co_registration": 0}
    prefecture = _stats(db, TOKUSHIMA)
    # The prefecture counts the resident of 神山町 (R9 is about the home municipality only);
    # the leaver's co-registration ended with their registration (R2).
    assert prefecture.by_kind == {"basic": 7, "premium": 0}
    assert prefecture.by_origin == {"direct": 1, "co_registration": 6}


def test_r15_relationship_types_of_active_registrants(db, town):
    stats = _stats(db, KAMIYAMA)
    assert stats.by_relationship == {
        "birthplace": 2, "former_residence": 0, "family": 0, "work_study": 0,
        "furusato_nozei": 1, "repeat_visits": 0, "two_region": 1, "volunteering": 0,
        "interest": 1}


def test_r15_prefecture_of_residence_with_not_declared_last(db, town):
    stats = _stats(db, KAMIYAMA)
    assert list(stats.by_prefecture.items()) == [("130001", 2), ("010006", 1), (None, 2)]


def test_r15_new_registrations_per_japan_time_month_including_ended_ones(db, town):
    stats = _stats(db, KAMIYAMA)
    assert list(stats.new_by_month) == [m.key for m in last_months(NOW)]
    assert list(stats.new_by_month)[0] == "2025-12"
    assert {k: n for k, n in stats.new_by_month.items() if n} == {
        "2025-12": 1, "2026-09": 1, "2026-10": 1, "2026-11": 2}
    assert (stats.this_month, stats.last_month) == (2, 1)
    # Seen from the evening before: 東京の人 (2026-11-05 00:00) had not registered yet.
    assert _stats(db, KAMIYAMA, jst(2026, 11, 4, 23, 59)).this_month == 1


def test_r15_premium_candidates_and_standing(db, town):
    stats = _stats(db, KAMIYAMA)
    # 東京の人 (2), どこかの人 (1), 真夜中の人 (3). Not: the resident, the leaver (no longer
    # registered), the one whose activity was cancelled, the one at a non-designated activity.
    assert stats.premium_candidates == 3
    # The leaver's check-in still happened: 1 → どこかの人 and やめた人.
    assert stats.standing == {"1": 2, "2": 1, "3+": 1}
    assert _stats(db, TOKUSHIMA).premium_candidates == 0  # the prefecture's own activities only


def test_r15_activity_participation_of_the_last_12_months(db, town):
    stats = _stats(db, KAMIYAMA)
    # Newest session first; the cancelled one, the one of 2025-10 and next month's are left out;
    # the resident's two check-ins are not counted.
    assert stats.activities == [
        ActivityFigures(town["formula"], "=1+2 清掃", True, 1, 1, 1),
        ActivityFigures(town["weeding"], "棚田の草刈り", True, 2, 6, 4),
        ActivityFigures(town["blossom"], "花見の準備", False, 1, 1, 1),
    ]


def test_r15_a_prefecture_without_registrants_has_zeros(db):
    stats = _stats(db, KAMIKATSU)
    assert stats.by_kind == {"basic": 0, "premium": 0} and stats.by_prefecture == {}
    assert set(stats.new_by_month.values()) == {0} and len(stats.new_by_month) == 12
    assert stats.premium_candidates == 0 and stats.activities == []
    assert stats.standing == {"1": 0, "2": 0, "3+": 0}


# CSV -------------------------------------------------------------------------------------------

def _table(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_opens_in_excel_and_in_csv_reader(db, town):
    data = statistics_csv(_stats(db, KAMIYAMA))
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == data.count(b"\n") and data.endswith(b"\r\n")
    table = _table(data)
    assert table[0] == ["section", "key", "label", "value"]
    assert all(len(row) == 4 for row in table)
    assert ["集計の対象", "entity_code", "団体コード", KAMIYAMA] in table
    assert ["集計の対象", "as_of", "集計日時（日本時間）", "2026-11-27 12:00"] in table
    assert ["登録者の種類", "basic", "ベーシック", "5"] in table
    assert ["登録者の種類", "premium", "プレミアム", "0"] in table
    assert ["登録の経路", "co_registration", "市区町村からの同時登録", "0"] in table
    assert ["関係性", "birthplace", "出身地", "2"] in table
    assert ["お住まいの都道府県", "130001", "東京都", "2"] in table
    assert ["お住まいの都道府県", "not_declared", "未回答", "2"] in table
    assert ["新規登録（月別）", "2026-11", "2026年11月", "2"] in table
    assert ["新規登録（月別）", "2026-01", "2026年1月", "0"] in table
    assert ["プレミアム候補", "premium_candidates",
            "過去12か月に指定活動に参加したベーシック登録者", "3"] in table
    assert ["指定活動への参加回数（過去12か月）", "3+", "3回以上", "1"] in table
    assert ["活動ごとの参加受付数（過去12か月）", str(town["weeding"]), "棚田の草刈り", "6"] in table
    assert ["活動ごとの参加人数（過去12か月）", str(town["weeding"]), "棚田の草刈り", "4"] in table
    # A title typed by staff never becomes a spreadsheet formula.
    assert ["活動ごとの日程数（過去12か月）", str(town["formula"]), "'=1+2 清掃", "1"] in table


def test_csv_in_english_on_request(db, town):
    table = _table(statistics_csv(_stats(db, KAMIYAMA), "en"))
    assert ["Registrants by kind", "basic", "Basic", "5"] in table
    assert ["Prefecture of residence", "130001", "Tokyo", "2"] in table


# Download links --------------------------------------------------------------------------------

@pytest.fixture
def officer(db):
    """The person ID of a staff member of 神山町, enrolled by invitation."""
    now = datetime.now(UTC)
    with db.transaction() as session:
        person = people.lock(session, user_id("職員"), now)
        invitation = staff.invite(session, entities.by_code(session, KAMIYAMA), "staff", now)
        staff.redeem(session, invitation.code, person, now)
        return person.id


def _path(url: str) -> str:
    return url[url.index("/downloads/"):]


def test_download_link_serves_the_csv_as_an_attachment(app, client, db, town, officer):
    url = downloads.download_url(app.config, "statistics", KAMIYAMA, person_id=officer)
    assert url.startswith(app.config["PUBLIC_BASE_URL"] + "/downloads/")
    response = client.get(_path(url))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    today = datetime.now(JST).date().isoformat()
    assert response.headers["Content-Disposition"] == \
        f"attachment; filename=furusato-statistics-{KAMIYAMA}-{today}.csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert _table(response.data)[0] == ["section", "key", "label", "value"]
    assert ["登録者の種類", "basic", "ベーシック", "5"] in _table(response.data)


def _refused(response, status=403):
    page = response.get_data(as_text=True)
    assert response.status_code == status
    assert re.search(r"[ぁ-んァ-ン]", page) and re.search(r"[A-Za-z]{4} ", page)
    return page


def test_expired_link_is_refused(app, client, officer):
    class TwoHoursAgo(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - 7200

    grant = downloads.Grant("statistics", KAMIYAMA, officer, None, 3600)
    token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=downloads.SALT,
                                   signer=TwoHoursAgo).dumps(grant.payload())
    refused = _refused(client.get(f"/downloads/{token}"))
    assert "期限切れ" in refused and "「集計」" in refused  # and where a new link comes from
    long_lived = downloads.Grant("statistics", KAMIYAMA, officer, None, 3 * 3600)
    token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=downloads.SALT,
                                   signer=TwoHoursAgo).dumps(long_lived.payload())
    assert client.get(f"/downloads/{token}").status_code == 200


def test_expiry_is_the_links_own(app, officer):
    url = downloads.download_url(app.config, "statistics", KAMIYAMA, expires_in=60, person_id=officer)
    token = url.rsplit("/", 1)[1]
    secret = app.config["SECRET_KEY"]
    assert downloads.read(token, secret, datetime.now(UTC) + timedelta(seconds=30)) is not None
    assert downloads.read(token, secret, datetime.now(UTC) + timedelta(seconds=90)) is None
    with pytest.raises(ValueError):
        downloads.download_url(app.config, "statistics", KAMIYAMA, expires_in=30 * 24 * 3600,
                               person_id=officer)


def test_forged_links_are_refused(app, client, officer):
    url = downloads.download_url(app.config, "statistics", KAMIYAMA, person_id=officer)
    token = url.rsplit("/", 1)[1]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    other_secret = URLSafeTimedSerializer("not our secret", salt=downloads.SALT).dumps(
        downloads.Grant("statistics", KAMIYAMA, officer, None, 3600).payload())
    other_salt = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="furusato.rotating.v1").dumps(
        downloads.Grant("statistics", KAMIYAMA, officer, None, 3600).payload())
    not_a_grant = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=downloads.SALT).dumps(
        {"k": "statistics", "e": KAMIYAMA, "p": "1; drop table", "o": None, "x": 3600})
    for bad in (tampered, other_secret, other_salt, not_a_grant, "x", "%00" * 50):
        _refused(client.get(f"/downloads/{bad}"))


def test_links_need_a_person_who_is_still_staff_of_that_entity(app, client, db, officer):
    another_town = downloads.download_url(app.config, "statistics", KAMIKATSU, person_id=officer)
    assert "職員の方だけ" in _refused(client.get(_path(another_town)))
    url = downloads.download_url(app.config, "statistics", KAMIYAMA, person_id=officer)
    assert client.get(_path(url)).status_code == 200
    with db.transaction() as session:
        kamiyama = entities.by_code(session, KAMIYAMA)
        for member in staff.members(session, kamiyama):
            staff.remove(session, member, datetime.now(UTC))
    _refused(client.get(_path(url)))


def test_unknown_kinds_and_missing_objects_are_not_found(app, client, officer, monkeypatch):
    monkeypatch.setattr(downloads, "_registry", dict(downloads._registry))  # undone afterwards
    url = downloads.download_url(app.config, "no-such-kind", KAMIYAMA, person_id=officer)
    _refused(client.get(_path(url)), 404)

    def missing(session, entity, object_id, now):
        raise downloads.NotFound(object_id)

    downloads.register_download("test-missing", missing)
    url = downloads.download_url(app.config, "test-missing", KAMIYAMA, 42, person_id=officer)
    _refused(client.get(_path(url)), 404)


# The command line ------------------------------------------------------------------------------

def test_furusato_stats_prints_the_figures_and_writes_the_csv(runner, db, tmp_path):
    now = datetime.now(UTC)
    with db.transaction() as session:
        entities.set_participation(session, [KAMIYAMA], True)
        kamiyama = entities.by_code(session, KAMIYAMA)
        register_basic(session, _person(session, "外の人", TOKYO_CHIYODA), kamiyama, now)
        register_basic(session, _person(session, "地元の人", KAMIYAMA), kamiyama, now)
    result = runner.invoke(args=["stats", KAMIYAMA])
    assert result.exit_code == 0, result.output
    assert "登録者の種類\n  ベーシック: 1\n  プレミアム: 0\n" in result.output
    assert "お住まいの都道府県\n  東京都: 1\n" in result.output
    assert f"  {now.astimezone(JST):%Y年%-m月}: 1" in result.output
    english = runner.invoke(args=["stats", KAMIYAMA, "--lang", "en"])
    assert "Registrants by kind\n  Basic: 1\n" in english.output
    target = tmp_path / "stats.csv"
    result = runner.invoke(args=["stats", KAMIYAMA, "--csv", str(target)])
    assert result.exit_code == 0, result.output
    assert ["登録者の種類", "basic", "ベーシック", "1"] in _table(target.read_bytes())
    unknown = runner.invoke(args=["stats", "999999"])
    assert unknown.exit_code != 0 and "Unknown entity code" in unknown.output


# The chat --------------------------------------------------------------------------------------

def test_staff_see_the_summary_and_a_download_link(app, client, line, runner, join):
    join(KAMIYAMA, TOKUSHIMA)
    officer = staff_member(app, client, line, runner, "神山の職員", KAMIYAMA)
    visitor = Chat(app, client, line, "訪問者")
    visitor.follow()
    register_by_name(visitor, "神山")
    visitor.tap("出身地")
    visitor.tap("次へ")
    visitor.say("キャンセル")
    resident = Chat(app, client, line, "住民")
    resident.follow()
    resident.say("集計")
    assert "職員の方専用" in resident.text() and "/downloads/" not in resident.text()

    officer.say("集計")
    summary = officer.text()
    assert "神山町（徳島県）の集計" in summary
    assert "ベーシック：1人" in summary and "新規登録：今月1人、先月0人" in summary
    assert "■ つながり（多い順）\n・出身地：1人" in summary
    assert "■ お住まいの都道府県（多い順）\n・未回答：1人\n" in summary  # not "none yet" first
    assert "■ プレミアム候補：0人" in summary and "3回以上：0人" in summary
    link = re.search(r"^http\S+/downloads/\S+$", summary, re.M).group(0)
    response = client.get(_path(link))
    assert response.status_code == 200
    assert ["関係性", "birthplace", "出身地", "1"] in _table(response.data)


def test_the_figures_fit_one_message_however_many_activities():
    stats = EntityStatistics(
        entity_code=KAMIYAMA, entity_name="神山町", now=NOW, by_kind={"basic": 10**8, "premium": 0},
        by_origin={"direct": 10**8, "co_registration": 0},
        by_relationship={"birthplace": 10**7}, by_prefecture={"130001": 10**7, None: 10**6},
        new_by_month={m.key: 10**6 for m in last_months(NOW)}, premium_candidates=10**6,
        activities=[ActivityFigures(i, "あ" * 60, True, 10, 10**4, 10**3) for i in range(200)],
        standing={"1": 10**5, "2": 10**5, "3+": 10**5})
    kamiyama = Entity(code=KAMIYAMA, kind="municipality", name="神山町", name_en="Kamiyama-cho",
                      prefecture_code=TOKUSHIMA)
    for locale in ("ja", "en"):
        with use_locale(locale):
            [message] = messages.figures(kamiyama, stats, "https://example.org/downloads/" + "t" * 200)
        assert len(message.text.encode("utf-16-le")) // 2 <= MAX_TEXT
        assert message.text.count("\n・") <= 3 + 2 + 10
