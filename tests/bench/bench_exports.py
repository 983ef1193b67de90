"""Exports: throughput against a same-run floor, and peak memory at two sizes.

A SQLite database (kept under build/ and reused between runs) holds two
clinics: one with ROWS assessment rows (default 1,000,000; BENCH_EXPORT_ROWS
scales it) and one with ROWS / 10. It is built with bulk executemany of
ready-made tuples in one transaction per table, which takes about a minute
for 1M rows.

- Throughput: the whole export job (run_export: all four tables, de-identified,
  zipped and stored) in assessment rows per second, as a ratio to the floor:
  the same assessment query (dataset.assessment_query) streamed straight into
  csv.writer / a pyarrow ParquetWriter with no de-identification. Floor and job
  alternate BENCH_EXPORT_REPEAT times (default 2) and the best of each counts,
  since the machine is shared. Target >= 0.5.
- Memory: the export job's peak RSS growth at ROWS and at ROWS / 10: peak RSS
  during the job minus RSS after imports and app creation, measured in the
  child process (the kernel's high-water mark is reset before the job, so
  import-time peaks do not count). Target: big / small <= 1.2.

Each measurement runs in its own subprocess:
``python -m tests.bench.bench_exports MODE FORMAT CLINIC DB``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WOUND_VISITS = 25  # assessments per wound
WOUNDS_PER_PATIENT = 2
PROCEDURES_PER_WOUND = 4
CHUNK = 50_000  # rows per executemany while building


def _rows() -> int:
    return int(os.environ.get("BENCH_EXPORT_ROWS", "1000000"))


def _repeat() -> int:
    return max(1, int(os.environ.get("BENCH_EXPORT_REPEAT", "2")))


# Bumped when the schema or the cohort changes, so an older database kept under
# build/ is not reused.
DB_VERSION = 3


def _db_path(rows: int) -> Path:
    return ROOT / "build" / f"bench_exports_{rows}_v{DB_VERSION}.sqlite3"


def _app(db: Path, storage: str) -> Any:
    from app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db.resolve()}",
            "STORAGE_DIR": storage,
            "STORAGE_URL": None,
            "REDIS_URL": None,
            "LOG_FORMAT": "text",
            "SECRET_KEY": "bench-secret",
            "MIGRATIONS": True,
        }
    )


# ---------------------------------------------------------------------------
# Building the cohort (SQLite storage forms: hex ids, ISO dates, 0/1 booleans)


def _ts(value: datetime) -> str:
    """A UTC datetime as SQLAlchemy stores it in SQLite (naive, microseconds)."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


class _Ids:
    """Random 128-bit ids as 32-digit hex, from a seeded generator (repeatable)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def __call__(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"


def _bulk(conn: Any, table: Any, names: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
    """INSERT ``rows`` (values in SQLite's storage form, in ``names`` order) with
    executemany, CHUNK rows at a time; every other NOT NULL column gets its scalar
    default, run once through the column's own bind processor."""
    dialect = conn.dialect
    extra_names, extra_values = [], []
    for col in table.columns:
        if col.name in names or col.nullable or col.server_default is not None:
            continue
        if col.default is None or not col.default.is_scalar:
            raise ValueError(f"{table.name}.{col.name} needs a value")
        process = col.type._cached_bind_processor(dialect)
        extra_names.append(col.name)
        extra_values.append(process(col.default.arg) if process else col.default.arg)
    columns = (*names, *extra_names)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)})"  # noqa: S608 - model names only
        f" VALUES ({', '.join('?' * len(columns))})"
    )
    extra = tuple(extra_values)
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row + extra)
        if len(batch) >= CHUNK:
            conn.exec_driver_sql(sql, batch)
            batch = []
    if batch:
        conn.exec_driver_sql(sql, batch)


def _build(db: Path, rows: int) -> dict[str, str]:
    """Create the schema and bulk-load the cohort; returns {"big", "small", "user"} ids."""
    from flask_migrate import upgrade

    from app.assessments.models import Assessment, GradeOverride
    from app.auth.models import User
    from app.clinical.symptoms import PRO_LEVELS
    from app.clinics.models import Clinic
    from app.extensions import db as fdb
    from app.patients.models import Patient
    from app.procedures.models import Procedure
    from app.radiotherapy.models import FractionDelivery, RadiotherapyCourse, RadiotherapyPhase
    from app.wounds.models import Wound

    tmp = db.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    app = _app(tmp, tempfile.mkdtemp())
    new_id = _Ids(11)
    rng = random.Random(11)
    now = _ts(datetime.now(UTC))
    stamps = (1, now, now)  # version, created_at, updated_at
    stamp_names = ("version", "created_at", "updated_at")
    user_id = new_id()
    ids = {"user": str(uuid.UUID(user_id))}
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        with fdb.engine.begin() as conn:
            _bulk(
                conn,
                User.__table__,
                ("id", "email", "name", "role", "password_hash", "created_at", "updated_at"),
                [(user_id, "bench@example.org", "Bench Admin", "admin", "x", now, now)],
            )
            for label, n_rows in (("big", rows), ("small", max(rows // 10, WOUND_VISITS))):
                clinic = new_id()
                ids[label] = str(uuid.UUID(clinic))
                _bulk(
                    conn,
                    Clinic.__table__,
                    ("id", "name", "created_at", "updated_at"),
                    [(clinic, f"Bench {label}", now, now)],
                )
                n_wounds = max(-(-n_rows // WOUND_VISITS), 1)
                n_patients = max(n_wounds // WOUNDS_PER_PATIENT, 1)
                patients = [new_id() for _ in range(n_patients)]
                courses = [new_id() for _ in range(n_patients)]
                starts = [date(2025, 1, 6) + timedelta(days=i % 300) for i in range(n_patients)]
                _bulk(
                    conn,
                    Patient.__table__,
                    (
                        "id",
                        "clinic_id",
                        "mrn",
                        "given_name",
                        "family_name",
                        "birth_date",
                        "sex",
                        *stamp_names,
                    ),
                    (
                        (
                            pid,
                            clinic,
                            f"B{i:08d}",
                            "Bench",
                            f"Patient{i}",
                            date(1930 + i % 60, 1 + i % 12, 1 + i % 28).isoformat(),
                            ("female", "male")[i % 2],
                            *stamps,
                        )
                        for i, pid in enumerate(patients)
                    ),
                )
                _bulk(
                    conn,
                    RadiotherapyCourse.__table__,
                    ("id", "clinic_id", "patient_id", "target_site", "start_date", *stamp_names),
                    (
                        (cid, clinic, pid, "x", start.isoformat(), *stamps)
                        for cid, pid, start in zip(courses, patients, starts, strict=True)
                    ),
                )
                _bulk(
                    conn,
                    RadiotherapyPhase.__table__,
                    (
                        "id",
                        "course_id",
                        "position",
                        "technique",
                        "dose_per_fraction_cgy",
                        "fractions",
                    ),
                    ((new_id(), cid, 1, "imrt", 200.0, 25) for cid in courses),
                )
                # Half the courses have a fraction log, half only the planned schedule.
                _bulk(
                    conn,
                    FractionDelivery.__table__,
                    ("id", "clinic_id", "course_id", "delivered_on", "dose_cgy", *stamp_names),
                    (
                        (
                            new_id(),
                            clinic,
                            courses[i],
                            (starts[i] + timedelta(days=d + 2 * (d // 5))).isoformat(),
                            200.0,
                            *stamps,
                        )
                        for i in range(0, n_patients, 2)
                        for d in range(25)
                    ),
                )
                wounds = [new_id() for _ in range(n_wounds)]
                onsets = [
                    starts[w % n_patients] + timedelta(days=20 + w % 15) for w in range(n_wounds)
                ]
                _bulk(
                    conn,
                    Wound.__table__,
                    (
                        "id",
                        "clinic_id",
                        "patient_id",
                        "body_site",
                        "laterality",
                        "in_skin_fold",
                        "etiology",
                        "radiotherapy_course_id",
                        "onset_date",
                        "status",
                        *stamp_names,
                    ),
                    (
                        (
                            wid,
                            clinic,
                            patients[w % n_patients],
                            rng.choice(["popliteal fossa", "left breast", "neck"]),
                            "left",
                            int(w % 3 == 0),
                            "radiation_dermatitis",
                            courses[w % n_patients] if w % 2 else None,
                            onsets[w].isoformat(),
                            "open",
                            *stamps,
                        )
                        for w, wid in enumerate(wounds)
                    ),
                )
                overrides: list[tuple[Any, ...]] = []

                def assessments(
                    clinic: str = clinic,
                    n_rows: int = n_rows,
                    wounds: list[str] = wounds,
                    onsets: list[date] = onsets,
                    overrides: list[tuple[Any, ...]] = overrides,
                ) -> Iterator[tuple[Any, ...]]:
                    for w, wid in enumerate(wounds):
                        t0 = datetime.combine(onsets[w], datetime.min.time()) + timedelta(hours=9)
                        for v in range(min(WOUND_VISITS, n_rows - w * WOUND_VISITS)):
                            length = max(0.0, 4.0 - 0.15 * v + rng.uniform(-0.2, 0.2))
                            aid = new_id()
                            if v == 7:  # one clinician override per wound
                                overrides.append(
                                    (new_id(), clinic, aid, wid, "ctcae", 3, 2, "r", user_id, now)
                                )
                            yield (
                                aid,
                                clinic,
                                wid,
                                _ts(t0 + timedelta(days=3 * v)),
                                round(length, 1),
                                round(length * 0.7, 1),
                                0.2,
                                round(0.785 * length * length * 0.7, 2),
                                "ellipse",
                                "moderate",
                                "serous",
                                "free text that must not be exported",
                                7,
                                2,
                                3,
                                12,
                                2,
                                2,
                                # Patient-reported symptoms on every visit.
                                v % 11,
                                (v + 3) % 11,
                                (v + 5) % 11,
                                PRO_LEVELS[v % 5],
                                *stamps,
                            )

                _bulk(
                    conn,
                    Assessment.__table__,
                    (
                        "id",
                        "clinic_id",
                        "wound_id",
                        "assessed_at",
                        "length_cm",
                        "width_cm",
                        "depth_cm",
                        "area_cm2",
                        "area_method",
                        "exudate_amount",
                        "exudate_type",
                        "notes",
                        "push_area",
                        "push_exudate",
                        "push_tissue",
                        "push_total",
                        "ctcae_grade",
                        "rtog_grade",
                        "pain_score",
                        "itch_nrs",
                        "burning_nrs",
                        "pro_skin_reaction",
                        *stamp_names,
                    ),
                    assessments(),
                )
                _bulk(
                    conn,
                    GradeOverride.__table__,
                    (
                        "id",
                        "clinic_id",
                        "assessment_id",
                        "wound_id",
                        "scale",
                        "value",
                        "derived_value",
                        "reason",
                        "by_user_id",
                        "created_at",
                    ),
                    overrides,
                )
                _bulk(
                    conn,
                    Procedure.__table__,
                    (
                        "id",
                        "clinic_id",
                        "wound_id",
                        "performed_at",
                        "kind",
                        "debridement_method",
                        "prp_form",
                        *stamp_names,
                    ),
                    (
                        (
                            new_id(),
                            clinic,
                            wid,
                            _ts(
                                datetime.combine(onsets[w], datetime.min.time())
                                + timedelta(days=7 * k, hours=10)
                            ),
                            "debridement",
                            "sharp_conservative",
                            "gel",
                            *stamps,
                        )
                        for w, wid in enumerate(wounds)
                        for k in range(PROCEDURES_PER_WOUND)
                    ),
                )
        with fdb.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
        fdb.engine.dispose()
    tmp.rename(db)
    db.with_suffix(".json").write_text(json.dumps(ids))
    return ids


# ---------------------------------------------------------------------------
# One measurement (child process)


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class _Peak:
    """Peak RSS from here on: the kernel's high-water mark, reset at the start
    (``/proc/self/clear_refs``); where that is refused, a 10 ms sampler."""

    def __init__(self) -> None:
        self.sampled = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        except OSError:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.sampled = max(self.sampled, _status_kb("VmRSS"))

    def kb(self) -> int:
        if self._thread is None:
            return _status_kb("VmHWM")
        self._stop.set()
        self._thread.join()
        return max(self.sampled, _status_kb("VmRSS"))


def _arrow_type(sa_type: Any) -> Any:
    """The pyarrow type of a selected column, from its SQLAlchemy type."""
    import pyarrow as pa
    import sqlalchemy as sa

    if isinstance(sa_type, sa.Boolean):
        return pa.bool_()
    if isinstance(sa_type, sa.Integer):
        return pa.int64()
    if isinstance(sa_type, sa.Float):
        return pa.float64()
    if isinstance(sa_type, sa.DateTime) or isinstance(getattr(sa_type, "impl", None), sa.DateTime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(sa_type, sa.Date):
        return pa.date32()
    return pa.string()


def _floor(app: Any, clinic_id: uuid.UUID, fmt: str, out: Path) -> int:
    """The assessment query streamed into csv.writer / ParquetWriter as it comes."""
    import csv

    import pyarrow as pa
    import pyarrow.parquet as pq

    from app.exports.dataset import BATCH_SIZE
    from app.exports.queries import Selection, assessment_query
    from app.extensions import db as fdb

    rows = 0
    stmt = assessment_query(Selection(clinic_id, None, None, b""))
    with app.app_context(), fdb.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=BATCH_SIZE).execute(stmt)
        if fmt == "csv":
            with out.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(result.keys())
                for part in result.partitions(BATCH_SIZE):
                    writer.writerows(part)
                    rows += len(part)
            return rows
        schema = pa.schema([pa.field(c.name, _arrow_type(c.type)) for c in stmt.selected_columns])
        with pq.ParquetWriter(out, schema, compression="snappy") as pw:
            for part in result.partitions(BATCH_SIZE):
                arrays = [
                    pa.array(values, type=field.type)
                    for values, field in zip(zip(*part, strict=True), schema, strict=True)
                ]
                pw.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
                rows += len(part)
    return rows


def _measure(mode: str, fmt: str, clinic: str, db: str) -> dict[str, Any]:
    """Child body: one floor or one export job; seconds, CPU seconds, rows, RSS growth."""
    # Everything the job imports is imported before the baseline RSS is read.
    import pyarrow.parquet  # noqa: F401
    import sqlalchemy as sa

    from app.exports import jobs, writers  # noqa: F401
    from app.exports.models import ExportJob
    from app.extensions import db as fdb

    storage = tempfile.mkdtemp()
    app = _app(Path(db), storage)
    ids = json.loads(Path(db).with_suffix(".json").read_text())
    clinic_id = uuid.UUID(clinic)
    job_id = uuid.uuid4()
    with app.app_context(), fdb.engine.begin() as conn:
        conn.execute(
            sa.insert(ExportJob).values(
                id=job_id,
                clinic_id=clinic_id,
                requested_by=uuid.UUID(ids["user"]),
                format=fmt,
                status="queued",
                progress_done=0,
                attempts=0,
                created_at=datetime.now(UTC),
            )
        )
    base = _status_kb("VmRSS")
    peak = _Peak()
    started, cpu_started = time.perf_counter(), time.process_time()
    if mode == "floor":
        rows = _floor(app, clinic_id, fmt, Path(storage) / f"floor.{fmt}")
    else:
        status = jobs.run_export(job_id, app)
        assert status == "done", status
        with app.app_context(), fdb.engine.connect() as conn:
            counts = conn.scalar(sa.select(ExportJob.row_counts).where(ExportJob.id == job_id))
        rows = counts["assessments"]
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rows": rows,
        "rss_growth_kb": max(peak.kb() - base, 1),
    }


def _sub(mode: str, fmt: str, clinic: str, db: Path) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "tests.bench.bench_exports", mode, fmt, clinic, str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{mode} {fmt} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------
# The benchmark


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


def run(results: list[dict[str, Any]]) -> None:
    rows = _rows()
    db = _db_path(rows)
    db.parent.mkdir(parents=True, exist_ok=True)
    if db.exists() and db.with_suffix(".json").exists():
        ids = json.loads(db.with_suffix(".json").read_text())
    else:
        t = time.perf_counter()
        ids = _build(db, rows)
        print(f"   built {rows:,} assessment rows in {time.perf_counter() - t:.0f} s", flush=True)
    big, small = _label(rows), _label(max(rows // 10, WOUND_VISITS))
    for fmt in ("csv", "parquet"):
        floors, exports = [], []
        for _ in range(_repeat()):  # alternate, so a noisy spell hits both
            floors.append(_sub("floor", fmt, ids["big"], db))
            exports.append(_sub("job", fmt, ids["big"], db))
        small_job = _sub("job", fmt, ids["small"], db)
        floor = min(floors, key=lambda r: r["seconds"])
        job = min(exports, key=lambda r: r["seconds"])
        floor_rate, job_rate = floor["rows"] / floor["seconds"], job["rows"] / job["seconds"]
        cpu_ratio = min(f["cpu_seconds"] for f in floors) / min(e["cpu_seconds"] for e in exports)
        growth_big = max(e["rss_growth_kb"] for e in exports) / 1024
        growth_small = small_job["rss_growth_kb"] / 1024
        print(
            f"   {fmt}: floor {floor_rate:,.0f} rows/s, export job {job_rate:,.0f} rows/s"
            f" (best of {len(exports)}: ratio {job_rate / floor_rate:.2f}, by CPU time"
            f" {cpu_ratio:.2f}); RSS growth {growth_small:.0f} MiB at {small},"
            f" {growth_big:.0f} MiB at {big}",
            flush=True,
        )
        results += [
            {
                "name": f"exports.{fmt}.{big}.rows_per_s_vs_floor",
                "value": job_rate / floor_rate,
                "unit": "ratio",
                "target": 0.5,
                "better": "higher",
            },
            {
                "name": f"exports.{fmt}.{big}.rows_per_s",
                "value": job_rate,
                "unit": "rows/s",
                "target": None,
                "better": "higher",
            },
            {
                "name": f"exports.{fmt}.{big}.floor_rows_per_s",
                "value": floor_rate,
                "unit": "rows/s",
                "target": None,
                "better": "higher",
            },
            {
                "name": f"exports.{fmt}.{big}.cpu_s_vs_floor",
                "value": cpu_ratio,
                "unit": "ratio",
                "target": None,
                "better": "higher",
            },
            {
                "name": f"exports.{fmt}.peak_rss_growth.{small}",
                "value": growth_small,
                "unit": "MiB",
                "target": None,
                "better": "lower",
            },
            {
                "name": f"exports.{fmt}.peak_rss_growth.{big}",
                "value": growth_big,
                "unit": "MiB",
                "target": None,
                "better": "lower",
            },
            {
                "name": f"exports.{fmt}.peak_rss_ratio.{big}_vs_{small}",
                "value": growth_big / growth_small,
                "unit": "ratio",
                "target": 1.2,
                "better": "lower",
            },
        ]


if __name__ == "__main__":
    if len(sys.argv) == 5:
        print(json.dumps(_measure(*sys.argv[1:5])))
    else:
        bench: list[dict[str, Any]] = []
        run(bench)
        print(json.dumps(bench, indent=2))
