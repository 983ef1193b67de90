"""Summaries: dashboard and single-wound trajectory latency against the raw SQL
that fetches the same rows.

Seeds 2,000 open wounds x 20 weekly assessments (bulk insert) in a temporary
SQLite database, and in PostgreSQL too when BENCH_POSTGRES_URL is set (a
server URL such as postgresql+psycopg://postgres@127.0.0.1:5432/test: a
throw-away database is created on that server and dropped afterwards). The
trajectory wound has what a real one has (the seed case): assessments,
procedures, a radiotherapy course with its fraction log, an anti-angiogenic
drug course with dose changes, topical treatments and blood counts.

The floor: for each measured call, the exact SELECT statements the service
sends (captured from the engine, with their driver parameters) are replayed
through the app's engine as raw SQL (``exec_driver_sql``) with ``fetchall()``:
the rows with no processing. For the trajectory that is every row the
endpoint must read: the wound with its clinic and radiotherapy course, the
assessments, grade overrides, procedures, the course's phases and fractions,
the systemic therapy courses joined with their changes, the wound's topical
treatments and the blood counts up to the last procedure. Nothing the endpoint
does not need is fetched, so the floor holds nothing a leaner service could
skip. The service is load + compute + assemble the JSON-ready answer, with its
audit row added to the session (written at the request's commit, in the HTTP
figure), then rolled back. A bare DBAPI cursor replay is reported alongside
(no target).

Ratio: service over floor, measured alternately in the same run. The
trajectory (about a millisecond, the scale of a scheduler time slice) takes the
best of N runs on each side: on a shared, loaded machine the longer side is
descheduled more often, so a median would measure the load more than the code.
The dashboard (hundreds of milliseconds, every run descheduled alike) takes
the median. Target: at most 3x.

End-to-end HTTP latency (auth, audit commit, JSON) is reported alongside in ms,
without a target (it depends on the machine).
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tests.bench.common import env_int, make_app

N_WOUNDS = env_int("BENCH_SUMMARY_WOUNDS", 2000)
N_ASSESSMENTS = env_int("BENCH_SUMMARY_ASSESSMENTS", 20)
TARGET = 3.0


def _capture(engine: sa.Engine, fn: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The SELECT statements (and driver parameters) ``fn`` sends to the database."""
    seen: list[tuple[str, Any]] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        fn()
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    return seen


def _raw_runner(
    engine: sa.Engine, statements: list[tuple[str, Any]], *, dbapi: bool
) -> Callable[[], int]:
    """Replay ``statements`` and fetch every row, with no processing at all.

    ``dbapi=False``: through the app's engine as raw SQL (``exec_driver_sql``: no
    compilation, no type processing, no ORM), the floor the target is set on.
    ``dbapi=True``: on a bare driver cursor (reported, no target): below it,
    SQLAlchemy's per-statement cost dominates on SQLite's sub-millisecond queries.
    """
    if dbapi:
        raw = engine.raw_connection()

        def run_dbapi() -> int:
            cur = raw.cursor()
            n = 0
            for sql, params in statements:
                cur.execute(sql, params)
                n += len(cur.fetchall())
            cur.close()
            raw.rollback()
            return n

        return run_dbapi
    conn = engine.connect()

    def run_sa() -> int:
        n = 0
        for sql, params in statements:
            n += len(conn.exec_driver_sql(sql, params).fetchall())
        conn.rollback()
        return n

    return run_sa


def _timed_pair(
    a: Callable[[], Any],
    b: Callable[[], Any],
    runs: int,
    *,
    best: bool,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[float, float]:
    """Seconds of ``a`` and of ``b``, interleaved so noise hits both alike: the
    best (lowest) of ``runs`` with ``best``, else the median."""
    ta, tb = [], []
    for _ in range(runs):
        t0 = clock()
        a()
        t1 = clock()
        b()
        t2 = clock()
        ta.append(t1 - t0)
        tb.append(t2 - t1)
    if best:
        return min(ta), min(tb)
    return statistics.median(ta), statistics.median(tb)


def _seed(app) -> tuple[Any, uuid.UUID]:
    from app.extensions import db
    from app.procedures.models import Procedure
    from app.radiotherapy.models import FractionDelivery, RadiotherapyCourse, RadiotherapyPhase
    from app.therapy.models import LabResult, SystemicTherapy, TherapyChange, TopicalTreatment
    from app.wounds.models import Wound
    from tests.factories import Factory
    from tests.summaries.helpers import bulk_open_wounds

    factory = Factory(app)
    clinic = factory.clinic("Bench Summaries Clinic")
    nurse = factory.actor("nurse", clinic)
    start = datetime.now(UTC) - timedelta(days=7 * N_ASSESSMENTS)
    wounds = bulk_open_wounds(app, clinic, N_WOUNDS, N_ASSESSMENTS, start=start)
    # The trajectory wound gets what a real one has (the seed case): a radiotherapy
    # course, its fractions, procedures; an anti-angiogenic drug course with dose
    # changes over the healing period, topical treatments, blood counts.
    wid = wounds[0]
    with app.app_context():
        w = db.session.get(Wound, wid)
        course_start = start.date() - timedelta(days=30)
        course = RadiotherapyCourse(
            clinic_id=clinic,
            patient_id=w.patient_id,
            target_site="popliteal fossa",
            start_date=course_start,
            end_date=None,
            phases=[
                RadiotherapyPhase(
                    position=0, technique="imrt", dose_per_fraction_cgy=400, fractions=10
                ),
                RadiotherapyPhase(
                    position=1, technique="srt", dose_per_fraction_cgy=700, fractions=3
                ),
            ],
        )
        db.session.add(course)
        db.session.flush()
        w.radiotherapy_course_id = course.id
        for i in range(13):
            db.session.add(
                FractionDelivery(
                    clinic_id=clinic,
                    course_id=course.id,
                    delivered_on=course_start + timedelta(days=i),
                    dose_cgy=400 if i < 10 else 700,
                )
            )
        for i in range(4):
            db.session.add(
                Procedure(
                    clinic_id=clinic,
                    wound_id=wid,
                    performed_at=start + timedelta(days=7 * i, hours=1),
                    kind="debridement",
                    debridement_method="sharp_conservative",
                    prp_form="gel",
                )
            )
        drug = SystemicTherapy(
            clinic_id=clinic,
            patient_id=w.patient_id,
            agent="Anlotinib hydrochloride",
            anti_angiogenic=True,
            dose=12,
            dose_unit="mg",
            days_on=14,
            days_off=7,
            start_date=start.date() - timedelta(days=10),
        )
        db.session.add(drug)
        db.session.flush()
        for day, kind, dose in ((20, "dose_reduced", 10), (50, "held", None), (56, "resumed", 8)):
            db.session.add(
                TherapyChange(
                    clinic_id=clinic,
                    therapy_id=drug.id,
                    effective_on=start.date() + timedelta(days=day),
                    kind=kind,
                    dose=dose,
                    reason="toxicity",
                )
            )
        for day, category, product in ((0, "silver", "silver alginate"), (30, "rhegf", "rhEGF")):
            db.session.add(
                TopicalTreatment(
                    clinic_id=clinic,
                    wound_id=wid,
                    category=category,
                    product=product,
                    start_date=start.date() + timedelta(days=day),
                )
            )
        for i in range(8):
            for test, value, unit in (
                ("platelets", 90.0 + 10 * i, "10^9/L"),
                ("hemoglobin", 11.0, "g/dL"),
            ):
                db.session.add(
                    LabResult(
                        clinic_id=clinic,
                        patient_id=w.patient_id,
                        test=test,
                        value=value,
                        unit=unit,
                        canonical_value=value,
                        canonical_unit=unit,
                        taken_at=start + timedelta(days=10 * i),
                        ctcae_term=None,
                        ctcae_grade=0,
                    )
                )
        db.session.commit()
    return nurse, wid


def _measure(app, label: str, results: list[dict]) -> None:
    from flask import g

    from app.auth.models import User
    from app.core.access import Principal
    from app.extensions import db
    from app.summaries import dashboard, trajectory

    nurse, wid = _seed(app)
    calls: dict[str, Callable[[], Any]] = {
        "dashboard_first_page": lambda: dashboard.dashboard(
            db.session, {"limit": 50, "sort": "priority"}
        ),
        "dashboard_filtered_page": lambda: dashboard.dashboard(
            db.session,
            {"limit": 50, "sort": "priority", "site": "fold", "status": ["stalled", "on_track"]},
        ),
        "trajectory": lambda: trajectory.build_trajectory(trajectory.load_wound(db.session, wid)),
    }
    urls = {
        "dashboard_first_page": "/api/v1/dashboard?limit=50",
        "dashboard_filtered_page": (
            "/api/v1/dashboard?limit=50&site=fold&status=stalled&status=on_track"
        ),
        "trajectory": f"/api/v1/wounds/{wid}/trajectory",
    }
    # SQLite runs inside this process, so its CPU time is the whole cost of each
    # side and other processes on the machine do not count against either.
    # A server database works in another process: only wall time includes it.
    in_process = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    clock = time.process_time if in_process else time.perf_counter
    with app.test_request_context():
        # The signed-in user as the auth layer leaves it (outside what is measured).
        g.user = Principal.of(db.session.get(User, nurse.user_id))
        engine = db.engine
        for name, call in calls.items():
            runs = 200 if name == "trajectory" else 9

            def service(call=call) -> None:
                call()
                db.session.rollback()  # the audit row stays out of the next run

            for _ in range(3):
                service()
            statements = _capture(engine, service)
            for floor, dbapi in (("raw_sql", False), ("dbapi", True)):
                raw = _raw_runner(engine, statements, dbapi=dbapi)
                raw()
                t_service, t_raw = _timed_pair(
                    service, raw, runs, best=name == "trajectory", clock=clock
                )
                results.append(
                    {
                        "name": f"{name}_vs_{floor}{label}",
                        "value": t_service / t_raw,
                        "unit": "ratio",
                        "target": None if dbapi else TARGET,
                        "better": "lower",
                    }
                )
                results.append(
                    {
                        "name": f"{name}_{floor}_ms{label}",
                        "value": t_raw * 1000,
                        "unit": "ms",
                        "target": None,
                        "better": "lower",
                    }
                )
            results.append(
                {
                    "name": f"{name}_service_ms{label}",
                    "value": t_service * 1000,
                    "unit": "ms",
                    "target": None,
                    "better": "lower",
                }
            )
    for name, url in urls.items():
        runs = 100 if name == "trajectory" else 7
        nurse.get(url)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            r = nurse.get(url)
            times.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.json
        results.append(
            {
                "name": f"{name}_http_ms{label}",
                "value": statistics.median(times) * 1000,
                "unit": "ms",
                "target": None,
                "better": "lower",
            }
        )


def run(results: list[dict]) -> None:
    import logging

    app = make_app(RATELIMIT_ENABLED=False)
    logging.getLogger("app.access").setLevel(logging.WARNING)
    _measure(app, "", results)
    pg = os.environ.get("BENCH_POSTGRES_URL")
    if pg:
        name = f"bench_summaries_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            url = sa.engine.make_url(pg).set(database=name).render_as_string(hide_password=False)
            pg_app = make_app(url)
            _measure(pg_app, "_postgres", results)
            with pg_app.app_context():
                from app.extensions import db

                db.session.remove()
                db.engine.dispose()
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    rows: list[dict] = []
    run(rows)
    for row in rows:
        print(f"{row['name']:<45} {row['value']:>10.3f} {row['unit']}")
    _ = date
