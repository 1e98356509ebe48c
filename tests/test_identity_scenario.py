"""The scenario verbs of identity verification: `verifies identity` and `gets guardian consent`
walk the real pages through the sandbox provider (docs/scenarios.md)."""

from __future__ import annotations

import pytest

from cli.scenario import ScenarioError, load_scenarios, run_scenario_file
from tests.factories import write_scenario

MINOR = """
title: 未成年が本人確認し、保護者が同意する
users:
  sakura: {name: さくら, language: ja}
steps:
  - sakura follows
  - sakura says: 本人確認
  - bot offers: 本人確認に進む
  - sakura verifies identity: age17
  - output says: LINEの「さくら」さんのトーク
  - sakura says from output: "本人確認コード \\\\d{6}"
  - bot says: 保護者の同意が必要です
  - bot says: 保護者の方に送り
  - sakura gets guardian consent: {persona: parent, relationship: 親権者}
  - output says: 同意を受け付けました
  - run: worker --once
  - bot says: 保護者の方の同意が届きました
  - bot offers: プレミアム登録
"""

ADULT = """
title: Cancelling, then verifying
users:
  emma: {name: Emma, language: en}
steps:
  - emma follows
  - emma says: Verify identity
  - emma verifies identity: cancel
  - output says: Verification cancelled
  - emma says: Verify identity
  - emma verifies identity: adult
  - output says: "One more step: send the code in LINE"
  - emma says from output: "Verification code \\\\d{6}"
  - bot says: You are verified with your My Number Card
"""


@pytest.mark.parametrize("scenario", [MINOR, ADULT], ids=["minor and guardian", "cancel, adult"])
def test_identity_verbs_play_the_real_pages(app, tmp_path, scenario):
    [result] = run_scenario_file(app, write_scenario(tmp_path, scenario))
    assert result.passed, result.summary()


def test_verifying_without_the_button_fails_and_says_why(app, tmp_path):
    [result] = run_scenario_file(app, write_scenario(tmp_path, """
        title: no button
        users: {hanako: {name: 花子, language: ja}}
        steps:
          - hanako follows
          - hanako verifies identity: adult
    """))
    assert not result.passed and "send 本人確認 first" in result.failure


def test_a_guardian_step_before_the_link_arrived_says_to_run_the_worker(app, tmp_path):
    [result] = run_scenario_file(app, write_scenario(tmp_path, """
        title: no link yet
        users: {sakura: {name: さくら, language: ja}}
        steps:
          - sakura follows
          - sakura says: 本人確認
          - sakura verifies identity: age17
          - "sakura gets guardian consent": {persona: parent, relationship: 親権者}
    """))
    assert not result.passed and "worker --once" in result.failure


@pytest.mark.parametrize("step, message", [
    ("hanako verifies identity: robot", "a persona of the sandbox provider"),
    ("hanako verifies identity", "needs a value"),
    ("'hanako gets guardian consent': parent", "{persona: parent, relationship: 親権者}"),
    ("'hanako gets guardian consent': {persona: parent, relationship: 友人}", "親権者"),
])
def test_bad_identity_steps_are_refused_when_the_file_is_read(tmp_path, step, message):
    path = write_scenario(tmp_path, f"""
        title: bad
        users: {{hanako: {{name: 花子, language: ja}}}}
        steps:
          - {step}
    """)
    with pytest.raises(ScenarioError, match="step 1") as refused:
        load_scenarios(path)
    assert message in str(refused.value)
