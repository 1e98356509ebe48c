"""Expiry-judgement benchmark: judge N premium registrations with 3·N check-ins, against one SQL
aggregate query over the same data in the same run.

    .venv/bin/python benchmarks/judge.py                      # 100,000 and 1,000,000
    .venv/bin/python benchmarks/judge.py --sizes 100000 --batch 20000

For each size, on a fresh PostgreSQL database `bench_<random>` (dropped at the end, even on
Ctrl+C):

1. migrate, load the shipped entities, make 363421 神山町 participate; COPY N people (following,
   identity verified), N premium registrations there whose year ended in the last 24 hours
   (all due), 100 designated activities with one session each, and 3·N check-ins spread over
   the last 15 months (so some fall outside R4's 12 months: some renew, some revert);
2. **query** — in a child process: one SQL aggregate (designated check-ins in the 12 months
   before each due registration's expiry, `GROUP BY`), every row fetched through a server-side
   cursor;
3. **judge** — in a child process: `furusato jobs run premium-expiry --dry-run` as a function
   call (`jobs.run_job(..., dry_run=True)`): keyset pages of due registrations, each page
   judged with ONE query that returns every figure the decision needs (jobs/judging.py:
   R4 counted in SQL, R1, R5, R9, R7) and a few comparisons per row
   (bot.domain.validity.renewal_holds) — what a real run decides, without writing.

Prints seconds, rows/s and peak RSS (VmHWM of the child) of both, and the judge/query ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import common

KAMIYAMA = "363421"
ACTIVITIES = 100
CHUNK = 100_000


def _connect(url: str):
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))


def populate(url: str, count: int, now: datetime) -> float:
    started = time.perf_counter()
    with _connect(url) as connection:
        entity_id = connection.execute("SELECT id FROM entity WHERE code = %s",
                                       (KAMIYAMA,)).fetchone()[0]
        with connection.cursor() as cursor:
            with cursor.copy("COPY person (line_user_id, following, created_at, last_access_at)"
                             " FROM STDIN") as copy:
                for start in range(0, count, CHUNK):
                    copy.write("".join(f"U{i:032x}\tt\t{now.isoformat()}\t{now.isoformat()}\n"
                                       for i in range(start, min(count, start + CHUNK))))
            first = cursor.execute("SELECT min(id) FROM person").fetchone()[0]
            # Due within the last day; the order of expiry is not the order of people.
            cursor.execute(
                "INSERT INTO registration (person_id, entity_id, kind, status, origin,"
                " registered_at, premium_since, premium_until, premium_origin,"
                " counted_in_statistics)"
                " SELECT id, %(e)s, 'premium', 'active', 'direct', %(reg)s, %(since)s,"
                " %(now)s - (abs(hashint4(id)::bigint) %% 86400) * interval '1 second', 'direct', true"
                " FROM person", {"e": entity_id, "reg": now - timedelta(days=500),
                                 "since": now - timedelta(days=366), "now": now})
            cursor.execute(
                "INSERT INTO identity_verification (person_id, provider, subject, verified_at,"
                " birth_date, consent_version, consented_at)"
                " SELECT id, 'sandbox', 'sub' || id, %(t)s, date '1990-04-01', '1', %(t)s"
                " FROM person", {"t": now - timedelta(days=400)})
            cursor.execute(
                "INSERT INTO activity (entity_id, title, category, designated, place, status,"
                " created_at) SELECT %(e)s, 'bench ' || g, 'volunteer', true, 'bench', 'open',"
                " %(t)s FROM generate_series(1, %(n)s) g", {"e": entity_id, "n": ACTIVITIES,
                                                           "t": now - timedelta(days=500)})
            cursor.execute(
                "INSERT INTO activity_session (activity_id, starts_at, ends_at)"
                " SELECT id, %(t)s, %(t)s + interval '2 hours' FROM activity",
                {"t": now - timedelta(days=450)})
            sessions = [row[0] for row in cursor.execute(
                "SELECT id FROM activity_session ORDER BY id").fetchall()]
            # Three check-ins per person at three different sessions, over the last 15 months.
            cursor.execute(
                "INSERT INTO check_in (session_id, person_id, checked_in_at, method)"
                " SELECT (%(s)s::int[])[1 + ((p.id - %(first)s) * 3 + k) %% %(n)s], p.id,"
                "        %(now)s - (abs(hashint4(p.id * 3 + k)::bigint) %% (450 * 86400))"
                "                  * interval '1 second' - interval '1 hour', 'link'"
                " FROM person p CROSS JOIN generate_series(0, 2) k",
                {"s": sessions, "first": first, "n": len(sessions), "now": now})
        connection.commit()
        connection.autocommit = True
        for table in ("person", "registration", "identity_verification", "check_in",
                      "activity", "activity_session"):
            connection.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - started


AGGREGATE = """
SELECT r.id, count(a.id) AS done
FROM registration r
LEFT JOIN check_in c ON c.person_id = r.person_id
      AND c.checked_in_at >= ((r.premium_until AT TIME ZONE 'UTC') - interval '1 year')
                             AT TIME ZONE 'UTC'
      AND c.checked_in_at <= r.premium_until
LEFT JOIN activity_session s ON s.id = c.session_id
LEFT JOIN activity a ON a.id = s.activity_id AND a.entity_id = r.entity_id
      AND a.designated AND a.status <> 'cancelled'
WHERE r.kind = 'premium' AND r.status = 'active' AND r.premium_until <= %(now)s
GROUP BY r.id
"""


def peak_rss_kb() -> int:
    for line in open(f"/proc/{os.getpid()}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def child_query(url: str, now: str) -> None:
    moment = datetime.fromisoformat(now)
    baseline = peak_rss_kb()
    started = time.perf_counter()
    rows = renewing = 0
    with _connect(url) as connection:
        with connection.cursor(name="aggregate") as cursor:  # server-side: flat memory
            cursor.itersize = 10_000
            cursor.execute(AGGREGATE, {"now": moment})
            for _id, done in cursor:
                rows += 1
                renewing += done >= 3
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows,
                      "renewing": renewing, "baseline_kb": baseline, "peak_kb": peak_rss_kb()}))


def child_judge(url: str, now: str, batch: int) -> None:
    from jobs import run_job
    from web import create_app

    app = create_app({"FURUSATO_ENV": "test", "DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    baseline = peak_rss_kb()
    started = time.perf_counter()
    summary = run_job(app, "premium-expiry", datetime.fromisoformat(now), dry_run=True,
                      batch=batch)
    print(json.dumps({"seconds": time.perf_counter() - started, "counts": dict(summary.counts),
                      "baseline_kb": baseline, "peak_kb": peak_rss_kb()}))


def in_child(*args: str) -> dict:
    process = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                             cwd=common.ROOT)
    if process.returncode != 0:
        raise RuntimeError(process.stderr[-3000:])
    return json.loads(process.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, url, now, *rest = args.child
        child_query(url, now) if kind == "query" else child_judge(url, now, int(rest[0]))
        return
    common.install_signal_handlers()
    print(common.machine_description())
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        with common.bench_database("bench_judge") as url:
            common.prepare_database(url, (KAMIYAMA, "360007"))
            now = datetime.now(UTC)
            made = populate(url, size, now)
            print(f"{size:,} registrations, {3 * size:,} check-ins written in {made:.0f} s",
                  file=sys.stderr)
            query = in_child("--child", "query", url, now.isoformat())
            judge = in_child("--child", "judge", url, now.isoformat(), str(args.batch))
            judged = sum(judge["counts"].values())
            assert judged == query["rows"] == size, (judged, query["rows"], size)
            assert judge["counts"].get("renewed", 0) == query["renewing"], (judge, query)
            rows.append([f"{size:,}", f"{query['seconds']:.2f}", f"{judge['seconds']:.2f}",
                         f"{judge['seconds'] / query['seconds']:.2f}×",
                         f"{size / judge['seconds']:,.0f}",
                         f"{query['peak_kb'] // 1024} MiB", f"{judge['peak_kb'] // 1024} MiB",
                         f"{judge['baseline_kb'] // 1024} MiB",
                         ", ".join(f"{k} {v:,}" for k, v in sorted(judge["counts"].items()))])
    print(common.table(["due registrations", "SQL aggregate s", "judge s", "judge / query",
                        "judged/s", "query peak RSS", "judge peak RSS", "judge RSS at start",
                        "decisions"], rows))


if __name__ == "__main__":
    main()
