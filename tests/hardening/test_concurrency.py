"""Requests that race each other on a real database (SQLite or PostgreSQL):
a phone retrying a photo upload while the first attempt still runs, and two
clients amending one record with the same ETag.

Each request runs in its own thread with its own test client, so each has its
own session and database connection, as under a threaded server.
"""

from __future__ import annotations

import io
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image, ImageDraw

from tests.photos.test_photos_api import make_wound

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def _race(app: Any, n: int, send: Callable[[Any], Any]) -> list[Any]:
    """Run ``send(client)`` in ``n`` threads released together, each with a test
    client of its own (a client keeps cookies, so it is not shared); the answers."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        client = app.test_client()
        barrier.wait()
        try:
            results[i] = send(client)
        except Exception as exc:  # reported by the assertions, not lost in a thread
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return results


def _photo_bytes() -> bytes:
    img = Image.new("RGB", (400, 300), (200, 150, 140))
    ImageDraw.Draw(img).ellipse((120, 80, 280, 220), fill=(150, 40, 50))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def test_concurrent_retries_of_one_upload_keep_one_photo_with_all_its_files(
    app, nurse, clinic, tmp_path, monkeypatch
):
    """20 identical uploads with the same client id at once (a phone retrying
    while its first attempt still runs): one photo is created, every other
    request is answered with it (200) or a 409, and no file is lost or left
    over: storage-check finds nothing missing and no orphan."""
    from app.core.storage import make_storage

    monkeypatch.setitem(app.extensions, "storage", make_storage(tmp_path / "store"))
    monkeypatch.setitem(app.config, "TEMP_DIR", str(tmp_path / "store" / ".tmp"))
    wound = make_wound(app, clinic)
    photo_id = str(uuid.uuid4())
    data = _photo_bytes()

    def send(client: Any) -> Any:
        form = {"file": (io.BytesIO(data), "retry.jpg"), "id": photo_id}
        return client.post(
            f"/api/v1/wounds/{wound}/photos",
            data=form,
            content_type="multipart/form-data",
            headers=nurse.headers,
        )

    answers = _race(app, 20, send)
    codes = Counter(getattr(r, "status_code", repr(r)) for r in answers)
    assert codes[201] == 1, codes
    assert set(codes) <= {200, 201, 409}, codes
    assert all(r.json["id"] == photo_id for r in answers if r.status_code in (200, 201))

    from app.extensions import db
    from app.photos.models import Photo

    with app.app_context():
        rows = db.session.scalars(sa.select(Photo)).all()
        assert [str(p.id) for p in rows] == [photo_id]
        assert set(rows[0].storage_keys) == {"original", "large", "thumb"}
    check = app.test_cli_runner().invoke(args=["storage-check", "--min-age", "0"])
    assert check.exit_code == 0, check.output
    assert "0 missing, 0 orphans" in check.output
    for size in ("original", "large", "thumb"):
        r = nurse.get(f"/api/v1/photos/{photo_id}/content?size={size}")
        assert r.status_code == 200 and r.data[:2] == b"\xff\xd8", size


def _assessment(nurse, app, clinic) -> str:
    wound = make_wound(app, clinic)
    body = {
        "assessed_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "length_cm": 2,
        "width_cm": 1.5,
    }
    r = nurse.post(f"/api/v1/wounds/{wound}/assessments", json=body)
    assert r.status_code == 201, r.get_data(as_text=True)
    return f"/api/v1/assessments/{r.json['id']}"


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_concurrent_writes_with_one_etag_one_wins_the_others_get_412_with_current(
    app, nurse, clinic, method
):
    """8 clients amend (or delete) one record at once, all with the ETag they
    read: one succeeds, every other one hears 412 with the stored record
    (`current`), as it would have a moment later; never a 409 or a 500. (A
    DELETE that starts after the winner's has committed finds no record: 404.)"""
    url = _assessment(nurse, app, clinic)
    etag = nurse.get(url).headers["ETag"]

    def send(client: Any) -> Any:
        headers = {**nurse.headers, "If-Match": etag}
        if method == "DELETE":
            return client.delete(url, headers=headers)
        pain = threading.get_ident() % 10
        return client.patch(url, json={"pain_score": pain}, headers=headers)

    answers = _race(app, 8, send)
    codes = Counter(getattr(r, "status_code", repr(r)) for r in answers)
    losers = {412, 404} if method == "DELETE" else {412}
    assert codes[200] == 1 and set(codes) - {200} <= losers, [
        (r.status_code, r.get_data(as_text=True)[:200]) for r in answers
    ]
    winner = next(r for r in answers if r.status_code == 200)
    for r in answers:
        if r.status_code == 412:
            assert r.mimetype == "application/problem+json"
            assert r.json["current"]["version"] == winner.json["version"] == 2, r.json
            assert r.json["etag"] == r.headers["ETag"] == winner.headers["ETag"]
            assert r.json["current"]["deleted"] == (method == "DELETE")
    if method == "PATCH":
        assert nurse.get(url).json["pain_score"] == winner.json["pain_score"]
