# ruff: noqa: S603, S607  (fixed argv of our own programs, no shell)
"""`make load`: the service under realistic load, on PostgreSQL and Redis, as
two gunicorn instances sharing one storage directory; then the books are checked.

Steps: a fresh PostgreSQL database (dropped at the end) and a unique Redis key
prefix; `db upgrade`; a clinic with patients, wounds and users (tokens issued
directly: the sign-in route is rate limited per address, as it should be);
two instances (LOAD_WORKERS workers each) and one export worker; the driver
(tests/load/driver.py) in a separate process with LOAD_CLIENTS (32) clients
for LOAD_SECONDS (60). Then:

- figures: requests/s, p50/p95/p99 per route, errors (5xx, transport, or any
  unexpected answer);
- books: every acknowledged assessment and photo is stored, none twice (each
  create carries a unique token in its notes; photos are unique per wound and
  content), no orphaned or missing files (the storage-check logic);
- across instances: the same photo upload (client id and bytes) sent to both
  instances at once is stored once with all its files (one 201, one 200);
  two clients amend the same record through different
  instances with the same ETag, exactly one wins and the other gets 412; the
  sign-in rate limit is shared through Redis (the 11th attempt in a minute is
  429 whichever instance it reaches).

Exit status 1 on any lost or duplicated record, missing/orphaned file, failed
cross-instance check or error; the targets (p99 of assessment creation at most
10x its p50) are printed with the figures. Environment: LOAD_DATABASE_URL
(default postgresql+psycopg://postgres@127.0.0.1:5432/postgres, the server
where the fresh database is made), REDIS_URL (redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
CLIENTS = int(os.environ.get("LOAD_CLIENTS", "32"))
WORKERS = int(os.environ.get("LOAD_WORKERS", "3"))
N_PATIENTS = 40
NURSE_SHARE = 0.7  # of the clients; the rest staff, and one export


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


class Stack:
    """The database, the processes and the temporary directory of one run."""

    def __init__(self) -> None:
        base = sa.engine.make_url(
            os.environ.get(
                "LOAD_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
            )
        )
        self.name = f"woundtrack_load_{uuid.uuid4().hex[:10]}"
        self.admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        self.url = base.set(database=self.name).render_as_string(hide_password=False)
        self.tmp = Path(tempfile.mkdtemp(prefix="woundtrack-load-"))
        self.prefix = f"woundtrack-load-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "STORAGE_DIR": str(self.tmp / "storage"),
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "LOAD_KEY_PREFIX": self.prefix,
            "LOG_FORMAT": "json",
            "INSTANCE_DIR": str(self.tmp / "instance"),
        }
        self.procs: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []

    def __enter__(self) -> Stack:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()
        from redis import Redis

        redis = Redis.from_url(self.env["REDIS_URL"])
        for key in redis.scan_iter(f"*{self.prefix}*"):
            redis.delete(key)
        subprocess.run(["rm", "-rf", str(self.tmp)], check=False)

    def flask(self, *args: str) -> str:
        out = subprocess.run(
            [PY, "-m", "flask", "--app", "tests.load.wsgi", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout

    def start(self) -> None:
        log = open(self.tmp / "servers.log", "ab")  # noqa: SIM115 (lives as long as the processes)
        for _ in range(2):
            port = _free_port()
            self.ports.append(port)
            self.procs.append(
                subprocess.Popen(
                    [
                        PY,
                        "-m",
                        "gunicorn",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--workers",
                        str(WORKERS),
                        "--threads",
                        "4",
                        "--timeout",
                        "60",
                        # Longer than any client stays idle between two requests, so
                        # the server never closes a keep-alive connection as the
                        # client reuses it (a reset; nginx upstream keepalive: 60 s).
                        "--keep-alive",
                        "75",
                        "tests.load.wsgi:app",
                    ],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=log,
                )
            )
        self.procs.append(
            subprocess.Popen(
                [PY, "-m", "flask", "--app", "tests.load.wsgi", "worker"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        )
        for port in self.ports:
            for _ in range(150):
                try:
                    if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).ok:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.2)
            else:
                raise RuntimeError(
                    f"instance on port {port} did not start; see {self.tmp}/servers.log"
                )

    @property
    def instances(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]


SETUP = r"""
import json, sys, uuid
from datetime import date, timedelta
from tests.load.wsgi import app
from app.extensions import db
from app.auth.models import User
from app.auth.services import hash_password, issue_pair
from app.auth.models import ClinicMembership
from app.clinics.models import Clinic
from app.patients.models import Patient
from app.wounds.models import Wound

n_clients, n_patients, nurse_share = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
pw = hash_password("load test password 123")
with app.test_request_context():
    clinic = Clinic(name="Load Clinic")
    db.session.add(clinic)
    db.session.flush()
    def user(role):
        u = User(email=f"{role}-{uuid.uuid4().hex[:8]}@load.example", name=f"Load {role}",
                 role=role, password_hash=pw)
        db.session.add(u)
        db.session.flush()
        db.session.add(ClinicMembership(user_id=u.id, clinic_id=clinic.id))
        return u
    wounds = []
    for i in range(n_patients):
        p = Patient(clinic_id=clinic.id, mrn=f"LOAD-{i:05d}", given_name="Load",
                    family_name=f"Patient{i}", birth_date=date(1950, 1, 1), sex="female")
        db.session.add(p)
        db.session.flush()
        w = Wound(clinic_id=clinic.id, patient_id=p.id, body_site="axilla", laterality="left",
                  in_skin_fold=True, etiology="radiation_dermatitis",
                  onset_date=date.today() - timedelta(days=30), status="open")
        db.session.add(w)
        db.session.flush()
        wounds.append(str(w.id))
    n_nurses = max(1, int(n_clients * nurse_share))
    clients = []
    for i in range(n_clients):
        if i == 0:
            role, kind = "clinic_admin", "export"
        elif i <= n_nurses:
            role, kind = "nurse", "nurse"
        else:
            role, kind = "clinician", "staff"
        clients.append((kind, issue_pair(db.session, user(role)).access_token))
    spare = [issue_pair(db.session, user("nurse")).access_token for _ in range(2)]
    victim = user("nurse")
    db.session.commit()
    print(json.dumps({"clinic_id": str(clinic.id), "wounds": wounds, "clients": clients,
                      "spare": spare, "victim_email": victim.email}))
"""


def setup_data(stack: Stack) -> dict[str, Any]:
    out = subprocess.run(
        [PY, "-c", SETUP, str(CLIENTS), str(N_PATIENTS), str(NURSE_SHARE)],
        cwd=ROOT,
        env=stack.env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def etag_conflicts(stack: Stack, plan: dict[str, Any], rounds: int = 20) -> list[str]:
    """Two nurses amend the same assessment at once through different instances."""
    a, b = (requests.Session() for _ in range(2))
    a.headers["Authorization"] = f"Bearer {plan['spare'][0]}"
    b.headers["Authorization"] = f"Bearer {plan['spare'][1]}"
    first, second = stack.instances
    problems = []
    for i in range(rounds):
        wound = plan["wounds"][i % len(plan["wounds"])]
        created = a.post(
            f"{first}/api/v1/wounds/{wound}/assessments",
            json={"assessed_at": datetime.now(UTC).isoformat(), "length_cm": 2, "width_cm": 1},
            timeout=30,
        )
        if created.status_code != 201:
            problems.append(f"round {i}: create answered {created.status_code}")
            continue
        url = f"/api/v1/assessments/{created.json()['id']}"
        etag = a.get(first + url, timeout=30).headers["ETag"]
        barrier = threading.Barrier(2)
        codes: list[int] = []

        def patch(
            session: requests.Session,
            base: str,
            pain: int,
            barrier: threading.Barrier = barrier,
            codes: list[int] = codes,
            url: str = url,
            etag: str = etag,
        ) -> None:
            barrier.wait()
            codes.append(
                session.patch(
                    base + url, json={"pain_score": pain}, headers={"If-Match": etag}, timeout=30
                ).status_code
            )

        threads = [
            threading.Thread(target=patch, args=(a, first, 3)),
            threading.Thread(target=patch, args=(b, second, 7)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if sorted(codes) != [200, 412]:
            problems.append(f"round {i}: {sorted(codes)} (expected one 200 and one 412)")
    return problems


def photo_retries(stack: Stack, plan: dict[str, Any], rounds: int = 10) -> list[str]:
    """A phone retrying an upload while the first attempt still runs: the same
    photo (same client id, same bytes) sent to both instances at once. One
    201 and one 200, both with that id; storage-check (in check_books, run
    after this) then finds every file of every photo."""
    from tests.load.driver import _jpeg

    a, b = (requests.Session() for _ in range(2))
    a.headers["Authorization"] = f"Bearer {plan['spare'][0]}"
    b.headers["Authorization"] = f"Bearer {plan['spare'][1]}"
    first, second = stack.instances
    rng = random.Random(19)
    problems = []
    for i in range(rounds):
        wound = plan["wounds"][i % len(plan["wounds"])]
        photo_id, data = str(uuid.uuid4()), _jpeg(rng)
        barrier = threading.Barrier(2)
        answers: list[tuple[int, str | None]] = []

        def send(
            session: requests.Session,
            base: str,
            barrier: threading.Barrier = barrier,
            answers: list[tuple[int, str | None]] = answers,
            url: str = f"/api/v1/wounds/{wound}/photos",
            data: bytes = data,
            photo_id: str = photo_id,
        ) -> None:
            barrier.wait()
            r = session.post(
                base + url,
                files={"file": ("w.jpg", data, "image/jpeg")},
                data={"id": photo_id},
                timeout=60,
            )
            answers.append((r.status_code, r.json().get("id")))

        threads = [threading.Thread(target=send, args=pair) for pair in ((a, first), (b, second))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if sorted(answers) != sorted([(200, photo_id), (201, photo_id)]):
            problems.append(f"photo retry round {i}: {sorted(answers)} (expected 200 and 201)")
    return problems


def shared_rate_limit(stack: Stack, plan: dict[str, Any]) -> list[str]:
    """Failed sign-ins alternate between the instances; the limit (10 per minute
    per account and per address) counts them together."""
    codes = []
    for i in range(12):
        base = stack.instances[i % 2]
        r = requests.post(
            f"{base}/api/v1/auth/token",
            timeout=30,
            json={"email": plan["victim_email"], "password": "wrong password 1234"},
        )
        codes.append(r.status_code)
    if codes[:10] != [401] * 10 or codes[10:] != [429, 429]:
        return [f"sign-in attempts across instances answered {codes}"]
    return []


def check_books(stack: Stack, result: dict[str, Any]) -> list[str]:
    """Every acknowledged create stored once; no orphaned or missing files."""
    problems: list[str] = []
    engine = sa.create_engine(stack.url)
    acked = {a["id"]: a["token"] for a in result["assessments"]}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id::text, notes FROM assessments WHERE notes LIKE 'load %'")
        ).all()
        photos = conn.execute(sa.text("SELECT id::text, wound_id, sha256 FROM photos")).all()
    by_token: dict[str, list[str]] = defaultdict(list)
    for row_id, notes in rows:
        by_token[notes.split()[1]].append(row_id)
    lost = [i for i in acked if i not in {r[0] for r in rows}]
    dupes = {t: ids for t, ids in by_token.items() if len(ids) > 1}
    unanswered_stored = [i for i in result["unanswered"] if i in {r[0] for r in rows}]
    if lost:
        problems.append(f"{len(lost)} acknowledged assessments lost, e.g. {lost[:3]}")
    if dupes:
        problems.append(
            f"{len(dupes)} assessments stored more than once, e.g. {list(dupes.items())[:2]}"
        )
    photo_ids = {p[0] for p in photos}
    lost_photos = [p["id"] for p in result["photos"] if p["id"] not in photo_ids]
    if lost_photos:
        problems.append(f"{len(lost_photos)} acknowledged photos lost")
    if len({(p[1], p[2]) for p in photos}) != len(photos):
        problems.append("the same photo bytes stored twice for one wound")
    check = subprocess.run(
        [PY, "-m", "flask", "--app", "tests.load.wsgi", "storage-check", "--min-age", "0"],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        problems.append("storage-check: " + check.stdout.strip().splitlines()[-1])
    engine.dispose()
    result["books"] = {
        "assessments_acknowledged": len(acked),
        "assessments_stored": len(rows),
        "unanswered_but_stored": len(unanswered_stored),
        "photos_acknowledged": len({p["id"] for p in result["photos"]}),
        "photos_stored": len(photos),
        "storage_check": check.stdout.strip().splitlines()[-1] if check.stdout.strip() else "",
    }
    return problems


def report(result: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    samples = result["samples"]
    by_route: dict[str, list[float]] = defaultdict(list)
    errors = 0
    for route, status, seconds in samples:
        by_route[route].append(seconds * 1000)
        if status == 0 or status >= 500:
            errors += 1
    errors += len(result["unexpected"]) + len(result["unanswered"])
    rps = len(samples) / result["elapsed"]
    print(
        f"\n{len(samples)} requests in {result['elapsed']:.1f} s = {rps:.1f} requests/s, "
        f"{CLIENTS} clients, 2 instances x {WORKERS} workers"
    )
    print(f"{'route':34} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    figures: dict[str, Any] = {
        "rps": round(rps, 1),
        "requests": len(samples),
        "errors": errors,
        "routes": {},
    }
    for route in sorted(by_route):
        v = by_route[route]
        p50, p95, p99 = (_percentile(v, q) for q in (50, 95, 99))
        figures["routes"][route] = {
            "n": len(v),
            "p50": round(p50, 1),
            "p95": round(p95, 1),
            "p99": round(p99, 1),
        }
        print(f"{route:34} {len(v):>6} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f}")
    statuses = defaultdict(int)
    for _, status, _ in samples:
        statuses[status] += 1
    print(f"statuses: {dict(sorted(statuses.items()))}; errors: {errors}")
    for item in result["unexpected"][:10]:
        print("  unexpected:", item)
    for item in result.get("transport", [])[:10]:
        print("  transport:", item)
    problems = []
    if errors:
        problems.append(f"{errors} errors")
    create = figures["routes"].get("POST /wounds/{id}/assessments")
    if create:
        ratio = create["p99"] / max(create["p50"], 0.001)
        figures["assessment_p99_over_p50"] = round(ratio, 1)
        print(f"assessment creation p99/p50 = {ratio:.1f} (target <= 10)")
    return problems, figures


def main() -> int:
    print(f"make load: {CLIENTS} clients for {SECONDS} s on PostgreSQL + Redis, two instances")
    with Stack() as stack:
        stack.flask("db", "upgrade")
        plan = setup_data(stack)
        stack.start()
        plan.update({"instances": stack.instances, "seconds": SECONDS})
        plan_path, result_path = stack.tmp / "plan.json", stack.tmp / "result.json"
        plan_path.write_text(json.dumps(plan))
        subprocess.run(
            [PY, "-m", "tests.load.driver", str(plan_path), str(result_path)],
            cwd=ROOT,
            env=stack.env,
            check=True,
        )
        result = json.loads(result_path.read_text())
        problems, figures = report(result)
        export = result["export"][0] if result["export"] else {"status": "not started"}
        print(f"export: {export}")
        if export.get("status") != "done" or not export.get("downloaded"):
            problems.append(f"export did not complete: {export}")
        retries = photo_retries(stack, plan)
        print(f"photo upload retried at once across instances: {retries or 'ok (10 of 10)'}")
        problems += retries + check_books(stack, result)
        print("books:", json.dumps(result["books"]))
        conflicts = etag_conflicts(stack, plan)
        shown = conflicts or "ok (20 of 20: one 200, one 412)"
        print(f"ETag conflicts across instances: {shown}")
        limits = shared_rate_limit(stack, plan)
        print(f"sign-in rate limit shared through Redis: {limits or 'ok (10 x 401, then 429)'}")
        problems += conflicts + limits
        figures.update(books=result["books"], export=export)
        out = ROOT / "build" / "load.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(figures, indent=2))
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems))
        return 1
    print("\nOK: zero errors, no lost or duplicated records, no orphaned files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
