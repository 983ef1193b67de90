"""The load generator, run by tests/load/run.py as a separate process:
``python -m tests.load.driver PLAN.json RESULT.json``.

32 client threads (LOAD_CLIENTS) against two app instances for LOAD_SECONDS:
- nurses sync assessments with client-generated ids; a request that fails in
  transport or with a 5xx is retried with the same id and body, and one create
  in ten is deliberately sent again (a phone that never saw the answer);
  every so often they upload a small JPEG (also with a client id);
- clinic staff open the dashboard, wound lists and trajectories;
- one clinic admin runs an export and polls it to the end.
Each request goes to one of the two instances at random. The result file lists
every acknowledged create (id and the content token in its notes) and each
request's route, status and latency.
"""

from __future__ import annotations

import io
import json
import random
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

RETRIES = 5


class Client:
    def __init__(self, plan: dict[str, Any], token: str, seed: int) -> None:
        self.urls = plan["instances"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.rng = random.Random(seed)
        self.samples: list[tuple[str, int, float]] = []  # route, status (0 = transport), seconds
        self.transport_errors: list[str] = []

    def call(self, route: str, method: str, path: str, **kw: Any) -> requests.Response | None:
        base = self.rng.choice(self.urls)
        started = time.perf_counter()
        try:
            r = self.session.request(method, base + path, timeout=60, **kw)
        except requests.RequestException as exc:
            self.samples.append((route, 0, time.perf_counter() - started))
            self.transport_errors.append(f"{route} via {base}: {type(exc).__name__}: {exc}"[:300])
            return None
        self.samples.append((route, r.status_code, time.perf_counter() - started))
        return r

    def create(self, route: str, path: str, **kw: Any) -> requests.Response | None:
        """A create as the mobile app syncs it: the same request again until answered."""
        for attempt in range(RETRIES):
            r = self.call(route, "POST", path, **kw)
            if r is not None and r.status_code < 500:
                return r
            time.sleep(0.2 * (attempt + 1))
        return None


def _jpeg(rng: random.Random) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 48), tuple(rng.randrange(256) for _ in range(3)))
    image.putpixel((rng.randrange(64), rng.randrange(48)), (rng.randrange(256), 0, 0))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def nurse_loop(c: Client, plan: dict[str, Any], deadline: float, out: dict[str, list]) -> None:
    wounds = plan["wounds"]
    n = 0
    while time.monotonic() < deadline:
        n += 1
        wound = c.rng.choice(wounds)
        if n % 8 == 0:
            photo_id = str(uuid.uuid4())
            data = _jpeg(c.rng)
            files = {"file": ("w.jpg", data, "image/jpeg")}
            r = c.create(
                "POST /wounds/{id}/photos",
                f"/api/v1/wounds/{wound}/photos",
                files=files,
                data={"id": photo_id},
            )
            if r is not None and r.status_code in (200, 201):
                out["photos"].append({"id": r.json()["id"], "sent_id": photo_id})
            elif r is not None:
                out["unexpected"].append(("photo", r.status_code, r.text[:200]))
            continue
        token = uuid.uuid4().hex
        body = {
            "id": str(uuid.uuid4()),
            "assessed_at": (
                datetime.now(UTC) - timedelta(minutes=c.rng.randrange(1, 5000))
            ).isoformat(),
            "length_cm": round(c.rng.uniform(0.5, 8), 1),
            "width_cm": round(c.rng.uniform(0.5, 6), 1),
            "exudate_amount": c.rng.choice(["none", "scant", "small", "moderate"]),
            "pain_score": c.rng.randrange(0, 11),
            "notes": f"load {token}",
            "findings": {"erythema": c.rng.choice(["faint", "moderate", "brisk"])},
        }
        path = f"/api/v1/wounds/{wound}/assessments"
        r = c.create("POST /wounds/{id}/assessments", path, json=body)
        if r is None:
            out["unanswered"].append(body["id"])
            continue
        if r.status_code not in (200, 201):
            out["unexpected"].append(("assessment", r.status_code, r.text[:200]))
            continue
        out["assessments"].append({"id": r.json()["id"], "token": token})
        if c.rng.random() < 0.1:  # the phone never saw the answer: same create again
            again = c.create("POST replay", path, json=body)
            if again is None or again.status_code != 200 or again.json()["id"] != body["id"]:
                status = None if again is None else again.status_code
                out["unexpected"].append(
                    ("replay", status, "" if again is None else again.text[:200])
                )


def staff_loop(c: Client, plan: dict[str, Any], deadline: float, out: dict[str, list]) -> None:
    clinic = plan["clinic_id"]
    while time.monotonic() < deadline:
        pick = c.rng.random()
        if pick < 0.35:
            r = c.call("GET /dashboard", "GET", f"/api/v1/dashboard?clinic_id={clinic}")
        elif pick < 0.8:
            wound = c.rng.choice(plan["wounds"])
            r = c.call("GET /wounds/{id}/trajectory", "GET", f"/api/v1/wounds/{wound}/trajectory")
        else:
            r = c.call("GET /wounds", "GET", "/api/v1/wounds?limit=50")
        if r is not None and r.status_code != 200:
            out["unexpected"].append(("staff", r.status_code, r.text[:200]))


def export_loop(c: Client, plan: dict[str, Any], deadline: float, out: dict[str, list]) -> None:
    r = c.call(
        "POST /exports",
        "POST",
        "/api/v1/exports",
        json={"clinic_id": plan["clinic_id"], "format": "csv"},
    )
    if r is None or r.status_code != 202:
        out["unexpected"].append(("export", getattr(r, "status_code", None), ""))
        return
    job = r.json()["id"]
    status = "queued"
    while time.monotonic() < deadline + 120 and status not in ("done", "failed"):
        time.sleep(1)
        r = c.call("GET /exports/{id}", "GET", f"/api/v1/exports/{job}")
        if r is not None and r.status_code == 200:
            status = r.json()["status"]
    if status == "done":
        r = c.call("GET /exports/{id}/download", "GET", f"/api/v1/exports/{job}/download")
        ok = r is not None and r.status_code == 200 and len(r.content) > 0
        out["export"].append({"id": job, "status": status, "downloaded": ok})
    else:
        out["export"].append({"id": job, "status": status, "downloaded": False})


def main(plan_path: str, result_path: str) -> None:
    with open(plan_path) as fh:
        plan = json.loads(fh.read())
    deadline = time.monotonic() + plan["seconds"]
    out: dict[str, list] = {
        k: [] for k in ("assessments", "photos", "unanswered", "unexpected", "export")
    }
    clients: list[Client] = []
    threads: list[threading.Thread] = []
    roles = plan["clients"]  # [(role, token), ...]
    for i, (role, token) in enumerate(roles):
        client = Client(plan, token, seed=i)
        clients.append(client)
        loop = {"nurse": nurse_loop, "staff": staff_loop, "export": export_loop}[role]
        threads.append(threading.Thread(target=loop, args=(client, plan, deadline, out)))
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    samples = [s for c in clients for s in c.samples]
    out["transport"] = [e for c in clients for e in c.transport_errors]
    with open(result_path, "w") as fh:
        json.dump({"elapsed": elapsed, "samples": samples, **out}, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
