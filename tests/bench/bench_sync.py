"""Sync on a weak network (issue 23), through a local proxy that adds 300 ms
of round trip (150 ms each way) to a real HTTP server running the app:

- 100 queued assessments: one POST /sync against single creates. The singles
  are timed on BENCH_SYNC_SINGLES of them (20 by default, about 7 s) and
  scaled to 100: each costs a round trip and its own work, so their time is
  linear in their number. Target: the batch at least 10x faster.
- A 5 MB photo whose connection is cut at 60 % of its bytes: the bytes sent
  again to finish it, as a share of the photo. A resumed tus upload sends
  what the server lacks (target <= 0.45); a plain upload sends it all again.
- A delta feed of 10,000 records: SQL statements per page at 1,000 and at
  10,000 records, first page and deep (target: no difference).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import io
import json
import logging
import queue
import socket
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import numpy as np
import sqlalchemy as sa
from PIL import Image

from tests.bench.bench_photos import _photo_like
from tests.bench.common import env_int, make_app

ONE_WAY_S = 0.150
N_QUEUED = 100
N_SINGLES = env_int("BENCH_SYNC_SINGLES", 20)
FEED_ROWS = env_int("BENCH_FEED_ROWS", 10_000)
CUT_AT = 0.60


# --- the network ---------------------------------------------------------------------------


class DelayProxy:
    """A TCP proxy on 127.0.0.1 that delivers every byte ONE_WAY_S after it
    arrived, in each direction (latency, not a bandwidth limit). ``cut_next``
    makes the next connection drop after that many client bytes, as a phone
    losing signal: both sides see the connection end there."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.cut_next: int | None = None
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            upstream = socket.create_connection(("127.0.0.1", self.target))
            cut, self.cut_next = self.cut_next, None
            pair = (client, upstream)
            for args in ((client, upstream, cut, pair), (upstream, client, None, pair)):
                threading.Thread(target=self._pipe, args=args, daemon=True).start()

    @staticmethod
    def _close(pair: tuple[socket.socket, socket.socket]) -> None:
        for sock in pair:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _pipe(self, src, dst, cut, pair) -> None:
        pending: queue.Queue = queue.Queue()

        def deliver() -> None:
            while True:
                due, data = pending.get()
                time.sleep(max(0.0, due - time.monotonic()))
                if data is None:
                    self._close(pair)
                    return
                try:
                    dst.sendall(data)
                except OSError:
                    return

        threading.Thread(target=deliver, daemon=True).start()
        forwarded = 0
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            due = time.monotonic() + ONE_WAY_S
            if cut is not None and forwarded + len(data) >= cut:
                pending.put((due, data[: cut - forwarded]))
                pending.put((due, None))
                return
            pending.put((due, data or None))
            if not data:
                return
            forwarded += len(data)


def _serve(app) -> int:
    """The app on a threaded HTTP/1.1 (keep-alive) server; returns its port."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class KeepAlive(WSGIRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_request(self, *args, **kwargs) -> None:
            pass

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=KeepAlive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_port


class Phone:
    """An HTTP client on the far side of the proxy, with one kept-alive connection."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.auth = {"Authorization": f"Bearer {token}"}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, url: str, body=None, headers=None):
        headers = {**self.auth, **(headers or {})}
        if isinstance(body, dict | list):
            body, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        try:
            self.conn.request(method, url, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            raise
        return response.status, response.headers, data


# --- the cases -------------------------------------------------------------------------------


def _assessment(i: int) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "assessed_at": (datetime.now(UTC) - timedelta(hours=2, minutes=i)).isoformat(),
        "length_cm": 2.0,
        "width_cm": 1.5,
        "exudate_amount": "small",
        "findings": {"erythema": "brisk", "desquamation": "moist"},
    }


def queued_assessments(phone: Phone, wound: str) -> dict:
    url = f"/api/v1/wounds/{wound}/assessments"
    phone.request("GET", "/api/v1/me")  # the connection is open on both sides
    started = time.perf_counter()
    for i in range(N_SINGLES):
        status, _, _ = phone.request("POST", url, _assessment(i))
        assert status == 201, status
    singles_s = (time.perf_counter() - started) * N_QUEUED / N_SINGLES
    batch = {
        "requests": [
            {"id": str(i), "method": "POST", "url": url, "body": _assessment(i)}
            for i in range(N_QUEUED)
        ]
    }
    started = time.perf_counter()
    status, _, data = phone.request("POST", "/api/v1/sync", batch)
    batch_s = time.perf_counter() - started
    assert status == 200, data[:300]
    assert {r["status"] for r in json.loads(data)["responses"]} == {201}
    return {"singles_s": singles_s, "batch_s": batch_s}


def five_mb_photo() -> bytes:
    """A photo-like JPEG of about 5 MB (gradients and sensor noise)."""
    rng = np.random.default_rng(5)
    base = np.asarray(_photo_like(3100, 2325)).astype(np.float32)
    pixels = np.clip(base + rng.normal(0, 18, base.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def _multipart(photo: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + photo + f"\r\n--{boundary}--\r\n".encode(), boundary


def plain_upload_resent(phone: Phone, proxy: DelayProxy, wound: str, photo: bytes) -> float:
    """Bytes a plain upload sends again after a cut, as a share of the photo."""
    body, boundary = _multipart(photo)
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    url = f"/api/v1/wounds/{wound}/photos"
    phone.conn.close()
    proxy.cut_next = int(len(photo) * CUT_AT)
    try:
        phone.request("POST", url, body, headers)
        raise AssertionError("the cut connection answered")
    except (OSError, http.client.HTTPException):
        pass
    status, _, data = phone.request("POST", url, body, headers)  # all of it again
    assert status == 201, data[:300]
    return len(body) / len(photo)


def _meta(**fields: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


def resumed_upload_resent(phone: Phone, proxy: DelayProxy, wound: str, photo: bytes) -> float:
    """Bytes a tus upload sends again after a cut, as a share of the photo."""
    tus = {"Tus-Resumable": "1.0.0"}
    status, headers, _ = phone.request(
        "POST",
        "/api/v1/uploads",
        b"",
        {**tus, "Upload-Length": str(len(photo)), "Upload-Metadata": _meta(wound_id=wound)},
    )
    assert status == 201, status
    url = headers["Location"]
    octets = {**tus, "Content-Type": "application/offset+octet-stream"}
    phone.conn.close()
    proxy.cut_next = int(len(photo) * CUT_AT)
    try:
        phone.request("PATCH", url, photo, {**octets, "Upload-Offset": "0"})
        raise AssertionError("the cut connection answered")
    except (OSError, http.client.HTTPException):
        pass
    resent = 0
    for _ in range(50):  # the server may still be closing the cut request: 423, retry
        _, state, _ = phone.request("HEAD", url, None, tus)
        offset = int(state["Upload-Offset"])
        rest = photo[offset:]
        sent = {**octets, "Upload-Offset": str(offset)}
        status, answer, data = phone.request("PATCH", url, rest, sent)
        resent += len(rest) if status != 423 else 0
        if status == 204:
            assert answer["Photo-Location"], answer
            return resent / len(photo)
        assert status == 423, (status, data[:300])
        time.sleep(0.2)
    raise AssertionError("the upload never resumed")


def _bulk(app, clinic: uuid.UUID, n: int) -> None:
    """``n`` records over the five types of the feed, inserted with Core."""
    from app.assessments.models import Assessment
    from app.extensions import db
    from app.patients.models import Patient
    from app.photos.models import Photo
    from app.procedures.models import Procedure
    from app.wounds.models import Wound

    now = datetime.now(UTC) - timedelta(days=1)
    common = {"clinic_id": clinic, "version": 1, "created_at": now}
    rows: dict = {Patient: [], Wound: [], Assessment: [], Procedure: [], Photo: []}
    for i in range(n // 5):
        at = {**common, "updated_at": now + timedelta(milliseconds=i)}
        pid, wid = uuid.uuid4(), uuid.uuid4()
        rows[Patient].append({**at, "id": pid, "mrn": f"F{i}", "given_name": "Bench",
            "family_name": "Mark", "birth_date": date(1950, 1, 1), "sex": "female"})  # fmt: skip
        rows[Wound].append({**at, "id": wid, "patient_id": pid, "body_site": "axilla",
            "laterality": "left", "etiology": "radiation_dermatitis", "in_skin_fold": False,
            "onset_date": date(2026, 1, 1), "status": "open"})  # fmt: skip
        rows[Assessment].append({**at, "id": uuid.uuid4(), "wound_id": wid, "assessed_at": now,
            "length_cm": 2.0, "width_cm": 1.0})  # fmt: skip
        rows[Procedure].append({**at, "id": uuid.uuid4(), "wound_id": wid, "performed_at": now,
            "kind": "dressing"})  # fmt: skip
        rows[Photo].append({**at, "id": uuid.uuid4(), "wound_id": wid, "sha256": uuid.uuid4().hex,
            "width": 10, "height": 10, "format_in": "PNG", "bytes_in": 10,
            "storage_keys": {}})  # fmt: skip
    with app.app_context():
        for model, batch in rows.items():
            for start in range(0, len(batch), 2000):
                db.session.execute(sa.insert(model), batch[start : start + 2000])
        db.session.commit()


def feed_statements(app, nurse, clinic: uuid.UUID) -> dict:
    """Statements of a feed page (100 items) at 1,000 and FEED_ROWS records."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    counter = {"n": 0}

    def count(*_args) -> None:
        counter["n"] += 1

    def page(cursor: str | None) -> tuple[int, float, str]:
        url = f"/api/v1/sync?clinic_id={clinic}&limit=100" + (f"&cursor={cursor}" if cursor else "")
        counter["n"] = 0
        started = time.perf_counter()
        r = nurse.get(url)
        elapsed = time.perf_counter() - started
        assert r.status_code == 200 and len(r.json["items"]) == 100, r.get_data()[:300]
        return counter["n"], elapsed, r.json["next_cursor"]

    def first_and_deep() -> tuple[int, int, float]:
        first, elapsed, cursor = page(None)
        for _ in range(5):
            _, _, cursor = page(cursor)
        deep, _, _ = page(cursor)
        return first, deep, elapsed

    nurse.get(f"/api/v1/sync?clinic_id={clinic}")  # warm: compiled statements, the token
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        _bulk(app, clinic, 1000)
        small_first, small_deep, small_s = first_and_deep()
        _bulk(app, clinic, FEED_ROWS - 1000)
        big_first, big_deep, big_s = first_and_deep()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return {
        "small": (small_first, small_deep, small_s),
        "big": (big_first, big_deep, big_s),
    }


def run(results: list[dict]) -> None:
    from app.extensions import db
    from app.patients.models import Patient
    from app.wounds.models import Wound
    from tests.factories import Factory

    app = make_app()
    factory = Factory(app)
    clinic = factory.clinic("Bench Sync Clinic")
    nurse = factory.actor("nurse", clinic)
    with app.app_context():
        patient = Patient(clinic_id=clinic, mrn="S1", given_name="Bench", family_name="Mark",
                          birth_date=date(1950, 1, 1), sex="female")  # fmt: skip
        db.session.add(patient)
        db.session.flush()
        wounds = []
        for _ in range(3):
            wound = Wound(clinic_id=clinic, patient_id=patient.id, body_site="axilla",
                          laterality="left", etiology="radiation_dermatitis",
                          onset_date=date(2026, 1, 1))  # fmt: skip
            db.session.add(wound)
            wounds.append(wound)
        db.session.commit()
        wound_ids = [str(w.id) for w in wounds]

    proxy = DelayProxy(_serve(app))
    phone = Phone(proxy.port, nurse.token)
    timing = queued_assessments(phone, wound_ids[0])
    photo = five_mb_photo()
    plain = plain_upload_resent(phone, proxy, wound_ids[1], photo)
    resumed = resumed_upload_resent(phone, proxy, wound_ids[2], photo)
    feed_clinic = factory.clinic("Bench Feed Clinic")
    feed = feed_statements(app, factory.actor("nurse", feed_clinic), feed_clinic)
    print(
        f"   100 assessments: singles {timing['singles_s']:.1f} s (scaled from {N_SINGLES}), "
        f"one batch {timing['batch_s']:.2f} s; photo {len(photo) / 1e6:.1f} MB cut at "
        f"{CUT_AT:.0%}: plain resends {plain:.0%}, tus {resumed:.0%}; feed statements per page "
        f"{feed['small'][:2]} at 1k, {feed['big'][:2]} at {FEED_ROWS // 1000}k"
    )
    small_first, small_deep, small_s = feed["small"]
    big_first, big_deep, big_s = feed["big"]

    def row(name: str, value: float, unit: str, target=None, better="lower") -> dict:
        return {"name": name, "value": value, "unit": unit, "target": target, "better": better}

    results += [
        row("sync_100_assessments_singles_s", timing["singles_s"], "s"),
        row("sync_100_assessments_batch_s", timing["batch_s"], "s"),
        row(
            "sync_batch_vs_singles_300ms_rtt",
            timing["singles_s"] / timing["batch_s"],
            "ratio",
            10,
            "higher",
        ),
        row("photo_5mb_cut_60pct_plain_resent", plain, "share"),
        row("photo_5mb_cut_60pct_resumed_resent", resumed, "share", 0.45),
        row("sync_feed_page100_statements_1k", small_first, "queries"),
        row(
            "sync_feed_page100_statements_10k_minus_1k",
            max(big_first, big_deep) - min(small_first, small_deep),
            "queries",
            0,
        ),
        row("sync_feed_page100_1k_ms", small_s * 1000, "ms"),
        row("sync_feed_page100_10k_ms", big_s * 1000, "ms"),
    ]


if __name__ == "__main__":
    rows: list[dict] = []
    run(rows)
    for row in rows:
        print(f"{row['name']:<45} {row['value']:>10.4g} {row['unit']}")
