"""Exports: throughput against a same-run floor, and peak memory at two sizes.

A temporary SQLite database (kept under build/ and reused between runs, since
building it is most of the cost) holds two clinics: one with ROWS assessment
rows (default 1,000,000; BENCH_EXPORT_ROWS scales it) and one with ROWS / 10.

- Throughput: the whole export job (run_export: all four tables, de-identified,
  zipped and stored) in assessment rows per second, as a ratio to the floor:
  the same assessment query streamed straight into csv.writer / a pyarrow
  ParquetWriter with no de-identification. Target >= 0.5.
- Memory: peak RSS growth of the export job at ROWS and at ROWS / 10; the
  ratio big / small should stay <= 1.2 (constant memory).

Each measurement runs in its own subprocess so RSS is not polluted by the
others: ``python -m tests.bench.bench_exports MODE FORMAT CLINIC DB``.
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WOUND_VISITS = 25  # assessments per wound
WOUNDS_PER_PATIENT = 2


def _rows() -> int:
    return int(os.environ.get("BENCH_EXPORT_ROWS", "1000000"))


def _db_path(rows: int) -> Path:
    return ROOT / "build" / f"bench_exports_{rows}.sqlite3"


def _app(db: Path, storage: str):
    from app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db}",
            "STORAGE_DIR": storage,
            "STORAGE_URL": None,
            "REDIS_URL": None,
            "LOG_FORMAT": "text",
            "SECRET_KEY": "bench-secret",
        }
    )


def _build(db: Path, rows: int) -> dict[str, str]:
    """Bulk-insert the synthetic cohort; returns {"big": clinic_id, "small": ..., "user": ...}."""
    from flask_migrate import upgrade

    from app.assessments.models import Assessment, GradeOverride
    from app.auth.models import User
    from app.clinics.models import Clinic
    from app.extensions import db as fdb
    from app.patients.models import Patient
    from app.procedures.models import Procedure
    from app.radiotherapy.models import FractionDelivery, RadiotherapyCourse, RadiotherapyPhase
    from app.wounds.models import Wound

    tmp = db.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    app = _app(tmp, tempfile.mkdtemp())
    rng = random.Random(11)
    now = datetime.now(UTC)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        engine = fdb.engine
        user_id = uuid.uuid4()
        ids: dict[str, str] = {"user": str(user_id)}
        with engine.begin() as conn:
            conn.execute(
                User.__table__.insert(),
                [
                    {
                        "id": user_id,
                        "email": "bench@example.org",
                        "name": "Bench Admin",
                        "role": "admin",
                        "password_hash": "x",
                        "is_active": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                ],
            )
        for label, n_rows in (("big", rows), ("small", max(rows // 10, WOUND_VISITS))):
            clinic_id = uuid.uuid4()
            ids[label] = str(clinic_id)
            n_wounds = max(n_rows // WOUND_VISITS, 1)
            n_patients = max(n_wounds // WOUNDS_PER_PATIENT, 1)
            common = {"clinic_id": clinic_id, "version": 1, "created_at": now, "updated_at": now}
            with engine.begin() as conn:
                conn.execute(
                    Clinic.__table__.insert(),
                    [
                        {
                            "id": clinic_id,
                            "name": f"Bench {label}",
                            "created_at": now,
                            "updated_at": now,
                        }
                    ],
                )
                patients, courses, phases, fractions = [], [], [], []
                for i in range(n_patients):
                    pid = uuid.uuid4()
                    patients.append(
                        {
                            **common,
                            "id": pid,
                            "mrn": f"B{i:08d}",
                            "given_name": "Bench",
                            "family_name": f"Patient{i}",
                            "birth_date": date(1930 + i % 60, 1 + i % 12, 1 + i % 28),
                            "sex": ("female", "male")[i % 2],
                        }
                    )
                    cid = uuid.uuid4()
                    start = date(2025, 1, 6) + timedelta(days=i % 300)
                    courses.append(
                        {
                            **common,
                            "id": cid,
                            "patient_id": pid,
                            "target_site": "x",
                            "start_date": start,
                        }
                    )
                    phases.append(
                        {
                            "id": uuid.uuid4(),
                            "course_id": cid,
                            "position": 1,
                            "technique": "imrt",
                            "dose_per_fraction_cgy": 200.0,
                            "fractions": 25,
                        }
                    )
                    if i % 2 == 0:  # half with a fraction log, half planned only
                        fractions += [
                            {
                                **common,
                                "id": uuid.uuid4(),
                                "course_id": cid,
                                "delivered_on": start + timedelta(days=d + 2 * (d // 5)),
                                "dose_cgy": 200.0,
                            }
                            for d in range(25)
                        ]
                conn.execute(Patient.__table__.insert(), patients)
                conn.execute(RadiotherapyCourse.__table__.insert(), courses)
                conn.execute(RadiotherapyPhase.__table__.insert(), phases)
                conn.execute(FractionDelivery.__table__.insert(), fractions)
            done = 0
            w = 0
            while done < n_rows:
                wounds, assessments, procedures, overrides = [], [], [], []
                for _ in range(min(2000, n_wounds - w)):
                    patient = patients[w % n_patients]
                    course = courses[w % n_patients]
                    wid = uuid.uuid4()
                    onset = course["start_date"] + timedelta(days=20 + w % 15)
                    wounds.append(
                        {
                            **common,
                            "id": wid,
                            "patient_id": patient["id"],
                            "body_site": rng.choice(["popliteal fossa", "left breast", "neck"]),
                            "laterality": "left",
                            "in_skin_fold": w % 3 == 0,
                            "etiology": "radiation_dermatitis",
                            "radiotherapy_course_id": course["id"] if w % 2 else None,
                            "onset_date": onset,
                            "status": "open",
                        }
                    )
                    t0 = datetime.combine(onset, datetime.min.time(), UTC) + timedelta(hours=9)
                    for v in range(WOUND_VISITS):
                        if done >= n_rows:
                            break
                        length = max(0.0, 4.0 - 0.15 * v + rng.uniform(-0.2, 0.2))
                        aid = uuid.uuid4()
                        assessments.append(
                            {
                                **common,
                                "id": aid,
                                "wound_id": wid,
                                "assessed_at": t0 + timedelta(days=3 * v),
                                "length_cm": round(length, 1),
                                "width_cm": round(length * 0.7, 1),
                                "depth_cm": 0.2,
                                "area_cm2": round(0.785 * length * length * 0.7, 2),
                                "area_method": "ellipse",
                                "exudate_amount": "moderate",
                                "exudate_type": "serous",
                                "closed": False,
                                "notes": "free text that must not be exported",
                                "push_area": 7,
                                "push_exudate": 2,
                                "push_tissue": 3,
                                "push_total": 12,
                                "ctcae_grade": 2,
                                "rtog_grade": 2,
                            }
                        )
                        if v % 100 == 7:
                            overrides.append(
                                {
                                    "id": uuid.uuid4(),
                                    "clinic_id": clinic_id,
                                    "assessment_id": aid,
                                    "scale": "ctcae",
                                    "value": 3,
                                    "derived_value": 2,
                                    "reason": "r",
                                    "by_user_id": user_id,
                                    "created_at": now,
                                }
                            )
                        done += 1
                    for k in range(4):
                        procedures.append(
                            {
                                **common,
                                "id": uuid.uuid4(),
                                "wound_id": wid,
                                "performed_at": t0 + timedelta(days=7 * k, hours=1),
                                "kind": "debridement",
                                "debridement_method": "sharp_conservative",
                                "prp_form": "gel",
                            }
                        )
                    w += 1
                with engine.begin() as conn:
                    conn.execute(Wound.__table__.insert(), wounds)
                    conn.execute(Assessment.__table__.insert(), assessments)
                    conn.execute(Procedure.__table__.insert(), procedures)
                    if overrides:
                        conn.execute(GradeOverride.__table__.insert(), overrides)
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
        engine.dispose()
    tmp.rename(db)
    db.with_suffix(".json").write_text(json.dumps(ids))
    return ids


def _rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _measure(mode: str, fmt: str, clinic: str, db: str) -> dict:
    """Subprocess body: run one floor or job; report seconds, rows and peak RSS growth."""
    import csv

    import pyarrow as pa
    import pyarrow.parquet as pq

    from app.exports import jobs
    from app.exports.dataset import BATCH_SIZE, Selection, assessment_query
    from app.exports.models import ExportJob
    from app.extensions import db as fdb

    storage = tempfile.mkdtemp()
    app = _app(Path(db), storage)
    ids = json.loads(Path(db).with_suffix(".json").read_text())
    clinic_id = uuid.UUID(clinic)
    with app.app_context():
        engine = fdb.engine
        job_id = uuid.uuid4()
        with engine.begin() as conn:
            conn.execute(
                ExportJob.__table__.insert(),
                [
                    {
                        "id": job_id,
                        "clinic_id": clinic_id,
                        "requested_by": uuid.UUID(ids["user"]),
                        "format": fmt,
                        "status": "queued",
                        "progress_done": 0,
                        "attempts": 0,
                        "created_at": datetime.now(UTC),
                    }
                ],
            )
    base = _rss_kb()
    rows = 0
    started = time.perf_counter()
    if mode == "floor":
        sel = Selection(clinic_id, None, None, b"")
        out = Path(storage) / f"floor.{fmt}"
        with app.app_context(), fdb.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=BATCH_SIZE).execute(
                assessment_query(sel)
            )
            if fmt == "csv":
                with out.open("w", newline="") as fh:
                    writer = csv.writer(fh)
                    writer.writerow(result.keys())
                    for part in result.partitions(BATCH_SIZE):
                        writer.writerows(part)
                        rows += len(part)
            else:
                writer = None
                for part in result.partitions(BATCH_SIZE):
                    cols = []
                    for values in zip(*part, strict=True):
                        sample = next((v for v in values if v is not None), None)
                        if isinstance(sample, uuid.UUID):
                            values = [None if v is None else str(v) for v in values]
                        cols.append(pa.array(values))
                    table = pa.Table.from_arrays(cols, names=list(result.keys()))
                    if writer is None:
                        writer = pq.ParquetWriter(out, table.schema, compression="snappy")
                    writer.write_table(table.cast(writer.schema))
                    rows += len(part)
                if writer is not None:
                    writer.close()
    else:
        status = jobs.run_export(job_id, app)
        assert status == "done", status
        with app.app_context(), fdb.engine.connect() as conn:
            import sqlalchemy as sa

            counts = conn.scalar(sa.select(ExportJob.row_counts).where(ExportJob.id == job_id))
        rows = counts["assessments"]
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "rows": rows, "rss_growth_kb": max(peak - base, 1)}


def _sub(mode: str, fmt: str, clinic: str, db: Path) -> dict:
    out = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "tests.bench.bench_exports", mode, fmt, clinic, str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(results: list) -> None:
    rows = _rows()
    db = _db_path(rows)
    db.parent.mkdir(parents=True, exist_ok=True)
    if db.exists() and db.with_suffix(".json").exists():
        ids = json.loads(db.with_suffix(".json").read_text())
    else:
        t = time.perf_counter()
        ids = _build(db, rows)
        print(f"   built {rows} assessment rows in {time.perf_counter() - t:.0f} s", flush=True)
    label = f"{rows // 1000}k" if rows < 1_000_000 else f"{rows // 1_000_000}M"
    small_label = f"{rows // 10 // 1000}k"
    for fmt in ("csv", "parquet"):
        floor = _sub("floor", fmt, ids["big"], db)
        job = _sub("job", fmt, ids["big"], db)
        small = _sub("job", fmt, ids["small"], db)
        floor_rate = floor["rows"] / floor["seconds"]
        job_rate = job["rows"] / job["seconds"]
        print(
            f"   {fmt}: floor {floor_rate:,.0f} rows/s, export job {job_rate:,.0f} rows/s;"
            f" RSS growth {small['rss_growth_kb'] / 1024:.0f} MiB at {small_label},"
            f" {job['rss_growth_kb'] / 1024:.0f} MiB at {label}",
            flush=True,
        )
        results += [
            {
                "name": f"exports.{fmt}.{label}.rows_per_s_vs_floor",
                "value": job_rate / floor_rate,
                "unit": "ratio",
                "target": 0.5,
                "better": "higher",
            },
            {
                "name": f"exports.{fmt}.{label}.rows_per_s",
                "value": job_rate,
                "unit": "rows/s",
                "target": None,
                "better": "higher",
            },
            {
                "name": f"exports.{fmt}.peak_rss_growth.{small_label}",
                "value": small["rss_growth_kb"] / 1024,
                "unit": "MiB",
                "target": None,
                "better": "lower",
            },
            {
                "name": f"exports.{fmt}.peak_rss_growth.{label}",
                "value": job["rss_growth_kb"] / 1024,
                "unit": "MiB",
                "target": None,
                "better": "lower",
            },
            {
                "name": f"exports.{fmt}.peak_rss_ratio.{label}_vs_{small_label}",
                "value": job["rss_growth_kb"] / small["rss_growth_kb"],
                "unit": "ratio",
                "target": 1.2,
                "better": "lower",
            },
        ]


if __name__ == "__main__":
    if len(sys.argv) == 5:
        print(json.dumps(_measure(*sys.argv[1:5])))
    else:
        bench: list = []
        run(bench)
        print(json.dumps(bench, indent=2))
