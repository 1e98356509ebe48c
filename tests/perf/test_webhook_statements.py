"""Statement-count guards: not behaviour, but the work behind it.

A webhook event costs a few SQL statements, and every statement costs CPU on the web process
(SQLAlchemy's execution) and a round trip to the database: one more on the busiest flow is
paid by every event of every person (docs/benchmarks.md, "Where the time goes now"). A failure
here means a change added statements or made the session flush at commit; if that is worth
it, say why and set the new count.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.devtools.statements import counting_statements
from bot.services import entities
from tests.factories import Chat


def test_the_registration_flow_sends_few_statements(app, client, db, line, join):
    """Statements per event, COMMIT included. PostgreSQL claims the event and locks the person's
    row in one statement; SQLite claims it in a statement of its own, begins with
    BEGIN IMMEDIATE and inserts the two registrations one by one."""
    join("363421", "360007")
    with db.transaction() as session:
        entities.by_code(session, "363421")  # the names and codes are read once per process
    chat = Chat(app, client, line)
    sent = []

    def count():
        sent[-1] += 1

    flushed = []

    @event.listens_for(Session, "before_flush")
    def flush(session, _context, _instances):
        flushed.append([type(o).__name__ for o in (*session.dirty, *session.new)])

    try:
        with counting_statements(db.engine, count):
            for act in (chat.follow, lambda: chat.say("登録する"), lambda: chat.say("神山"),
                        lambda: chat.tap("登録する")):
                sent.append(0)
                act()
    finally:
        event.remove(Session, "before_flush", flush)
    assert "登録しました" in chat.text()
    # The conversation's state comes with the person's row: written once, never read alone.
    assert sent == {"postgresql": [2, 3, 5, 6], "sqlite": [4, 5, 7, 9]}[db.engine.dialect.name]
    # Each change goes out as a statement of its own; the session has nothing left to flush at
    # commit (a flush, even of values set again unchanged, costs as much CPU as a statement).
    assert flushed == []
