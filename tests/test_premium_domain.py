"""Premium rules as plain data (bot/domain/premium.py): R4, R5, R7 with its exception, R8, R2."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.checkin import Progress
from bot.domain.premium import (
    Identity,
    Judgement,
    Unmet,
    counted,
    judge,
    one_year_after,
    prefecture_falls_back,
)
from bot.domain.registration import Held, Target
from tests.factories import (
    FUCHU_HIROSHIMA,
    HIROSHIMA,
    HOKKAIDO,
    KAMIYAMA,
    SAPPORO,
    TOKUSHIMA,
    TOKYO,
    TOKYO_CHIYODA,
)

ADULT = Identity(verified=True)
ENOUGH = Progress(3, 3)


def town(code, prefecture, kind="basic", origin="direct"):
    return Held(code, prefecture, False, kind, origin)


def prefecture(code, kind="basic", origin="co_registration"):
    return Held(code, code, True, kind, origin)


def target(code, prefecture_code, is_prefecture=False, participating=True):
    return Target(code, prefecture_code, is_prefecture, participating)


KAMIYAMA_TARGET = target(KAMIYAMA, TOKUSHIMA)
REGISTERED = [town(KAMIYAMA, TOKUSHIMA), prefecture(TOKUSHIMA)]


def test_everything_holds():
    judgement = judge(KAMIYAMA_TARGET, REGISTERED, ENOUGH, ADULT, residence_code=None)
    assert judgement.ok and judgement.unmet == ()
    assert judgement.counted_now == () and judgement.counted_after == (KAMIYAMA,)


def test_r4_too_few_designated_activities_keeps_the_figures():
    judgement = judge(KAMIYAMA_TARGET, REGISTERED, Progress(2, 3), ADULT, None)
    assert judgement.unmet == (Unmet.ACTIVITIES,)
    assert (judgement.progress.done, judgement.progress.required, judgement.progress.missing) \
        == (2, 3, 1)


def test_r5_identity_must_be_verified():
    judgement = judge(KAMIYAMA_TARGET, REGISTERED, ENOUGH, Identity(verified=False), None)
    assert judgement.unmet == (Unmet.IDENTITY,)


def test_r5_r10_a_minor_needs_a_guardians_consent():
    minor = Identity(verified=True, minor=True, guardian_consented=False)
    assert judge(KAMIYAMA_TARGET, REGISTERED, ENOUGH, minor, None).unmet == (Unmet.GUARDIAN,)
    consented = Identity(verified=True, minor=True, guardian_consented=True)
    assert judge(KAMIYAMA_TARGET, REGISTERED, ENOUGH, consented, None).ok


def test_r5_r9_not_at_the_home_municipality_but_its_prefecture_is_fine():
    judgement = judge(KAMIYAMA_TARGET, REGISTERED, ENOUGH, ADULT, residence_code=KAMIYAMA)
    assert judgement.home and judgement.unmet == (Unmet.HOME,)
    at_prefecture = judge(target(TOKUSHIMA, TOKUSHIMA, True), REGISTERED, ENOUGH, ADULT, KAMIYAMA)
    assert at_prefecture.ok and not at_prefecture.home


def test_premium_needs_a_registration_and_a_participating_entity():
    assert judge(KAMIYAMA_TARGET, [], ENOUGH, ADULT, None).unmet == (Unmet.NOT_REGISTERED,)
    closed = target(KAMIYAMA, TOKUSHIMA, participating=False)
    assert Unmet.NOT_PARTICIPATING in judge(closed, REGISTERED, ENOUGH, ADULT, None).unmet


def test_every_unmet_rule_is_listed_in_order():
    judgement = judge(KAMIYAMA_TARGET, REGISTERED, Progress(0, 3), Identity(False), KAMIYAMA)
    assert judgement.unmet == (Unmet.ACTIVITIES, Unmet.IDENTITY, Unmet.HOME)


THREE_PREMIUM = [town(SAPPORO, HOKKAIDO, "premium"), prefecture(HOKKAIDO, "premium"),
                 town(FUCHU_HIROSHIMA, HIROSHIMA, "premium"), prefecture(HIROSHIMA, "premium"),
                 town(TOKYO_CHIYODA, TOKYO, "premium"), prefecture(TOKYO, "premium")]


def test_r7_prefecture_co_registrations_never_add_to_the_count():
    assert counted(THREE_PREMIUM) == (SAPPORO, FUCHU_HIROSHIMA, TOKYO_CHIYODA)


def test_r7_a_fourth_premium_is_refused():
    judgement = judge(KAMIYAMA_TARGET, THREE_PREMIUM + REGISTERED, ENOUGH, ADULT, None)
    assert judgement.unmet == (Unmet.TOO_MANY_PLACES,)
    assert len(judgement.counted_now) == 3 and len(judgement.counted_after) == 4


def test_r7_prefecture_not_counted_when_municipality_registered():
    # 神山町 premium + 徳島県 applied for directly = 1
    assert counted([town(KAMIYAMA, TOKUSHIMA, "premium"),
                    prefecture(TOKUSHIMA, "premium", "direct")]) == (KAMIYAMA,)


def test_r7_exception_a_municipality_in_a_premium_prefecture_replaces_it():
    held = [town(SAPPORO, HOKKAIDO, "premium"), prefecture(HOKKAIDO, "premium"),
            town(FUCHU_HIROSHIMA, HIROSHIMA, "premium"), prefecture(HIROSHIMA, "premium"),
            prefecture(TOKUSHIMA, "premium", "direct"), town(KAMIYAMA, TOKUSHIMA)]
    judgement = judge(KAMIYAMA_TARGET, held, ENOUGH, ADULT, None)
    assert judgement.ok
    assert judgement.counted_now == (SAPPORO, FUCHU_HIROSHIMA, TOKUSHIMA)
    assert set(judgement.counted_after) == {SAPPORO, FUCHU_HIROSHIMA, KAMIYAMA}
    assert judgement.replaced == (TOKUSHIMA,)


def test_r7_a_prefecture_with_a_premium_municipality_can_be_applied_for_at_the_cap():
    held = THREE_PREMIUM[:4] + [town(TOKYO_CHIYODA, TOKYO, "premium"), prefecture(TOKYO, "basic")]
    judgement = judge(target(TOKYO, TOKYO, True), held, ENOUGH, ADULT, None)
    assert judgement.ok and len(judgement.counted_after) == 3


def test_a_renewal_is_judged_without_counting_itself_twice():
    held = THREE_PREMIUM
    judgement = judge(target(SAPPORO, HOKKAIDO), held, ENOUGH, ADULT, None)
    assert judgement.ok and judgement.counted_after == judgement.counted_now


def test_judgement_round_trips_through_json():
    judgement = judge(KAMIYAMA_TARGET, THREE_PREMIUM + REGISTERED, Progress(1, 3),
                      Identity(True, True, False), None)
    assert Judgement.from_json(judgement.to_json()) == judgement


def test_r8_one_year_of_validity():
    assert one_year_after(datetime(2027, 4, 1, 3, tzinfo=UTC)) == datetime(2028, 4, 1, 3, tzinfo=UTC)
    assert one_year_after(datetime(2028, 2, 29, tzinfo=UTC)) == datetime(2029, 2, 28, tzinfo=UTC)


def test_r2_the_prefecture_falls_back_with_its_last_premium_municipality():
    after = [town(KAMIYAMA, TOKUSHIMA, "basic"), prefecture(TOKUSHIMA, "premium")]
    assert prefecture_falls_back(TOKUSHIMA, after, premium_applied_directly=False)
    assert not prefecture_falls_back(TOKUSHIMA, after, premium_applied_directly=True)
    another = after + [town("362018", TOKUSHIMA, "premium")]
    assert not prefecture_falls_back(TOKUSHIMA, another, premium_applied_directly=False)
