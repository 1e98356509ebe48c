"""The clock's jobs (issue #6, R8): inactivity prompt and lapse, premium reminders, expiry
judgement, clean-up; idempotent, resumable, run by hand with `furusato jobs`.

What people see is read where they would see it: the worker sends the outbox to the local
LINE platform, and the chat reads it from there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.devtools.time_travel import pass_time
from bot.domain.premium import one_year_after
from bot.i18n import use_locale
from bot.i18n.dates import date_with_year
from bot.services import entities, premium
from bot.services.activities import create as create_activity
from bot.store.models import (
    CheckIn,
    GuardianConsent,
    IdentityVerification,
    JobMark,
    OutboxMessage,
    Person,
    PremiumRequest,
    ProcessedEvent,
    Registration,
    StaffInvitation,
)
from jobs import run_job
from tests.factories import (
    KAMIYAMA,
    TOKUSHIMA,
    Chat,
    count,
    heard,
    held,
    now,
    person_of,
    register_by_name,
    registered,
    staff_member,
)

DAY = timedelta(days=1)


_clock = {"at": None}


def job(app, name: str, at: datetime, **options):
    """Run a job as if at `at`; what it queues is due from then on, so `pushed` sends then."""
    _clock["at"] = at
    return run_job(app, name, at, **options)


def pushed(app, chat) -> str:
    """Send the outbox as at the last job's clock (or now), and return what reached this chat
    since it last looked."""
    return heard(app, chat, max(now(), _clock["at"] or now()))


# Premium as the premium flow leaves it (bot/services/premium.py: grant), set up directly -------------

def verified(session, person: Person, at: datetime) -> None:
    """The person's identity verified at `at` (R5), as the identity flow records it."""
    session.add(IdentityVerification(
        person_id=person.id, provider="sandbox", subject=f"sub-{person.id}",
        verified_at=at, consent_version="1", consented_at=at))


def granted_premium(db, chat, since: datetime, code: str = KAMIYAMA) -> int:
    """The chat's registration at `code` premium from `since` for a year, with the prefecture
    co-registration following it (R2) and a verified identity (R5)."""
    until = one_year_after(since)
    with db.transaction() as session:
        person = person_of(session, chat)
        verified(session, person, since)
        for registration in session.scalars(select(Registration).where(
                Registration.person_id == person.id)):
            registration.kind = "premium"
            registration.premium_since, registration.premium_until = since, until
            registration.premium_origin = ("direct" if registration.entity.code == code
                                           else "co_registration")
        return session.scalar(select(Registration.id).join(Registration.entity).where(
            Registration.person_id == person.id, Registration.entity.has(code=code)))


def granted_premium_only(db, chat, since: datetime, code: str) -> None:
    """Premium at `code` only (with its prefecture's co-registration), other places basic."""
    until = one_year_after(since)
    with db.transaction() as session:
        person = person_of(session, chat)
        verified(session, person, since)
        place = entities.by_code(session, code)
        for registration in session.scalars(select(Registration).where(
                Registration.person_id == person.id)):
            entity = registration.entity
            if entity.code in (code, place.prefecture_code):
                registration.kind = "premium"
                registration.premium_since, registration.premium_until = since, until
                registration.premium_origin = ("direct" if entity.code == code
                                               else "co_registration")


def check_ins(db, chat, at: list[datetime], code: str = KAMIYAMA,
              designated: bool = True) -> None:
    """Designated activities the person attended at these moments (as QR check-ins record)."""
    with db.transaction() as session:
        person = person_of(session, chat)
        entity = entities.by_code(session, code)
        for moment in at:
            activity = create_activity(session, entity, title="棚田の草刈り", category="volunteer",
                                       designated=designated, place="上分",
                                       windows=[(moment, moment + timedelta(hours=2))],
                                       now=moment)
            session.add(CheckIn(session_id=activity.sessions[0].id, person_id=person.id,
                                checked_in_at=moment, method="link"))


# Inactivity (R8, basic) ----------------------------------------------------------------------

def test_r8_inactive_basic_registrant_is_asked_then_kept_by_a_tap(app, db, chat, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    pass_time(db, 701 * DAY)
    summary = job(app, "inactivity", now())
    assert summary.counts == {"prompted": 1}
    text = pushed(app, chat)
    assert "ふるさと住民登録を続けますか" in text
    assert "神山町（徳島県）、徳島県" in text
    assert "登録を続ける" in chat.labels()
    prompt = list(chat.last)

    # Twice, or again the next day: no second prompt for the same inactivity.
    assert job(app, "inactivity", now()).counts == {"waiting": 1}
    pass_time(db, DAY)
    assert job(app, "inactivity", now()).counts == {"waiting": 1}
    assert pushed(app, chat) == ""

    chat.tap("登録を続ける", prompt)
    assert "登録を続けます" in chat.text()
    # The tap was access: a month later, past the old lapse date, nothing is due.
    pass_time(db, 31 * DAY)
    assert job(app, "inactivity", now()).counts == {}
    assert held(db, chat)[KAMIYAMA][2] == "active"


def test_r8_basic_registrations_lapse_after_the_prompt_and_the_period(app, db, chat, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    start = now()
    job(app, "inactivity", start + 701 * DAY)
    pushed(app, chat)
    assert job(app, "inactivity", start + 729 * DAY).counts == {"waiting": 1}
    summary = job(app, "inactivity", start + 731 * DAY)
    assert summary.counts == {"lapsed": 1}
    assert "ベーシック登録を終了しました" in pushed(app, chat)
    assert {code: status for code, (_k, _o, status) in held(db, chat).items()} == {
        KAMIYAMA: "ended", TOKUSHIMA: "ended"}
    with db.transaction() as session:
        reasons = set(session.scalars(select(Registration.end_reason)))
    assert reasons == {"lapsed", "co_registration_ended"}
    assert job(app, "inactivity", start + 732 * DAY).counts == {}
    assert pushed(app, chat) == ""


def test_r8_a_late_prompt_still_gives_the_full_notice(app, db, chat, join):
    """The clock was down: the prompt goes out at day 800, the lapse waits 30 more days."""
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    start = now()
    assert job(app, "inactivity", start + 800 * DAY).counts == {"prompted": 1}
    assert job(app, "inactivity", start + 829 * DAY).counts == {"waiting": 1}
    assert job(app, "inactivity", start + 831 * DAY).counts == {"lapsed": 1}


def test_r8_someone_who_blocked_the_account_lapses_on_time_without_a_prompt(app, db, chat, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    chat.unfollow()
    start = now()
    assert job(app, "inactivity", start + 701 * DAY).counts == {"waiting": 1}
    assert job(app, "inactivity", start + 731 * DAY).counts == {"lapsed": 1}
    assert count(db, OutboxMessage) == 0


def test_r8_the_periods_are_configurable(app, db, chat, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    app.config.update(BASIC_LAPSE_DAYS="100", BASIC_LAPSE_PROMPT_DAYS="10")
    start = now()
    assert job(app, "inactivity", start + 89 * DAY).counts == {}
    assert job(app, "inactivity", start + 91 * DAY).counts == {"prompted": 1}
    assert job(app, "inactivity", start + 101 * DAY).counts == {"lapsed": 1}


def test_r8_keep_tap_after_the_lapse_says_so_politely(app, db, chat, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    start = now()
    job(app, "inactivity", start + 701 * DAY)
    pushed(app, chat)
    prompt = list(chat.last)
    chat.unfollow()
    job(app, "inactivity", start + 731 * DAY)
    chat.follow()
    chat.tap("登録を続ける", prompt)
    assert "すでに終了しています" in chat.text()
    assert held(db, chat)[KAMIYAMA][2] == "ended"


def test_r8_every_kind_of_access_moves_the_last_access(app, db, chat, join):
    """Message, postback and check-in: each one restarts the period (handlers, LIFF view)."""
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")

    def last_access():
        with db.transaction() as session:
            return person_of(session, chat).last_access_at

    before = last_access()
    chat.say("ヘルプ")
    after_message = last_access()
    chat.postback("menu.help")
    after_postback = last_access()
    assert before < after_message < after_postback


# Premium reminders (R8) ----------------------------------------------------------------------

def test_r8_reminders_30_and_7_days_before_expiry_show_progress(app, db, chat, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    granted = now() - 340 * DAY
    granted_premium(db, chat, granted)
    until = one_year_after(granted)
    check_ins(db, chat, [granted + 100 * DAY])

    assert job(app, "premium-reminders", until - 31 * DAY).counts == {}
    summary = job(app, "premium-reminders", until - 30 * DAY)
    assert summary.counts == {"reminded 30 days before": 1}
    text = pushed(app, chat)
    assert "神山町（徳島県）のプレミアム登録の有効期限は" in text
    assert "あと30日" in text
    assert "1回／3回" in text and "あと2回必要です" in text
    assert "ベーシック登録に戻ります" in text
    # Not the prefecture's co-registration: it follows its municipality.
    assert "徳島県のプレミアム登録の有効期限" not in text

    assert job(app, "premium-reminders", until - 20 * DAY).counts == {}
    assert job(app, "premium-reminders", until - 7 * DAY).counts == {
        "reminded 7 days before": 1}
    assert "あと7日" in pushed(app, chat)
    assert job(app, "premium-reminders", until - 1 * DAY).counts == {}
    assert pushed(app, chat) == ""


def test_r8_after_an_outage_only_the_nearer_reminder_goes_out(app, db, chat, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    granted = now() - 360 * DAY
    granted_premium(db, chat, granted)
    until = one_year_after(granted)
    assert job(app, "premium-reminders", until - 5 * DAY).counts == {
        "reminded 7 days before": 1}
    assert job(app, "premium-reminders", until - 4 * DAY).counts == {}


def test_r8_reminder_in_manual_mode_says_staff_will_review(app, db, chat, join, runner):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    runner.invoke(args=["entities", "set", KAMIYAMA, "--renewal-mode", "manual"])
    granted = now() - 340 * DAY
    granted_premium(db, chat, granted)
    job(app, "premium-reminders", one_year_after(granted) - 30 * DAY)
    assert "職員が更新を審査します" in pushed(app, chat)


def test_r8_reminders_count_the_year_before_expiry_not_before_now(app, db, chat, join):
    """A check-in that will have left the 12 months by the expiry is not counted, and the
    reminder says what is still missing by then; its 「プレミアム登録」 button shows it again."""
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    granted = now() - 340 * DAY
    granted_premium(db, chat, granted)
    until = one_year_after(granted)
    # Within the 12 months before now, but not within the 12 months before the expiry.
    check_ins(db, chat, [granted - 20 * DAY, granted + 100 * DAY, granted + 200 * DAY])

    job(app, "premium-reminders", until - 30 * DAY)
    text = pushed(app, chat)
    with use_locale("ja"):
        start, end = date_with_year(granted), date_with_year(until)
    assert f"（{start}〜{end}）：2回／3回" in text
    assert f"有効期限の{end}までに、あと1回必要です" in text
    assert f"{start}より前の参加は数えません" in text
    assert chat.labels()[0] == "プレミアム登録"

    chat.tap("プレミアム登録")
    text = chat.text()
    assert f"神山町（徳島県）はプレミアム登録です（{end}まで有効）" in text
    assert "2回／3回" in text and "あと1回必要です" in text
    assert "満たさない場合はベーシック登録に戻ります" in text
    assert "活動履歴" in chat.labels()

    # And the judgement at expiry sees what the reminder said.
    assert job(app, "premium-expiry", until + timedelta(hours=1)).counts == {"reverted": 1}


# 「プレミアム登録」 where one is premium already (R8) ---------------------------------------

def test_premium_command_when_premium_shows_the_renewal_outlook_auto(app, db, chat, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    granted = now() - 200 * DAY
    granted_premium(db, chat, granted)
    until = one_year_after(granted)
    check_ins(db, chat, [granted + 10 * DAY, granted + 20 * DAY, granted + 30 * DAY])
    chat.say("プレミアム登録")
    text = chat.text()
    with use_locale("ja"):
        end = date_with_year(until)
    assert f"神山町（徳島県）はプレミアム登録です（{end}まで有効）" in text
    assert "3回／3回" in text and "✅" in text
    assert "いまの条件のままなら、期限の日に自動で1年間更新されます" in text
    # The prefecture co-registration follows its municipality: not shown as a second one.
    assert "徳島県はプレミアム登録です" not in text
    assert "登録証" in chat.labels()


def test_premium_command_when_premium_in_manual_mode_and_under_review(app, client, line, db,
                                                                      chat, join, runner):
    registration_id, until = expire(app, db, chat, join, activities=1, mode="manual",
                                    runner=runner)
    chat.say("プレミアム登録")
    assert "期限を迎えると、神山町（徳島県）の職員が更新を審査します" in chat.text()
    assert "1回／3回" in chat.text()

    job(app, "premium-expiry", until + timedelta(hours=1))
    chat.say("プレミアム登録")
    assert "いま神山町（徳島県）の職員が更新を審査しています" in chat.text()
    assert "結果が出るまでプレミアム登録のままです" in chat.text()


def test_premium_command_shows_the_outlook_and_still_offers_the_basic_ones(app, db, chat, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    join("011002")
    register_by_name(chat, "札幌")
    chat.say("キャンセル")
    granted_premium_only(db, chat, now() - 100 * DAY, KAMIYAMA)
    chat.say("プレミアム登録")
    text = chat.text()
    assert "神山町（徳島県）はプレミアム登録です" in text
    assert "札幌市（北海道）のプレミアム登録の条件です" in text


def test_english_speakers_see_the_outlook_with_premium(app, client, line, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    chat = Chat(app, client, line, "Mary", language="en")
    chat.follow()
    chat.say("Register")
    chat.say("Kamiyama")
    chat.tap("Register")
    chat.say("cancel")
    granted = now() - 340 * DAY
    granted_premium(db, chat, granted)
    job(app, "premium-reminders", one_year_after(granted) - 30 * DAY)
    pushed(app, chat)
    chat.tap("Premium registration")  # sends the command in the person's language
    text = chat.text()
    assert "0 of 3" in text, text
    assert "go back to a basic registration" in text


# Expiry judgement (R8) -----------------------------------------------------------------------

def expire(app, db, chat, join, *, activities: int, mode: str | None = None, runner=None):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    if mode:
        runner.invoke(args=["entities", "set", KAMIYAMA, "--renewal-mode", mode])
    granted = now() - 366 * DAY
    registration_id = granted_premium(db, chat, granted)
    until = one_year_after(granted)
    check_ins(db, chat, [until - (40 + 10 * i) * DAY for i in range(activities)])
    return registration_id, until


def test_r8_auto_renewal_with_enough_activities(app, db, chat, join):
    registration_id, until = expire(app, db, chat, join, activities=3)
    summary = job(app, "premium-expiry", until + timedelta(hours=1))
    assert summary.counts == {"renewed": 1}
    with db.transaction() as session:
        registration = session.get(Registration, registration_id)
        assert registration.kind == "premium"
        assert registration.premium_until == one_year_after(until)
        prefecture = session.scalar(select(Registration).where(
            Registration.entity.has(code=TOKUSHIMA)))
        assert prefecture.premium_until == one_year_after(until)  # R2: it follows
    text = pushed(app, chat)
    assert "プレミアム登録を更新しました" in text
    # Run again: nothing is renewed twice.
    assert job(app, "premium-expiry", until + timedelta(hours=2)).counts == {}
    assert pushed(app, chat) == ""


def test_r8_auto_revert_with_too_few_activities_explains_why(app, db, chat, join):
    registration_id, until = expire(app, db, chat, join, activities=2)
    assert job(app, "premium-expiry", until + timedelta(hours=1)).counts == {"reverted": 1}
    assert held(db, chat) == {KAMIYAMA: ("basic", "direct", "active"),
                              TOKUSHIMA: ("basic", "co_registration", "active")}
    text = pushed(app, chat)
    assert "ベーシック登録に戻りました" in text
    assert "徳島県のプレミアム登録も" in text
    assert "2回／3回" in text and "あと1回必要です" in text
    assert job(app, "premium-expiry", until + timedelta(hours=2)).counts == {}


def test_r8_check_ins_older_than_twelve_months_or_not_designated_do_not_count(app, db, chat, join):
    registration_id, until = expire(app, db, chat, join, activities=2)
    check_ins(db, chat, [until - 400 * DAY])                    # too old
    check_ins(db, chat, [until - 5 * DAY], designated=False)    # not designated (R4)
    assert job(app, "premium-expiry", until + timedelta(hours=1)).counts == {"reverted": 1}


def test_r8_manual_mode_queues_for_staff_and_stays_premium(app, client, line, db, chat, join,
                                                           runner):
    registration_id, until = expire(app, db, chat, join, activities=1, mode="manual",
                                    runner=runner)
    clerk = staff_member(app, client, line, runner)
    assert job(app, "premium-expiry", until + timedelta(hours=1)).counts == {"queued": 1}
    assert held(db, chat)[KAMIYAMA] == ("premium", "direct", "active")
    with db.transaction() as session:
        request = session.scalar(select(PremiumRequest))
        assert (request.purpose, request.status) == ("renewal", "pending")
        assert request.judgement["done"] == 1 and request.judgement["unmet"] == ["activities"]
    assert "職員が更新を審査しています" in pushed(app, chat)
    assert "更新が審査待ちです" in pushed(app, clerk)
    # Again the next day: still one request, nobody told twice.
    assert job(app, "premium-expiry", until + 1 * DAY).counts == {}
    with db.transaction() as session:
        assert session.scalar(select(func.count(PremiumRequest.id))) == 1
    assert pushed(app, chat) == "" and pushed(app, clerk) == ""


def judged_by_the_job(session, registration_id: int, now: datetime):
    """The expiry job's one-query judgement (jobs/judging.py) of one registration."""
    from jobs import judging

    page = select(Registration.id, Registration.person_id, Registration.entity_id,
                  Registration.premium_until).where(Registration.id == registration_id)
    [row] = judging.judge_rows(session, page, now)
    return row


def make_minor(db, chat, consented: bool) -> None:
    with db.transaction() as session:
        person = person_of(session, chat)
        verification = session.scalar(select(IdentityVerification).where(
            IdentityVerification.person_id == person.id))
        verification.birth_date = (now() - 16 * 365 * DAY).date()
        if consented:
            session.add(GuardianConsent(person_id=person.id, provider="sandbox",
                                        subject="guardian", relationship_to_minor="parent",
                                        consented_at=now()))


@pytest.mark.parametrize("case", ["enough", "too_few", "after_expiry_not_counted", "minor",
                                  "minor_consented", "home", "verified_home",
                                  "not_participating"])
def test_the_one_query_judgement_agrees_with_the_premium_flows_own(app, db, chat, join,
                                                                   runner, case):
    """The job's decision (SQL figures + bot.domain.validity) is the premium rules' own
    (bot.services.premium.judge over the 12 months before the expiry), case by case."""
    from bot.domain import validity
    from jobs import judging

    registration_id, until = expire(app, db, chat, join,
                                    activities=2 if case == "too_few" else 3)
    if case == "after_expiry_not_counted":  # belongs to the next year, whenever the job runs
        check_ins(db, chat, [until + timedelta(minutes=30)])
        with db.transaction() as session:  # one of the three drops out of the window
            session.execute(CheckIn.__table__.update()
                            .where(CheckIn.checked_in_at == until - 40 * DAY)
                            .values(checked_in_at=until - 370 * DAY))
    if case.startswith("minor"):
        make_minor(db, chat, consented=case == "minor_consented")
    if case == "home":
        with db.transaction() as session:
            person_of(session, chat).residence_entity_id = entities.by_code(
                session, KAMIYAMA).id
    if case == "verified_home":  # the card's address decides over a declaration (R9)
        with db.transaction() as session:
            person = person_of(session, chat)
            verification = session.scalar(select(IdentityVerification).where(
                IdentityVerification.person_id == person.id))
            verification.address_entity_id = entities.by_code(session, KAMIYAMA).id
            person.residence_entity_id = entities.by_code(session, "363022").id  # 上勝町
    if case == "not_participating":
        runner.invoke(args=["entities", "leave", KAMIYAMA])
    now = until + timedelta(hours=1)
    with db.transaction() as session:
        registration = session.get(Registration, registration_id)
        row = judged_by_the_job(session, registration_id, now)
        single = premium.judge(session, registration.person, registration.entity, now,
                               counted_until=until)
        assert judging.judgement_of(session, row) == single
    assert validity.renewal_holds(row.facts) == single.ok == (case in ("enough",
                                                                      "minor_consented"))
    expected = {"too_few": 2, "after_expiry_not_counted": 2}.get(case, 3)
    assert row.facts.done == single.progress.done == expected


@pytest.mark.parametrize("moment", ["2028-02-29 15:00:00.250000", "2027-03-01 00:00:00",
                                    "2027-12-31 23:59:59.999999"])
def test_r4_window_start_in_sql_is_the_domain_rule_on_both_databases(db, moment):
    """The SQL for twelve_months_before, 29 February included, on SQLite and PostgreSQL."""
    from sqlalchemy import literal

    from bot.domain.checkin import twelve_months_before
    from bot.store.db import UTCDateTime
    from jobs.judging import year_before

    at = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    with db.transaction() as session:
        assert session.scalar(select(year_before(literal(at, UTCDateTime())))) \
            == twelve_months_before(at)


def test_a_dry_run_changes_and_sends_nothing_but_says_what_it_would_do(app, db, chat, join,
                                                                        runner):
    registration_id, until = expire(app, db, chat, join, activities=3)
    at = (until + timedelta(hours=1)).isoformat()
    result = runner.invoke(args=["jobs", "run", "premium-expiry", "--now", at, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "premium-expiry: renewed 1 (dry run: nothing was changed or sent)" in result.output
    with db.transaction() as session:
        assert session.get(Registration, registration_id).premium_until == until
        assert session.scalar(select(func.count(JobMark.id))) == 0
    assert count(db, OutboxMessage) == 0
    result = runner.invoke(args=["jobs", "run", "premium-expiry", "--now", at])
    assert "premium-expiry: renewed 1" in result.output



def test_a_dry_run_over_many_pages_counts_what_the_real_run_then_does(app, client, line, db,
                                                                      join):
    """The dry run judges pages two at a time on their own connections; page by page, in
    any order of completion, its counts are the real run's decisions."""
    join(KAMIYAMA, TOKUSHIMA)
    granted = now() - 366 * DAY
    until = one_year_after(granted)
    for i, activities in enumerate([3, 2, 3, 0, 4, 1, 3]):
        person = Chat(app, client, line, name=f"住民{i}")
        register_by_name(person, "神山")
        person.say("キャンセル")
        granted_premium(db, person, granted)
        check_ins(db, person, [until - (40 + 10 * k) * DAY for k in range(activities)])
    at = until + timedelta(hours=1)
    dry = job(app, "premium-expiry", at, dry_run=True, batch=2)  # four pages
    assert dry.counts == {"renewed": 4, "reverted": 3}
    assert count(db, OutboxMessage) == 0
    assert job(app, "premium-expiry", at, batch=2).counts == dry.counts

# Clean-up ----------------------------------------------------------------------------------

def test_cleanup_deletes_only_what_is_stale_or_expired(app, db, chat, join, runner):
    chat.say("登録する")  # a conversation in progress
    start = now()
    runner.invoke(args=["staff", "invite", KAMIYAMA])
    with db.transaction() as session:
        session.add(ProcessedEvent(webhook_event_id="old", processed_at=start - 8 * DAY))
    summary = job(app, "cleanup", start + 13 * DAY)
    assert set(summary.counts) == {"webhook event IDs deleted"}  # "old" and the chat's own
    with db.transaction() as session:
        assert session.get(ProcessedEvent, "old") is None
        assert session.scalar(select(func.count(Person.conversation))) == 1
    summary = job(app, "cleanup", start + 15 * DAY)
    assert summary.counts == {"stale conversations ended": 1}
    with db.transaction() as session:
        assert session.scalar(select(func.count(Person.conversation))) == 0
        assert session.scalar(select(func.count(StaffInvitation.id))) == 1  # expired 12 days ago
    assert job(app, "cleanup", start + 34 * DAY).counts == {"staff invitations deleted": 1}
    assert job(app, "cleanup", start + 35 * DAY).counts == {}
    chat.say("神山")  # the old conversation is over: the text starts afresh
    assert "神山町" in chat.text()


# By hand -----------------------------------------------------------------------------------

def test_jobs_list_names_every_job(runner):
    result = runner.invoke(args=["jobs", "list"])
    for name in ("premium-expiry", "premium-reminders", "inactivity", "cleanup"):
        assert name in result.output


@pytest.mark.parametrize("bad", ["yesterday", "2027-06-01T09:00:00"])
def test_jobs_run_refuses_a_moment_it_cannot_read(runner, bad):
    result = runner.invoke(args=["jobs", "run", "cleanup", "--now", bad])
    assert result.exit_code == 2
    assert "--now" in result.output


def test_jobs_run_refuses_an_unknown_job(runner):
    result = runner.invoke(args=["jobs", "run", "everything"])
    assert result.exit_code == 2
    assert "premium-expiry" in result.output


def test_bad_periods_in_the_configuration_are_a_clear_error(app, runner):
    app.config.update(BASIC_LAPSE_DAYS="30", BASIC_LAPSE_PROMPT_DAYS="60")
    result = runner.invoke(args=["jobs", "run", "inactivity"])
    assert result.exit_code == 1
    assert "BASIC_LAPSE_PROMPT_DAYS" in result.output
