"""The operators' command line."""

from __future__ import annotations

from bot.store import migrate


def test_join_show_leave(runner):
    result = runner.invoke(args=["entities", "join", "363421", "360007"])
    assert result.exit_code == 0
    assert "363421 神山町 participates." in result.output
    shown = runner.invoke(args=["entities", "show", "363421"]).output
    assert "participating: yes" in shown and "prefecture: 徳島県" in shown
    assert "registrations: basic 0, premium 0" in shown
    runner.invoke(args=["entities", "leave", "363421"])
    assert "participating: no" in runner.invoke(args=["entities", "show", "363421"]).output


def test_unknown_codes_are_named_and_nothing_changes(runner, db):
    result = runner.invoke(args=["entities", "join", "363421", "999999", "abc"])
    assert result.exit_code != 0
    assert "Unknown entity code(s): 999999, abc" in result.output
    assert "participating: no" in runner.invoke(args=["entities", "show", "363421"]).output


def test_load_twice_is_idempotent(runner):
    result = runner.invoke(args=["entities", "load"])
    assert result.exit_code == 0
    assert result.output.startswith("0 added, 0 updated: 47 prefectures, 1741 municipalities")


def test_db_upgrade_is_at_head(runner, db):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert migrate.current(db) is not None
