"""Operators set up activities in bulk from the command line."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.models import Activity, ActivitySession
from tests.factories import KAMIYAMA


def test_create_list_close_and_cancel(runner, db):
    result = runner.invoke(args=[
        "activity", "create", KAMIYAMA, "--title", "棚田の草刈り", "--category", "volunteer",
        "--place", "上分", "--date", "2099-06-01", "--date", "2099-06-08",
        "--start", "09:00", "--end", "11:30"])
    assert result.exit_code == 0, result.output
    assert "2 session(s)" in result.output
    listed = runner.invoke(args=["activity", "list", KAMIYAMA]).output
    assert "棚田の草刈り" in listed and "2099-06-01 09:00–11:30" in listed
    with db.transaction() as session:
        activity_id = session.scalar(select(Activity.id))
    assert runner.invoke(args=["activity", "close", KAMIYAMA, str(activity_id)]).exit_code == 0
    again = runner.invoke(args=["activity", "cancel", KAMIYAMA, str(activity_id)])
    assert again.exit_code != 0 and "already closed" in again.output
    other = runner.invoke(args=["activity", "close", "363022", str(activity_id)])
    assert other.exit_code != 0 and "has no activity" in other.output


def test_import_groups_rows_into_activities_and_is_all_or_nothing(runner, db, tmp_path):
    good = tmp_path / "activities.csv"
    good.write_text(
        "code,title,category,designated,place,date,start,end\n"
        f"{KAMIYAMA},棚田の草刈り,volunteer,yes,上分,2099-06-01,09:00,11:00\n"
        f"{KAMIYAMA},棚田の草刈り,volunteer,yes,上分,2099-06-08,09:00,11:00\n"
        f"{KAMIYAMA},秋祭り,event_help,no,神社,2099-10-10,10:00,16:00\n", encoding="utf-8")
    result = runner.invoke(args=["activity", "import", str(good)])
    assert result.exit_code == 0, result.output
    with db.transaction() as session:
        assert session.query(Activity).count() == 2
        assert session.query(ActivitySession).count() == 3
    bad = tmp_path / "bad.csv"
    bad.write_text("code,title,category,designated,place,date,start,end\n"
                   f"{KAMIYAMA},x,volunteer,yes,p,2099-01-01,09:00,11:00\n"
                   f"{KAMIYAMA},y,return_gift,yes,p,2099-01-01,09:00,11:00\n", encoding="utf-8")
    result = runner.invoke(args=["activity", "import", str(bad)])
    assert result.exit_code != 0 and "line 3" in result.output
    with db.transaction() as session:
        assert session.query(Activity).count() == 2
