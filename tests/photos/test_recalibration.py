"""The calibration dead end and the capture time of photos without one.

A marker photo uploaded with no size calibrates with the printed marker's
default; POST /photos/{id}/calibration detects again with the size the nurse
gives. A photo with no capture time of its own takes its assessment's time.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from PIL import Image

from app.photos.calibration import DEFAULT_MARKER_SIZE_CM
from tests.photos.test_imaging import CORPUS
from tests.photos.test_photos_api import (
    MARKER_CM,
    PX_PER_CM,
    SHAPE_AREA,
    SHAPE_PX,
    assert_problem,
    jpeg_bytes,
    make_assessment,
    make_wound,
    scene,
    upload,
)

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture
def wound(app, clinic):
    return make_wound(app, clinic)


@pytest.fixture
def marker_photo() -> bytes:
    return jpeg_bytes(Image.fromarray(scene()))


def _set_clinic_marker(app, clinic_id, size_cm) -> None:
    from app.clinics.models import Clinic
    from app.extensions import db

    with app.app_context():
        db.session.get(Clinic, clinic_id).default_marker_size_cm = size_cm
        db.session.commit()


def _assessed_at(app, assessment_id) -> datetime:
    from app.assessments.models import Assessment
    from app.extensions import db

    with app.app_context():
        value = db.session.get(Assessment, assessment_id).assessed_at
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def test_the_scene_uses_the_printed_default():
    # the tests below rely on the scene's marker being printed at the default size
    assert MARKER_CM == DEFAULT_MARKER_SIZE_CM == 2.0


def test_no_size_anywhere_calibrates_with_the_printed_default(app, nurse, wound, marker_photo):
    r = upload(nurse, wound, marker_photo)
    assert r.status_code == 201, r.json
    assert r.json["marker_detection"]["found"] is True
    assert r.json["marker_detection"]["marker_size_cm"] == DEFAULT_MARKER_SIZE_CM
    assert r.json["calibration"]["source"] == "marker"
    assert r.json["calibration"]["px_per_cm"] == pytest.approx(PX_PER_CM, rel=0.01)


def test_the_clinic_default_wins_over_the_printed_one(app, nurse, wound, clinic, marker_photo):
    _set_clinic_marker(app, clinic, 4.0)
    r = upload(nurse, wound, marker_photo)
    assert r.json["marker_detection"]["marker_size_cm"] == 4.0
    assert r.json["calibration"]["px_per_cm"] == pytest.approx(PX_PER_CM / 2, rel=0.01)
    sent = upload(
        nurse, wound, jpeg_bytes(Image.fromarray(scene()), subsampling=0), marker_size_cm=1
    )
    assert sent.json["calibration"]["px_per_cm"] == pytest.approx(PX_PER_CM * 2, rel=0.01)


def test_detect_again_with_another_size(app, nurse, wound, marker_photo):
    photo = upload(nurse, wound, marker_photo).json
    url = f"/api/v1/photos/{photo['id']}"
    traced = nurse.put(f"{url}/tracing", json={"points": SHAPE_PX.tolist()})
    assert traced.json["tracing"]["area_cm2"] == pytest.approx(SHAPE_AREA, rel=0.02)
    etag = traced.headers["ETag"]

    assert_problem(nurse.post(f"{url}/calibration", json={"marker_size_cm": 4}), 428)
    stale = nurse.post(
        f"{url}/calibration", json={"marker_size_cm": 4}, headers={"If-Match": '"v1"'}
    )
    assert_problem(stale, 412)
    assert stale.json["current"]["calibration"]["px_per_cm"] == pytest.approx(PX_PER_CM, rel=0.01)

    r = nurse.post(f"{url}/calibration", json={"marker_size_cm": 4}, headers={"If-Match": etag})
    assert r.status_code == 200, r.json
    assert r.headers["ETag"] == f'"v{r.json["version"]}"' != etag
    assert r.json["calibration"] == {
        "px_per_cm": pytest.approx(PX_PER_CM / 2, rel=0.01),
        "source": "marker",
    }
    assert r.json["marker_detection"]["marker_size_cm"] == 4.0
    # the tracing is re-measured at the new scale: twice the length, four times the area
    assert r.json["tracing"]["area_cm2"] == pytest.approx(4 * SHAPE_AREA, rel=0.02)
    history = nurse.get(f"{url}/history").json["items"]
    scales = [v["data"]["px_per_cm"] for v in history]
    assert scales[0] == pytest.approx(PX_PER_CM, rel=0.01)
    assert scales[-1] == pytest.approx(PX_PER_CM / 2, rel=0.01)
    _assert_audited(app, photo["id"])


def _assert_audited(app, photo_id) -> None:
    from app.core.audit import AuditEvent
    from app.extensions import db

    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.record_id == photo_id)
        ).all()
    assert actions.count("update") >= 2  # the tracing and the new calibration


def test_detect_again_replaces_a_manual_scale(app, nurse, wound, marker_photo):
    photo = upload(nurse, wound, marker_photo).json
    url = f"/api/v1/photos/{photo['id']}"
    manual = nurse.put(f"{url}/calibration", json={"px_per_cm": 7})
    assert manual.json["calibration"]["source"] == "manual"
    r = nurse.post(
        f"{url}/calibration",
        json={"marker_size_cm": 2},
        headers={"If-Match": manual.headers["ETag"]},
    )
    assert r.json["calibration"]["source"] == "marker"
    assert r.json["calibration"]["px_per_cm"] == pytest.approx(PX_PER_CM, rel=0.01)


def test_detect_again_without_a_marker_changes_nothing(app, nurse, wound):
    photo = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes()).json
    url = f"/api/v1/photos/{photo['id']}"
    etag = nurse.get(url).headers["ETag"]
    r = nurse.post(f"{url}/calibration", json={"marker_size_cm": 2}, headers={"If-Match": etag})
    assert_problem(r, 422)
    assert "marker" in r.json["errors"]["marker_size_cm"][0]
    after = nurse.get(url)
    assert after.headers["ETag"] == etag and after.json["calibration"] is None


@pytest.mark.parametrize("body", [{}, {"marker_size_cm": 0}, {"marker_size_cm": 31}, {"x": 1}])
def test_detect_again_refuses_bad_bodies(app, nurse, wound, body):
    photo = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes()).json
    r = nurse.post(
        f"/api/v1/photos/{photo['id']}/calibration", json=body, headers={"If-Match": '"v1"'}
    )
    assert_problem(r, 422)


def test_detect_again_is_for_writers_of_the_clinic(app, nurse, researcher, outsider, wound):
    photo = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes()).json
    url = f"/api/v1/photos/{photo['id']}/calibration"
    assert_problem(
        outsider.post(url, json={"marker_size_cm": 2}, headers={"If-Match": '"v1"'}), 404
    )
    assert_problem(
        researcher.post(url, json={"marker_size_cm": 2}, headers={"If-Match": '"v1"'}), 403
    )


# --- capture time ------------------------------------------------------------------


def test_a_photo_without_capture_time_takes_its_assessments_time(app, nurse, wound, clinic):
    assessment = make_assessment(app, clinic, wound)
    data = (CORPUS / "hopper.jpg").read_bytes()  # no EXIF capture time
    r = upload(nurse, wound, data, assessment_id=assessment)
    assert r.json["taken_at_source"] == "assessment"
    assert datetime.fromisoformat(r.json["taken_at"]) == _assessed_at(app, assessment)


def test_a_sent_capture_time_wins_over_the_assessment(app, nurse, wound, clinic):
    assessment = make_assessment(app, clinic, wound)
    sent = "2026-01-07T08:30:00+01:00"
    r = upload(
        nurse, wound, (CORPUS / "hopper.png").read_bytes(), assessment_id=assessment, taken_at=sent
    )
    assert r.json["taken_at_source"] == "client"
    assert datetime.fromisoformat(r.json["taken_at"]) == datetime.fromisoformat(sent)


def test_linking_later_moves_the_time_and_unlinking_gives_the_upload_time(
    app, nurse, wound, clinic
):
    photo = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes())
    assert photo.json["taken_at_source"] == "server"
    uploaded_at = photo.json["taken_at"]
    assessment = make_assessment(app, clinic, wound)
    url = f"/api/v1/photos/{photo.json['id']}"
    linked = nurse.patch(url, json={"assessment_id": str(assessment)}, etag=photo.headers["ETag"])
    assert linked.status_code == 200, linked.json
    assert linked.json["taken_at_source"] == "assessment"
    assert datetime.fromisoformat(linked.json["taken_at"]) == _assessed_at(app, assessment)
    unlinked = nurse.patch(url, json={"assessment_id": None}, etag=linked.headers["ETag"])
    assert unlinked.json["taken_at_source"] == "server"
    # the row's creation time: the same request as the first taken_at
    moved = datetime.fromisoformat(unlinked.json["taken_at"]) - datetime.fromisoformat(uploaded_at)
    assert abs(moved.total_seconds()) < 2


def test_linking_keeps_a_capture_time_the_nurse_gave(app, nurse, wound, clinic):
    sent = "2026-01-07T08:30:00+00:00"
    photo = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes(), taken_at=sent)
    assessment = make_assessment(app, clinic, wound)
    url = f"/api/v1/photos/{photo.json['id']}"
    linked = nurse.patch(url, json={"assessment_id": str(assessment)}, etag=photo.headers["ETag"])
    assert linked.json["taken_at_source"] == "client"
    assert datetime.fromisoformat(linked.json["taken_at"]) == datetime.fromisoformat(sent)
