"""The photo API through HTTP, with real image files (the hostile corpus and
photos generated here with Pillow and OpenCV)."""

from __future__ import annotations

import io
import math
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image

from tests.photos.test_imaging import ACCEPT, CORPUS, CORPUS_FILES, EXPECTED, assert_clean_jpeg

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


# --- helpers -------------------------------------------------------------------


def make_wound(app, clinic_id) -> uuid.UUID:
    from app.extensions import db
    from app.patients.models import Patient
    from app.wounds.models import Wound

    with app.app_context():
        patient = Patient(
            clinic_id=clinic_id,
            mrn=f"MRN-{uuid.uuid4().hex[:8]}",
            given_name="Testa",
            family_name="Fictitious",
            birth_date=datetime(1950, 1, 1).date(),
            sex="female",
        )
        db.session.add(patient)
        db.session.flush()
        wound = Wound(
            clinic_id=clinic_id,
            patient_id=patient.id,
            body_site="popliteal fossa",
            laterality="left",
            etiology="radiation_dermatitis",
            onset_date=datetime(2026, 1, 5).date(),
        )
        db.session.add(wound)
        db.session.commit()
        return wound.id


def make_assessment(app, clinic_id, wound_id) -> uuid.UUID:
    from app.assessments.models import Assessment
    from app.extensions import db

    with app.app_context():
        a = Assessment(
            clinic_id=clinic_id,
            wound_id=wound_id,
            assessed_at=datetime.now(UTC) - timedelta(hours=1),
            length_cm=4.0,
            width_cm=3.0,
        )
        db.session.add(a)
        db.session.commit()
        return a.id


@pytest.fixture
def wound(app, clinic):
    return make_wound(app, clinic)


def upload(actor, wound_id, data: bytes, filename: str = "photo.jpg", **fields):
    form = {"file": (io.BytesIO(data), filename), **{k: str(v) for k, v in fields.items()}}
    return actor.post(
        f"/api/v1/wounds/{wound_id}/photos", data=form, content_type="multipart/form-data"
    )


def storage_root(app) -> Path:
    return Path(app.config["STORAGE_DIR"])


def stored_files(app) -> set[Path]:
    """Every file under the photo storage (finished or not: .tmp files count)."""
    root = storage_root(app) / "photos"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def photo_rows(app) -> int:
    from app.extensions import db
    from app.photos.models import Photo

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) or 0


def jpeg_bytes(img: Image.Image, **save) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92, **save)
    return buf.getvalue()


def content(actor, body: dict, size: str) -> bytes:
    r = actor.get(body["urls"][size])
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.data


def assert_problem(r, status: int) -> None:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:500])
    assert r.mimetype == "application/problem+json"
    assert r.json["status"] == status and r.json["title"]


# --- the hostile corpus ----------------------------------------------------------


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_file_through_http(app, nurse, wound, name):
    expected = EXPECTED[name]
    allowed = expected if isinstance(expected, set) else {expected}
    before_files, before_rows = stored_files(app), photo_rows(app)
    r = upload(nurse, wound, (CORPUS / name).read_bytes(), filename=name)
    assert r.status_code < 500, r.get_data(as_text=True)
    if r.status_code in (200, 201):
        assert ACCEPT in allowed, f"{name} accepted, expected {expected}"
        body = r.json
        assert body["width"] > 0 and body["height"] > 0
        assert set(body["urls"]) == {"original", "large", "thumb"}
        assert len(stored_files(app) - before_files) == 3
        for size in ("original", "large", "thumb"):
            with Image.open(io.BytesIO(content(nurse, body, size))) as img:
                assert img.format == "JPEG" and img.mode == "RGB"
                assert not img.getexif()
    else:
        assert r.status_code in allowed, f"{name} got {r.status_code}, expected {expected}"
        assert r.mimetype == "application/problem+json"
        assert r.json["detail"]
        assert stored_files(app) == before_files
        assert photo_rows(app) == before_rows


HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


@pytest.mark.parametrize(
    ("data", "filename", "status"),
    [
        (HTML, "wound.jpg", 415),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "wound.jpg", 415),
        (b"", "empty.jpg", 422),
        ((CORPUS / "hopper.jpg").read_bytes()[:2000], "truncated.jpg", 422),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 50, "header-only.jpg", 422),
    ],
    ids=["html-named-jpg", "pdf-named-jpg", "zero-byte", "truncated", "header-only"],
)
def test_bad_files_leave_nothing(app, nurse, wound, data, filename, status):
    before = stored_files(app)
    r = upload(nurse, wound, data, filename=filename)
    assert_problem(r, status)
    assert stored_files(app) == before
    assert photo_rows(app) == 0


def test_no_file_part(app, nurse, wound):
    r = nurse.post(
        f"/api/v1/wounds/{wound}/photos",
        data={"marker_size_cm": "2"},
        content_type="multipart/form-data",
    )
    assert_problem(r, 422)
    assert "file" in r.json["errors"]


def test_not_multipart_at_all(app, nurse, wound):
    r = nurse.post(f"/api/v1/wounds/{wound}/photos", json={"file": "hello"})
    assert_problem(r, 422)
    assert "file" in r.json["errors"]


def test_two_files(app, nurse, wound):
    data = (CORPUS / "hopper.jpg").read_bytes()
    r = nurse.post(
        f"/api/v1/wounds/{wound}/photos",
        data={"file": [(io.BytesIO(data), "a.jpg"), (io.BytesIO(data), "b.jpg")]},
        content_type="multipart/form-data",
    )
    assert_problem(r, 422)
    assert "file" in r.json["errors"]
    assert photo_rows(app) == 0


def test_file_under_another_name(app, nurse, wound):
    data = (CORPUS / "hopper.jpg").read_bytes()
    r = nurse.post(
        f"/api/v1/wounds/{wound}/photos",
        data={"photo": (io.BytesIO(data), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert_problem(r, 422)
    assert photo_rows(app) == 0


@pytest.mark.parametrize(
    "filename",
    [
        "x" * 20000 + ".jpg",
        "../../../../etc/passwd",
        "..\\..\\windows\\system32\\evil.jpg",
        "/absolute/path.jpg",
        "nul\x00byte.jpg",
        "wound\r\nX-Injected: 1.jpg",
    ],
    ids=["huge", "dotdot", "backslash", "absolute", "nul", "crlf"],
)
def test_hostile_filenames_never_reach_storage(app, nurse, wound, filename):
    r = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes(), filename=filename)
    assert r.status_code in (201, 400, 413, 422), r.get_data(as_text=True)[:300]
    root = storage_root(app).resolve()
    for path in stored_files(app):
        assert path.resolve().is_relative_to(root / "photos")
        assert path.name in {"original.jpg", "large.jpg", "thumb.jpg"}
    if r.status_code == 201:
        photo = r.json
        c = nurse.get(photo["urls"]["thumb"])
        disposition = c.headers["Content-Disposition"]
        assert (
            photo["id"] in disposition and ".." not in disposition and "passwd" not in disposition
        )


def test_too_many_bytes_is_413_and_leaves_nothing(app, nurse, wound, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_MAX_BYTES", 20_000)
    before = stored_files(app)
    big = (CORPUS / "hopper_bad_exif.jpg").read_bytes()  # 128 kB
    assert_problem(upload(nurse, wound, big), 413)
    # just over the byte limit but under the framing allowance: caught while copying
    img = Image.effect_noise((200, 200), 60).convert("RGB")
    data = jpeg_bytes(img)
    assert 20_000 < len(data) < 20_000 + 60_000
    assert_problem(upload(nurse, wound, data), 413)
    assert stored_files(app) == before and photo_rows(app) == 0


def test_too_many_pixels_is_413(app, nurse, wound, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_MAX_PIXELS", 10_000)
    r = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes())  # 128 x 128
    assert_problem(r, 413)
    assert photo_rows(app) == 0


# --- access ------------------------------------------------------------------------


def test_other_clinics_wound_is_404(app, outsider, wound):
    r = upload(outsider, wound, (CORPUS / "hopper.jpg").read_bytes())
    assert_problem(r, 404)
    assert photo_rows(app) == 0


def test_researcher_may_not_upload_or_view(app, nurse, researcher, wound):
    assert_problem(upload(researcher, wound, (CORPUS / "hopper.jpg").read_bytes()), 403)
    photo = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes()).json
    assert_problem(researcher.get(f"/api/v1/photos/{photo['id']}"), 403)
    assert_problem(researcher.get(photo["urls"]["thumb"]), 403)


def test_content_needs_auth_and_clinic(app, client, nurse, outsider, wound):
    photo = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes()).json
    assert_problem(client.get(photo["urls"]["original"]), 401)
    assert_problem(outsider.get(photo["urls"]["original"]), 404)
    assert_problem(outsider.get(f"/api/v1/photos/{photo['id']}"), 404)


# --- the happy path ---------------------------------------------------------------------


def test_upload_read_list_delete(app, nurse, wound):
    r = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes())
    assert r.status_code == 201, r.json
    photo = r.json
    assert photo["wound_id"] == str(wound)
    assert (photo["width"], photo["height"]) == (128, 128)
    assert len(photo["sha256"]) == 64
    assert photo["calibration"] is None
    assert photo["marker_detection"]["found"] is False
    assert photo["marker_detection"]["reason"]
    assert photo["taken_at_source"] == "server"
    assert photo["urls"]["thumb"] == f"/api/v1/photos/{photo['id']}/content?size=thumb"
    got = nurse.get(f"/api/v1/photos/{photo['id']}")
    assert got.status_code == 200 and got.json["id"] == photo["id"]
    listed = nurse.get(f"/api/v1/wounds/{wound}/photos")
    assert [p["id"] for p in listed.json["items"]] == [photo["id"]]
    assert_problem(nurse.delete(f"/api/v1/photos/{photo['id']}"), 428)
    gone = nurse.delete(f"/api/v1/photos/{photo['id']}", etag=got.headers["ETag"])
    assert gone.status_code == 200
    assert nurse.get(f"/api/v1/wounds/{wound}/photos").json["items"] == []
    assert_problem(nurse.get(f"/api/v1/photos/{photo['id']}"), 404)
    # the same bytes again: the deleted photo is named, not silently duplicated
    again = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes())
    assert_problem(again, 409)
    assert again.json["photo_id"] == photo["id"]


def test_reads_are_audited(app, nurse, wound):
    from app.core.audit import AuditEvent
    from app.extensions import db

    photo = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes()).json
    nurse.get(f"/api/v1/photos/{photo['id']}")
    nurse.get(photo["urls"]["thumb"])
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.record_id == photo["id"])
        ).all()
    assert actions.count("read") == 2 and "create" in actions


def test_list_is_in_capture_order_and_pages(app, nurse, wound):
    base = datetime(2026, 3, 1, 9, tzinfo=UTC)
    ids = {}
    for i, name in enumerate(["hopper.jpg", "hopper.png", "hopper.webp"]):
        taken = (base - timedelta(days=i)).isoformat()
        r = upload(nurse, wound, (CORPUS / name).read_bytes(), filename=name, taken_at=taken)
        assert r.status_code == 201, r.json
        assert r.json["taken_at_source"] == "client"
        ids[i] = r.json["id"]
    first = nurse.get(f"/api/v1/wounds/{wound}/photos?limit=2").json
    assert [p["id"] for p in first["items"]] == [ids[2], ids[1]]
    second = nurse.get(f"/api/v1/wounds/{wound}/photos?limit=2&cursor={first['next_cursor']}")
    assert [p["id"] for p in second.json["items"]] == [ids[0]]


def test_dedupe_same_bytes_same_wound(app, nurse, wound, clinic):
    data = (CORPUS / "flower.jpg").read_bytes()
    first = upload(nurse, wound, data)
    assert first.status_code == 201
    files = stored_files(app)
    second = upload(nurse, wound, data, id=uuid.uuid4())
    assert second.status_code == 200 and second.json["id"] == first.json["id"]
    assert stored_files(app) == files and photo_rows(app) == 1
    # the same bytes for another wound are another photo
    other = make_wound(app, clinic)
    assert upload(nurse, other, data).status_code == 201


def test_client_id_replay_and_conflict(app, nurse, wound):
    pid = str(uuid.uuid4())
    a = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes(), id=pid)
    assert a.status_code == 201 and a.json["id"] == pid
    replay = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes(), id=pid)
    assert replay.status_code == 200 and replay.json["id"] == pid
    before = stored_files(app)
    clash = upload(nurse, wound, (CORPUS / "hopper.png").read_bytes(), id=pid)
    assert_problem(clash, 409)
    assert clash.json["stored"]["id"] == pid
    assert stored_files(app) == before and photo_rows(app) == 1


def test_bad_form_fields(app, nurse, wound, clinic, other_clinic):
    data = (CORPUS / "hopper.jpg").read_bytes()
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    for fields, name in [
        ({"taken_at": future}, "taken_at"),
        ({"taken_at": "yesterday"}, "taken_at"),
        ({"taken_at": "2026-01-05T10:00:00"}, "taken_at"),  # no offset
        ({"marker_size_cm": "-2"}, "marker_size_cm"),
        ({"assessment_id": "not-a-uuid"}, "assessment_id"),
        ({"assessment_id": uuid.uuid4()}, "assessment_id"),
        ({"colour": "red"}, "colour"),
    ]:
        r = upload(nurse, wound, data, **fields)
        assert_problem(r, 422)
        assert name in r.json["errors"], (fields, r.json)
    # an assessment of another wound
    other_wound = make_wound(app, clinic)
    other_assessment = make_assessment(app, clinic, other_wound)
    r = upload(nurse, wound, data, assessment_id=other_assessment)
    assert_problem(r, 422)
    assert "assessment_id" in r.json["errors"]
    assert photo_rows(app) == 0


def test_exif_capture_time_is_kept_and_gps_removed(app, nurse, wound):
    img = Image.open(CORPUS / "hopper.jpg").convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8769)[0x9003] = "2026:02:03 10:11:12"
    exif.get_ifd(0x8769)[0x9011] = "+02:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (51.0, 30.0, 12.5), "W", (0.0, 7.0, 39.0)
    data = jpeg_bytes(img, exif=exif, comment=b"secret comment")
    with Image.open(io.BytesIO(data)) as check:
        assert check.getexif().get_ifd(0x8825)  # the test input really has GPS
    r = upload(nurse, wound, data)
    assert r.status_code == 201, r.json
    assert r.json["taken_at"] == "2026-02-03T08:11:12+00:00"
    assert r.json["taken_at_source"] == "exif"
    for path in stored_files(app):
        raw = path.read_bytes()
        assert b"PhoneMaker" not in raw and b"secret comment" not in raw
        assert_clean_jpeg(str(path))


def test_gps_of_the_corpus_file_gone_from_every_copy(app, nurse, wound):
    r = upload(nurse, wound, (CORPUS / "exif_gps.jpg").read_bytes())
    assert r.status_code == 201
    for size in ("original", "large", "thumb"):
        data = content(nurse, r.json, size)
        with Image.open(io.BytesIO(data)) as img:
            assert not img.getexif().get_ifd(0x8825)
        assert b"Exif" not in data


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_is_applied(app, nurse, wound, orientation):
    """An asymmetric image stored with each EXIF orientation comes back upright."""
    upright = Image.new("RGB", (240, 160), (255, 255, 255))
    arr = np.asarray(upright).copy()
    arr[:40, :80] = (255, 0, 0)  # red block at the top left
    arr[120:, 200:] = (0, 0, 255)  # blue block at the bottom right
    arr[:40, 200:] = (0, 160, 0)  # green block at the top right
    upright = Image.fromarray(arr)
    # what a camera stores so that applying `orientation` gives the upright image
    inverse = {
        1: None,
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }[orientation]
    stored = upright.transpose(inverse) if inverse is not None else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    r = upload(nurse, wound, jpeg_bytes(stored, exif=exif, subsampling=0))
    assert r.status_code == 201, r.json
    assert (r.json["width"], r.json["height"]) == (240, 160)
    got = np.asarray(Image.open(io.BytesIO(content(nurse, r.json, "original"))).convert("RGB"))
    diff = np.abs(got.astype(int) - np.asarray(upright).astype(int))
    assert diff.mean() < 6, f"orientation {orientation}: mean diff {diff.mean():.1f}"


# --- serving ---------------------------------------------------------------------------


def test_content_headers_and_304(app, nurse, wound):
    photo = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes()).json
    r = nurse.get(photo["urls"]["thumb"])
    assert r.status_code == 200
    assert r.mimetype == "image/jpeg"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in r.headers["Cache-Control"]
    assert r.headers["Content-Disposition"] == (
        f'inline; filename="wound-photo-{photo["id"]}-thumb.jpg"'
    )
    assert int(r.headers["Content-Length"]) == len(r.data)
    etag = r.headers["ETag"]
    assert etag
    not_modified = nurse.get(photo["urls"]["thumb"], headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.data == b""
    assert not_modified.headers["ETag"] == etag
    # another size has another validator
    large = nurse.get(photo["urls"]["large"], headers={"If-None-Match": etag})
    assert large.status_code == 200 and large.headers["ETag"] != etag
    assert_problem(nurse.get(f"/api/v1/photos/{photo['id']}/content?size=huge"), 422)


def test_large_and_thumb_sizes(app, nurse, wound):
    img = Image.effect_noise((2400, 1800), 40).convert("RGB")
    r = upload(nurse, wound, jpeg_bytes(img))
    assert r.status_code == 201
    sizes = {s: Image.open(io.BytesIO(content(nurse, r.json, s))).size for s in r.json["urls"]}
    assert sizes == {"original": (2400, 1800), "large": (1600, 1200), "thumb": (320, 240)}


# --- calibration and tracing -------------------------------------------------------------

MARKER_CM = 2.0
PX_PER_CM = 60.0
# a 4 cm x 2.5 cm wound-coloured rectangle, corners in pixels of the face-on photo
SHAPE_PX = np.array([[1500, 900], [1740, 900], [1740, 1050], [1500, 1050]], dtype=np.float64)
SHAPE_AREA = 10.0


def scene() -> np.ndarray:
    """A 3000 x 2000 px face-on 'photo': skin, a marker at 60 px/cm, a shape of known size."""
    img = np.full((2000, 3000, 3), (214, 170, 150), dtype=np.uint8)
    side = round(MARKER_CM * PX_PER_CM)
    marker = cv2.aruco.generateImageMarker(
        cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50), 0, side, borderBits=1
    )
    quiet = side // 3
    y0, x0 = 800, 900
    img[y0 - quiet : y0 + side + quiet, x0 - quiet : x0 + side + quiet] = 255
    img[y0 : y0 + side, x0 : x0 + side] = marker[:, :, None]
    cv2.fillPoly(img, [SHAPE_PX.astype(np.int32)], (150, 30, 40))
    return img


def tilt(img: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """The scene seen by a camera tilted by ``degrees``, and the shape's corners in it."""
    height, width = img.shape[:2]
    f = 1.2 * width
    k = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]])
    a = math.radians(degrees)
    r = np.array([[1, 0, 0], [0, math.cos(a), -math.sin(a)], [0, math.sin(a), math.cos(a)]])
    h = k @ r @ np.linalg.inv(k)
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float64)
    warped = cv2.perspectiveTransform(corners.reshape(-1, 1, 2), h).reshape(-1, 2)
    lo = warped.min(axis=0)
    h = np.array([[1, 0, -lo[0]], [0, 1, -lo[1]], [0, 0, 1]]) @ h
    size = np.ceil(warped.max(axis=0) - lo).astype(int)
    out = cv2.warpPerspective(img, h, (int(size[0]), int(size[1])), borderValue=(214, 170, 150))
    shape = cv2.perspectiveTransform(SHAPE_PX.reshape(-1, 1, 2), h).reshape(-1, 2)
    return out, shape


def shoelace(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def test_marker_calibration_and_tracing_face_on(app, nurse, wound, clinic):
    assessment_id = make_assessment(app, clinic, wound)
    data = jpeg_bytes(Image.fromarray(scene()))
    r = upload(nurse, wound, data, marker_size_cm=MARKER_CM, assessment_id=assessment_id)
    assert r.status_code == 201, r.json
    photo = r.json
    assert photo["assessment_id"] == str(assessment_id)
    assert photo["marker_detection"]["found"] is True
    assert photo["calibration"]["source"] == "marker"
    assert photo["calibration"]["px_per_cm"] == pytest.approx(PX_PER_CM, rel=0.01)
    t = nurse.put(f"/api/v1/photos/{photo['id']}/tracing", json={"points": SHAPE_PX.tolist()})
    assert t.status_code == 200, t.json
    tracing = t.json["tracing"]
    # The contract's answer, {area_cm2, perimeter_cm, length_cm, width_cm}, at the top level
    measures = ("area_cm2", "perimeter_cm", "length_cm", "width_cm")
    assert {k: t.json[k] for k in measures} == {k: tracing[k] for k in measures}
    assert t.json["id"] == photo["id"] and t.headers["ETag"] == f'"v{t.json["version"]}"'
    assert tracing["area_cm2"] == pytest.approx(SHAPE_AREA, rel=0.02)
    assert tracing["length_cm"] == pytest.approx(math.hypot(4, 2.5), rel=0.02)
    assert tracing["perimeter_cm"] == pytest.approx(13.0, rel=0.02)
    # the linked assessment now uses the traced area
    from app.assessments.models import Assessment
    from app.extensions import db

    with app.app_context():
        a = db.session.get(Assessment, assessment_id)
        assert a.traced_area_cm2 == pytest.approx(tracing["area_cm2"])
        assert a.traced_perimeter_cm == pytest.approx(tracing["perimeter_cm"])
        assert a.area_method == "traced"
        assert a.area_cm2 == pytest.approx(tracing["area_cm2"])


def test_tracing_at_30_degrees_tilt_within_5_percent(app, nurse, wound):
    tilted, shape = tilt(scene(), 30)
    r = upload(nurse, wound, jpeg_bytes(Image.fromarray(tilted)), marker_size_cm=MARKER_CM)
    assert r.status_code == 201, r.json
    photo = r.json
    assert photo["marker_detection"]["found"] is True
    # a naive px_per_cm reading would be visibly off; the homography is not
    naive = shoelace(shape) / photo["calibration"]["px_per_cm"] ** 2
    assert abs(naive - SHAPE_AREA) / SHAPE_AREA > 0.05
    t = nurse.put(f"/api/v1/photos/{photo['id']}/tracing", json={"points": shape.tolist()})
    assert t.status_code == 200, t.json
    assert t.json["tracing"]["area_cm2"] == pytest.approx(SHAPE_AREA, rel=0.05)


def test_clinic_default_marker_size_is_used(app, nurse, wound, clinic):
    from app.clinics.models import Clinic
    from app.extensions import db

    with app.app_context():
        db.session.get(Clinic, clinic).default_marker_size_cm = MARKER_CM
        db.session.commit()
    r = upload(nurse, wound, jpeg_bytes(Image.fromarray(scene())))
    assert r.status_code == 201
    assert r.json["calibration"]["px_per_cm"] == pytest.approx(PX_PER_CM, rel=0.01)


def test_manual_calibration_and_tracing_errors(app, nurse, wound):
    photo = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes()).json
    url = f"/api/v1/photos/{photo['id']}"
    square = [[10, 10], [110, 10], [110, 110], [10, 110]]
    uncalibrated = nurse.put(f"{url}/tracing", json={"points": square})
    assert_problem(uncalibrated, 422)
    assert "calibrated" in uncalibrated.json["errors"]["points"][0]
    assert_problem(nurse.put(f"{url}/calibration", json={"px_per_cm": 0}), 422)
    cal = nurse.put(f"{url}/calibration", json={"px_per_cm": 20})
    assert cal.status_code == 200
    assert cal.json["calibration"] == {"px_per_cm": 20.0, "source": "manual"}
    traced = nurse.put(f"{url}/tracing", json={"points": square})
    assert traced.status_code == 200
    assert traced.json["tracing"]["area_cm2"] == pytest.approx(25.0)
    # recalibrating re-measures the tracing
    recal = nurse.put(f"{url}/calibration", json={"px_per_cm": 10})
    assert recal.json["tracing"]["area_cm2"] == pytest.approx(100.0)
    bowtie = [[10, 10], [110, 110], [110, 10], [10, 110]]
    r = nurse.put(f"{url}/tracing", json={"points": bowtie})
    assert_problem(r, 422)
    assert "intersect" in r.json["errors"]["points"][0] or "touch" in r.json["errors"]["points"][0]
    line = [[10, 10], [20, 20], [30, 30]]
    assert_problem(nurse.put(f"{url}/tracing", json={"points": line}), 422)
    outside = [[10, 10], [500, 10], [10, 100]]
    r = nurse.put(f"{url}/tracing", json={"points": outside})
    assert_problem(r, 422)
    assert "outside" in r.json["errors"]["points"][0]
    for bad in ([[1, 2]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "abc", [[1, "x"], [2, 3], [4, 5]]):
        assert_problem(nurse.put(f"{url}/tracing", json={"points": bad}), 422)
    # stale If-Match is refused
    stale = nurse.put(f"{url}/calibration", json={"px_per_cm": 5}, headers={"If-Match": '"v1"'})
    assert_problem(stale, 412)


def test_calibration_marker_download(app, client, nurse, researcher):
    assert_problem(client.get("/api/v1/calibration-marker"), 401)
    pdf = researcher.get("/api/v1/calibration-marker?format=pdf&size_cm=3")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    png = nurse.get("/api/v1/calibration-marker?format=png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    from app.photos.calibration import detect_marker

    with Image.open(io.BytesIO(png.data)) as img:
        assert detect_marker(img, 2.0).found
    assert_problem(nurse.get("/api/v1/calibration-marker?format=svg"), 422)
    assert_problem(nurse.get("/api/v1/calibration-marker?size_cm=500"), 422)


# --- failures after the files are written ---------------------------------------------------


def test_storage_failure_is_507_and_leaves_nothing(app, nurse, wound, monkeypatch):
    """A full disk on the second file: the first is removed again, no row."""
    import errno

    from app.core.storage import LocalStorage, StorageError

    store = app.extensions["storage"]
    real_put = LocalStorage.put_file
    calls = []

    def failing_put(self, key, src, content_type):
        calls.append(key)
        if len(calls) == 2:
            raise StorageError("could not store: No space left on device") from OSError(
                errno.ENOSPC, "No space left on device"
            )
        return real_put(self, key, src, content_type)

    monkeypatch.setattr(LocalStorage, "put_file", failing_put)
    before = stored_files(app)
    r = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes())
    assert_problem(r, 507)
    assert stored_files(app) == before and photo_rows(app) == 0
    assert store is app.extensions["storage"]


def test_failed_commit_removes_files(app, nurse, wound, monkeypatch):
    """The row is flushed but the commit fails: the response is an error and
    the files written for it are gone."""
    from sqlalchemy.exc import OperationalError

    from app.extensions import db

    def broken_commit():
        raise OperationalError("COMMIT", {}, Exception("database went away"))

    before = stored_files(app)
    with app.app_context():
        monkeypatch.setattr(db.session, "commit", broken_commit)
        r = upload(nurse, wound, (CORPUS / "hopper.png").read_bytes())
    assert r.status_code == 503
    assert stored_files(app) == before


# --- storage-check ------------------------------------------------------------------------


def test_storage_check_finds_orphans_and_missing_files(app, nurse, wound, tmp_path, monkeypatch):
    # A storage of its own: the session-wide folder holds files other tests
    # left behind (their rows are gone), which would be orphans here too.
    from app.core.storage import make_storage

    monkeypatch.setitem(app.extensions, "storage", make_storage(tmp_path))
    photo = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes()).json
    kept = sorted((tmp_path / "photos").rglob("*.jpg"))
    assert {p.name for p in kept} == {"original.jpg", "large.jpg", "thumb.jpg"}
    orphan = tmp_path / "photos" / "stray" / str(uuid.uuid4()) / "original.jpg"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"not referenced")
    missing = next(p for p in kept if p.name == "large.jpg")
    assert photo["id"] in str(missing)
    missing.unlink()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["storage-check", "--min-age", "0"])
    assert result.exit_code == 1, result.output
    assert f"orphan  photos/stray/{orphan.parent.name}/original.jpg" in result.output
    assert f"missing  photo {photo['id']} large:" in result.output
    assert "1 missing, 1 orphans, removed 0, 0 recent" in result.output
    assert orphan.exists()
    fixed = runner.invoke(args=["storage-check", "--fix", "--min-age", "0"])
    assert fixed.exit_code == 1, fixed.output  # the missing file is still missing
    assert "1 missing, 1 orphans, removed 1, 0 recent" in fixed.output
    assert not orphan.exists()
    assert all(p.exists() for p in kept if p != missing)  # referenced files stay
    assert photo_rows(app) == 1  # rows are never removed
    # the missing file is served as a clear 404, not a 500
    assert_problem(nurse.get(photo["urls"]["large"]), 404)


def _multipart(data: bytes, boundary: str = "bnd123") -> bytes:
    return (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="w.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )


@pytest.mark.parametrize("cut", ["body-shorter-than-length", "no-closing-boundary"])
def test_truncated_http_body(app, nurse, wound, cut):
    """The connection drops mid-upload, or the multipart body ends early."""
    body = _multipart((CORPUS / "flower.jpg").read_bytes())
    half = body[: len(body) // 2]
    before = stored_files(app)
    r = nurse.post(
        f"/api/v1/wounds/{wound}/photos",
        input_stream=io.BytesIO(half),
        content_length=len(body) if cut == "body-shorter-than-length" else len(half),
        content_type="multipart/form-data; boundary=bnd123",
    )
    assert 400 <= r.status_code < 500, r.get_data(as_text=True)[:300]
    assert r.mimetype == "application/problem+json"
    assert stored_files(app) == before and photo_rows(app) == 0


def test_hand_made_multipart_is_accepted(app, nurse, wound):
    body = _multipart((CORPUS / "flower.jpg").read_bytes())
    r = nurse.post(
        f"/api/v1/wounds/{wound}/photos",
        input_stream=io.BytesIO(body),
        content_length=len(body),
        content_type="multipart/form-data; boundary=bnd123",
    )
    assert r.status_code == 201, r.get_data(as_text=True)[:300]


def test_a_request_that_fails_after_the_insert_keeps_no_photo(app, clinic, nurse):
    """All or nothing: when the request rolls back after the photo row was
    inserted (any later failure), neither the row nor (after discard) its files
    remain. On SQLite a savepoint opened before any write is the transaction,
    and its RELEASE would commit the row at once."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.photos import services
    from app.photos.models import Photo

    wound_id = make_wound(app, clinic)
    body = jpeg_bytes(Image.new("RGB", (640, 480), (180, 90, 90)))
    with app.test_request_context(
        "/", method="POST", headers={"Authorization": f"Bearer {nurse.token}"}
    ):
        photo, created = services.upload_photo(
            db.session, wound_id, services.Upload(), io.BytesIO(body)
        )
        assert created
        keys = list(photo.storage_keys.values())
        db.session.rollback()  # what the request boundary does on a failure
        services.discard_unsaved_files(500)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Photo)) == 0
    store = app.extensions["storage"]
    assert all(not store.exists(key) for key in keys)


# --- amending a photo: its assessment and its capture time -------------------------------


def _traced_photo(nurse, wound) -> dict:
    """hopper.jpg, 20 px/cm by hand, a 100 px square traced: 25 cm2."""
    photo = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes()).json
    url = f"/api/v1/photos/{photo['id']}"
    assert nurse.put(f"{url}/calibration", json={"px_per_cm": 20}).status_code == 200
    square = [[10, 10], [110, 10], [110, 110], [10, 110]]
    r = nurse.put(f"{url}/tracing", json={"points": square})
    assert r.status_code == 200 and r.json["tracing"]["area_cm2"] == pytest.approx(25.0)
    return r.json


def _assessment(nurse, wound) -> str:
    """A 4 x 3 cm assessment through the API, so its area is derived (ellipse)."""
    body = {
        "assessed_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "length_cm": 4.0,
        "width_cm": 3.0,
    }
    r = nurse.post(f"/api/v1/wounds/{wound}/assessments", json=body)
    assert r.status_code == 201, r.json
    return r.json["id"]


def _area(nurse, assessment_id) -> tuple[float, str]:
    body = nurse.get(f"/api/v1/assessments/{assessment_id}").json
    return round(body["area_cm2"], 2), body["area_method"]


def _patch(nurse, photo_id, body):
    url = f"/api/v1/photos/{photo_id}"
    return nurse.patch(url, json=body, headers={"If-Match": nurse.get(url).headers["ETag"]})


def test_a_photo_linked_later_carries_its_tracing_to_the_assessment(app, nurse, wound, clinic):
    first = _assessment(nurse, wound)
    second = _assessment(nurse, wound)
    ellipse = (round(math.pi / 4 * 4.0 * 3.0, 2), "ellipse")
    photo = _traced_photo(nurse, wound)  # uploaded before its assessment was chosen
    assert _area(nurse, first) == ellipse

    r = _patch(nurse, photo["id"], {"assessment_id": str(first)})
    assert r.status_code == 200 and r.json["assessment_id"] == str(first)
    assert _area(nurse, first) == (25.0, "traced")

    # Picked the wrong assessment at the bedside: move it.
    r = _patch(nurse, photo["id"], {"assessment_id": str(second)})
    assert r.status_code == 200
    assert _area(nurse, first) == ellipse
    assert _area(nurse, second) == (25.0, "traced")

    assert _patch(nurse, photo["id"], {"assessment_id": None}).json["assessment_id"] is None
    assert _area(nurse, second) == ellipse
    history = nurse.get(f"/api/v1/photos/{photo['id']}/history").json["items"]
    assert [v["data"]["assessment_id"] for v in history[-3:]] == [str(first), str(second), None]


def test_deleting_a_traced_photo_takes_its_area_from_the_assessment(
    app, nurse, admin, wound, clinic
):
    a = _assessment(nurse, wound)
    photo = _traced_photo(nurse, wound)
    _patch(nurse, photo["id"], {"assessment_id": str(a)})
    assert _area(nurse, a) == (25.0, "traced")
    url = f"/api/v1/photos/{photo['id']}"
    assert (
        nurse.delete(url, headers={"If-Match": nurse.get(url).headers["ETag"]}).status_code == 200
    )
    assert _area(nurse, a) == (round(math.pi / 4 * 12.0, 2), "ellipse")
    assert admin.post(f"{url}/restore").status_code == 200
    assert _area(nurse, a) == (25.0, "traced")


def test_photo_amendments_are_checked_and_write_nothing_when_refused(
    app, nurse, wound, clinic, other_clinic
):
    photo = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes()).json
    url = f"/api/v1/photos/{photo['id']}"
    etag = nurse.get(url).headers["ETag"]
    other_wound = make_wound(app, clinic)
    elsewhere = make_assessment(app, clinic, other_wound)
    foreign = make_assessment(app, other_clinic, make_wound(app, other_clinic))
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    cases = [
        ({"assessment_id": str(elsewhere)}, "assessment_id"),
        ({"assessment_id": str(foreign)}, "assessment_id"),
        ({"assessment_id": str(uuid.uuid4())}, "assessment_id"),
        ({"assessment_id": "not-a-uuid"}, "assessment_id"),
        ({"taken_at": future}, "taken_at"),
        ({"taken_at": "2026-01-05T09:00:00"}, "taken_at"),  # no offset
        ({"taken_at": None}, "taken_at"),
        ({"sha256": "0" * 64}, "sha256"),
        ({"wound_id": str(other_wound)}, "wound_id"),
    ]
    for body, field in cases:
        r = nurse.patch(url, json=body, headers={"If-Match": etag})
        assert_problem(r, 422)
        assert field in r.json["errors"], (body, r.json)
    assert_problem(nurse.patch(url, json={"taken_at": photo["taken_at"]}), 428)
    assert nurse.get(url).json["version"] == photo["version"]

    r = nurse.patch(url, json={"taken_at": "2026-02-01T10:30:00+02:00"}, headers={"If-Match": etag})
    assert r.status_code == 200
    assert r.json["taken_at"].startswith("2026-02-01T08:30:00")
    assert r.json["taken_at_source"] == "client"
    assert_problem(nurse.patch(url, json={"assessment_id": None}, headers={"If-Match": etag}), 412)


def test_a_tracing_that_opens_an_area_after_the_healed_date_reopens_the_wound(app, nurse, wound):
    """The traced area makes the assessment an open measurement after the
    wound's healed date: the wound has recurred (as when it is measured)."""
    from app.extensions import db
    from app.wounds.models import Wound

    healed = (datetime.now(UTC) - timedelta(days=3)).date()
    with app.app_context():
        w = db.session.get(Wound, wound)
        w.status, w.healed_on = "healed", healed
        db.session.commit()
    body = {"assessed_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}
    assessment = nurse.post(f"/api/v1/wounds/{wound}/assessments", json=body).json["id"]
    assert nurse.get(f"/api/v1/wounds/{wound}").json["status"] == "healed"  # nothing measured
    photo = _traced_photo(nurse, wound)
    assert _patch(nurse, photo["id"], {"assessment_id": assessment}).status_code == 200
    w = nurse.get(f"/api/v1/wounds/{wound}").json
    assert (w["status"], w["healed_on"]) == ("open", None)
    assert w["closures"][0]["healed_on"] == healed.isoformat()
    assert w["closures"][0]["assessment_id"] == assessment
