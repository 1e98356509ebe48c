"""The clock's jobs (issue #6, R8): inactivity prompt and lapse, premium reminders, expiry
judgement, clean-up; idempotent, resumable, run by hand with `furusato jobs`.

What people see is read where they would see it: the worker sends the outbox to the local
LINE platform, and the chat reads it from there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot import entities, premium
from bot.activities import create as create_activity
from bot.devtools.time_travel import pass_time
from bot.domain.premium import one_year_after
from bot.jobs import run_job
from bot.models import (
    CheckIn,
    ConversationState,
    IdentityVerification,
    JobMark,
    OutboxMessage,
    Person,
    PremiumRequest,
    ProcessedEvent,
    Registration,
    StaffInvitation,
)
from bot.worker import Worker
from tests.factories import KAMIYAMA, TOKUSHIMA, Chat, held, make_staff, register_by_name

DAY = timedelta(days=1)


def real_now() -> datetime:
    return datetime.now(UTC)


_clock = {"at": None}


def job(app, name: str, at: datetime, **options):
    """Run a job as if at `at`; what it queues is due from then on, so `pushed` sends then."""
    _clock["at"] = at
    return run_job(app, name, at, **options)


def pushed(app, chat) -> str:
    """Send the outbox and return what reached this chat since it last looked."""
    Worker(app, threads=1).run_once(max(real_now(), _clock["at"] or real_now()))
    deliveries = chat.line.deliveries(chat.user_id)
    chat.last = [m for d in deliveries[chat.seen:] for m in d.messages]
    chat.seen = len(deliveries)
    return chat.text()


def outbox_count(db) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count(OutboxMessage.id)))


def registered(chat, join) -> None:
    join(KAMIYAMA, TOKUSHIMA)
    register_by_name(chat, "神山")
    chat.say("キャンセル")


def person_of(session, chat) -> Person:
    return session.scalar(select(Person).where(Person.line_user_id == chat.user_id))


# Premium as the premium flow leaves it (bot/premium.py: grant), set up directly -------------

def make_premium(db, chat, since: datetime, code: str = KAMIYAMA) -> int:
    """The chat's registration at `code` premium from `since` for a year, with the prefecture
    co-registration following it (R2) and a verified identity (R5)."""
    until = one_year_after(since)
    with db.transaction() as session:
        person = person_of(session, chat)
        session.add(IdentityVerification(
            person_id=person.id, provider="sandbox", subject=f"sub-{person.id}",
            verified_at=since, consent_version="1", consented_at=since))
        for registration in session.scalars(select(Registration).where(
                Registration.person_id == person.id)):
            registration.kind = "premium"
            registration.premium_since, registration.premium_until = since, until
            registration.premium_origin = ("direct" if registration.entity.code == code
                                           else "co_registration")
        return session.scalar(select(Registration.id).join(Registration.entity).where(
            Registration.person_id == person.id, Registration.entity.has(code=code)))


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
    registered(chat, join)
    pass_time(db, 701 * DAY)
    summary = job(app, "inactivity", real_now())
    assert summary.counts == {"prompted": 1}
    text = pushed(app, chat)
    assert "ふるさと住民登録を続けますか" in text
    assert "神山町（徳島県）、徳島県" in text
    assert "登録を続ける" in chat.labels()
    prompt = list(chat.last)

    # Twice, or again the next day: no second prompt for the same inactivity.
    assert job(app, "inactivity", real_now()).counts == {"waiting": 1}
    pass_time(db, DAY)
    assert job(app, "inactivity", real_now()).counts == {"waiting": 1}
    assert pushed(app, chat) == ""

    chat.tap("登録を続ける", prompt)
    assert "登録を続けます" in chat.text()
    # The tap was access: a month later, past the old lapse date, nothing is due.
    pass_time(db, 31 * DAY)
    assert job(app, "inactivity", real_now()).counts == {}
    assert held(db, chat)[KAMIYAMA][2] == "active"


def test_r8_basic_registrations_lapse_after_the_prompt_and_the_period(app, db, chat, join):
    registered(chat, join)
    now = real_now()
    job(app, "inactivity", now + 701 * DAY)
    pushed(app, chat)
    assert job(app, "inactivity", now + 729 * DAY).counts == {"waiting": 1}
    summary = job(app, "inactivity", now + 731 * DAY)
    assert summary.counts == {"lapsed": 1}
    assert "ベーシック登録を終了しました" in pushed(app, chat)
    assert {code: status for code, (_k, _o, status) in held(db, chat).items()} == {
        KAMIYAMA: "ended", TOKUSHIMA: "ended"}
    with db.transaction() as session:
        reasons = set(session.scalars(select(Registration.end_reason)))
    assert reasons == {"lapsed", "co_registration_ended"}
    assert job(app, "inactivity", now + 732 * DAY).counts == {}
    assert pushed(app, chat) == ""


def test_r8_a_late_prompt_still_gives_the_full_notice(app, db, chat, join):
    """The clock was down: the prompt goes out at day 800, the lapse waits 30 more days."""
    registered(chat, join)
    now = real_now()
    assert job(app, "inactivity", now + 800 * DAY).counts == {"prompted": 1}
    assert job(app, "inactivity", now + 829 * DAY).counts == {"waiting": 1}
    assert job(app, "inactivity", now + 831 * DAY).counts == {"lapsed": 1}


def test_r8_someone_who_blocked_the_account_lapses_on_time_without_a_prompt(app, db, chat, join):
    registered(chat, join)
    chat.unfollow()
    now = real_now()
    assert job(app, "inactivity", now + 701 * DAY).counts == {"waiting": 1}
    assert job(app, "inactivity", now + 731 * DAY).counts == {"lapsed": 1}
    assert outbox_count(db) == 0


def test_r8_the_periods_are_configurable(app, db, chat, join):
    registered(chat, join)
    app.config.update(BASIC_LAPSE_DAYS="100", BASIC_LAPSE_PROMPT_DAYS="10")
    now = real_now()
    assert job(app, "inactivity", now + 89 * DAY).counts == {}
    assert job(app, "inactivity", now + 91 * DAY).counts == {"prompted": 1}
    assert job(app, "inactivity", now + 101 * DAY).counts == {"lapsed": 1}


def test_r8_keep_tap_after_the_lapse_says_so_politely(app, db, chat, join):
    registered(chat, join)
    now = real_now()
    job(app, "inactivity", now + 701 * DAY)
    pushed(app, chat)
    prompt = list(chat.last)
    chat.unfollow()
    job(app, "inactivity", now + 731 * DAY)
    chat.follow()
    chat.tap("登録を続ける", prompt)
    assert "すでに終了しています" in chat.text()
    assert held(db, chat)[KAMIYAMA][2] == "ended"


def test_r8_every_kind_of_access_moves_the_last_access(app, db, chat, join):
    """Message, postback and check-in: each one restarts the period (handlers, LIFF view)."""
    registered(chat, join)

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
    registered(chat, join)
    granted = real_now() - 340 * DAY
    make_premium(db, chat, granted)
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
    registered(chat, join)
    granted = real_now() - 360 * DAY
    make_premium(db, chat, granted)
    until = one_year_after(granted)
    assert job(app, "premium-reminders", until - 5 * DAY).counts == {
        "reminded 7 days before": 1}
    assert job(app, "premium-reminders", until - 4 * DAY).counts == {}


def test_r8_reminder_in_manual_mode_says_staff_will_review(app, db, chat, join, runner):
    registered(chat, join)
    runner.invoke(args=["entities", "set", KAMIYAMA, "--renewal-mode", "manual"])
    granted = real_now() - 340 * DAY
    make_premium(db, chat, granted)
    job(app, "premium-reminders", one_year_after(granted) - 30 * DAY)
    assert "職員が更新を審査します" in pushed(app, chat)


# Expiry judgement (R8) -----------------------------------------------------------------------

def expire(app, db, chat, join, *, activities: int, mode: str | None = None, runner=None):
    registered(chat, join)
    if mode:
        runner.invoke(args=["entities", "set", KAMIYAMA, "--renewal-mode", mode])
    granted = real_now() - 366 * DAY
    registration_id = make_premium(db, chat, granted)
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
    clerk = Chat(app, client, line, "職員")
    clerk.follow()
    make_staff(runner, clerk, KAMIYAMA)
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


def test_the_batch_judgement_agrees_with_the_premium_flows_own(app, db, chat, join):
    from bot.jobs import judging

    registration_id, until = expire(app, db, chat, join, activities=2)
    now = until + timedelta(hours=1)
    with db.transaction() as session:
        registration = session.get(Registration, registration_id)
        due = judging.Due(registration.id, registration.person_id, registration.entity_id,
                          registration.premium_until)
        [batch] = judging.judge(session, [due], judging.Places(), now)
        try:
            single = premium.judge(session, registration.person, registration.entity, now)
        except ImportError:  # bot.identity.records is the identity helper's, still to come
            pytest.skip("bot.identity.records is not there yet")
    assert batch == single


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
    assert outbox_count(db) == 0
    result = runner.invoke(args=["jobs", "run", "premium-expiry", "--now", at])
    assert "premium-expiry: renewed 1" in result.output


# Clean-up ----------------------------------------------------------------------------------

def test_cleanup_deletes_only_what_is_stale_or_expired(app, db, chat, join, runner):
    chat.say("登録する")  # a conversation in progress
    now = real_now()
    runner.invoke(args=["staff", "invite", KAMIYAMA])
    with db.transaction() as session:
        session.add(ProcessedEvent(webhook_event_id="old", processed_at=now - 8 * DAY))
    summary = job(app, "cleanup", now + 13 * DAY)
    assert set(summary.counts) == {"webhook event IDs deleted"}  # "old" and the chat's own
    with db.transaction() as session:
        assert session.get(ProcessedEvent, "old") is None
        assert session.scalar(select(func.count()).select_from(ConversationState)) == 1
    summary = job(app, "cleanup", now + 15 * DAY)
    assert summary.counts == {"stale conversations ended": 1}
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ConversationState)) == 0
        assert session.scalar(select(func.count(StaffInvitation.id))) == 1  # expired 12 days ago
    assert job(app, "cleanup", now + 34 * DAY).counts == {"staff invitations deleted": 1}
    assert job(app, "cleanup", now + 35 * DAY).counts == {}
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
