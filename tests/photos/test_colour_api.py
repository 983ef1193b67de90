"""Erythema from a photo through HTTP: generated photos of known colours under a
known colour cast, with and without a rendered colour card (tests/photos/colour_images.py)."""

from __future__ import annotations

import math
import uuid

import pytest

from app.clinical.colour import ita_degrees
from tests.photos.colour_images import (
    CAST,
    MILD_CAST,
    REFERENCE_BOX,
    REFERENCE_SRGB,
    TREATED_BOX,
    TREATED_SRGB,
    Scene,
    box_outline,
    photo_bytes,
    true_lab,
)
from tests.photos.test_photos_api import assert_problem, make_wound, upload

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

TRUE_TREATED = true_lab(TREATED_SRGB)
TRUE_DELTA_A = TRUE_TREATED[1] - true_lab(REFERENCE_SRGB)[1]


@pytest.fixture
def wound(app, clinic):
    return make_wound(app, clinic)


def _photo(actor, wound_id, scene: Scene) -> dict:
    r = upload(actor, wound_id, photo_bytes(scene), filename="scene.png")
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.json


def _body(**overrides) -> dict:
    body = {"region": box_outline(TREATED_BOX), "reference": box_outline(REFERENCE_BOX)}
    body.update(overrides)
    return body


def _measure(actor, photo_id, **overrides):
    return actor.post(f"/api/v1/photos/{photo_id}/colour", json=_body(**overrides))


def test_a_colour_card_corrects_the_cast(nurse, wound):
    photo = _photo(nurse, wound, Scene(card=True, cast=CAST))
    before = nurse.get(photo["urls"]["original"]).data
    r = _measure(nurse, photo["id"])
    assert r.status_code == 201, r.get_data(as_text=True)
    m = r.json
    cal = m["calibration"]
    assert cal["method"] == "colour_checker"
    assert cal["patches"] == 24
    assert 0 <= cal["delta_e2000_mean"] <= cal["delta_e2000_max"] < 10
    assert len(cal["matrix"]) == 3
    # The treated patch's true a* is recovered through the cast.
    assert m["region"]["a"] == pytest.approx(TRUE_TREATED[1], abs=2.0)
    assert m["region"]["L"] == pytest.approx(TRUE_TREATED[0], abs=2.0)
    assert m["delta_a"] == pytest.approx(TRUE_DELTA_A, abs=2.0)
    assert m["delta_a"] == pytest.approx(m["region"]["a"] - m["reference"]["a"])
    assert m["region"]["ita"] == pytest.approx(ita_degrees(m["region"]["L"], m["region"]["b"]))
    assert m["region"]["erythema_index"] > m["reference"]["erythema_index"]
    assert m["delta_erythema_index"] == pytest.approx(
        m["region"]["erythema_index"] - m["reference"]["erythema_index"]
    )
    assert m["delta_e2000"] > 10
    assert "Diffey" in m["erythema_index_method"]["source"]
    # A 160 px square outline: its inside, and its edge pixels with it.
    assert 160 * 160 <= m["region"]["pixels"] <= 161 * 161
    assert m["measured_at"] == photo["taken_at"]
    assert m["photo_id"] == photo["id"] and m["wound_id"] == str(wound)
    # The stored photo is untouched; the measure is listed with the photo.
    assert nurse.get(photo["urls"]["original"]).data == before
    listed = nurse.get(f"/api/v1/photos/{photo['id']}/colour").json["items"]
    assert [item["id"] for item in listed] == [m["id"]]


def test_without_a_card_the_same_photo_comparison_holds(nurse, wound):
    photo = _photo(nurse, wound, Scene(card=False, cast=MILD_CAST))
    r = _measure(nurse, photo["id"])
    assert r.status_code == 201, r.get_data(as_text=True)
    m = r.json
    assert m["calibration"]["method"] == "uncalibrated"
    assert m["calibration"]["reason"] == "no colour card found"
    assert "matrix" not in m["calibration"]
    assert m["delta_a"] == pytest.approx(TRUE_DELTA_A, abs=1.5)


@pytest.fixture
def plain_photo(nurse, wound):
    """A photo without a card (validation needs no calibration)."""
    return _photo(nurse, wound, Scene(card=False, width=800, height=600))


@pytest.mark.parametrize(
    ("field", "overrides", "says"),
    [
        ("region", {"region": [[10, 10], [100, 10]]}, "between 3 and"),
        ("region", {"region": [[10, 10], [200, 200], [200, 10], [10, 200]]}, "crosses"),
        ("reference", {"reference": [[10, 10], [300, 10], [300, 700]]}, "outside the image"),
        ("region", {"region": [[-1, 10], [300, 10], [300, 300]]}, "outside the image"),
        ("region", {"region": [[10, 10], [25, 10], [25, 25], [10, 25]]}, "at least 400"),
        ("region", {"region": [[10, 10], [20, 10], [30, 10]]}, "zero area"),
        ("region.2.0", {"region": [[10, 10], [20, 10], ["x", 30]]}, "Not a valid number"),
        ("reference", {"reference": None}, "may not be null"),
        ("reference_photo_id", {"reference_photo_id": str(uuid.uuid4())}, "no record"),
        ("colour", {"colour": "red"}, "Unknown field"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(nurse, plain_photo, field, overrides, says):
    r = _measure(nurse, plain_photo["id"], **overrides)
    assert_problem(r, 422)
    assert field in r.json["errors"], r.json
    assert says.lower() in str(r.json["errors"][field]).lower(), r.json


def test_a_missing_reference_is_a_422(nurse, plain_photo):
    r = nurse.post(
        f"/api/v1/photos/{plain_photo['id']}/colour", json={"region": box_outline(TREATED_BOX)}
    )
    assert_problem(r, 422)
    assert "reference" in r.json["errors"]


def test_a_reference_photo_of_another_patient_is_refused(app, clinic, nurse, plain_photo):
    other = _photo(nurse, make_wound(app, clinic), Scene(card=False, width=800, height=600))
    r = _measure(nurse, plain_photo["id"], reference_photo_id=other["id"])
    assert_problem(r, 422)
    assert "same patient" in r.json["errors"]["reference_photo_id"][0]


def test_a_reference_photo_needs_cards_in_both(app, nurse, wound, plain_photo):
    other = _photo(nurse, wound, Scene(card=False, width=800, height=600, seed=5))
    r = _measure(nurse, plain_photo["id"], reference_photo_id=other["id"])
    assert_problem(r, 422)
    assert "colour card" in r.json["errors"]["reference_photo_id"][0]


def test_a_reference_on_a_calibrated_photo_of_the_same_patient(nurse, wound):
    treated = _photo(nurse, wound, Scene(card=True, cast=CAST))
    # The contralateral side under other light: its own card corrects it.
    contralateral = _photo(nurse, wound, Scene(card=True, cast=MILD_CAST, seed=9))
    r = _measure(nurse, treated["id"], reference_photo_id=contralateral["id"])
    assert r.status_code == 201, r.get_data(as_text=True)
    m = r.json
    assert m["reference_photo_id"] == contralateral["id"]
    assert m["calibration"]["method"] == "colour_checker"
    assert m["calibration"]["reference_photo"]["method"] == "colour_checker"
    assert m["delta_a"] == pytest.approx(TRUE_DELTA_A, abs=2.0)


def test_amend_keeps_history_and_delete_is_soft(app, nurse, admin, plain_photo):
    r = _measure(nurse, plain_photo["id"])
    assert r.status_code == 201, r.get_data(as_text=True)
    first = r.json
    url = f"/api/v1/colour-measures/{first['id']}"
    # The reference moved onto the treated patch itself: no difference left.
    same = box_outline(TREATED_BOX, inset=30)
    r = nurse.patch(url, json={"reference": same})
    assert r.status_code == 428
    r = nurse.patch(url, etag=nurse.get(url).headers["ETag"], json={"reference": same})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.json["version"] == 2
    assert r.json["reference"]["points"] == same
    assert abs(r.json["delta_a"]) < 0.5 < abs(first["delta_a"])
    history = nurse.get(f"{url}/history").json["items"]
    assert [v["version"] for v in history] == [1, 2]
    assert history[0]["data"]["delta_a"] == pytest.approx(first["delta_a"])
    assert "delta_a" in history[1]["changed_fields"]

    r = nurse.delete(url, etag=nurse.get(url).headers["ETag"])
    assert r.status_code == 200
    assert nurse.get(url).status_code == 404
    assert nurse.get(f"/api/v1/photos/{plain_photo['id']}/colour").json["items"] == []
    assert admin.post(f"{url}/restore").status_code == 200
    assert abs(nurse.get(url).json["delta_a"]) < 0.5
    assert _audited(app, first["id"]) >= {"create", "update", "delete", "restore", "read"}


def _audited(app, record_id: str) -> set[str]:
    import sqlalchemy as sa

    from app.core.audit import AuditEvent
    from app.extensions import db

    with app.app_context():
        return set(
            db.session.scalars(
                sa.select(AuditEvent.action).where(
                    AuditEvent.record_type == "photo_colour_measure",
                    AuditEvent.record_id == record_id,
                )
            )
        )


def test_a_replayed_create_answers_the_first(nurse, plain_photo):
    record_id = str(uuid.uuid4())
    first = _measure(nurse, plain_photo["id"], id=record_id)
    again = _measure(nurse, plain_photo["id"], id=record_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == record_id
    changed = _measure(nurse, plain_photo["id"], id=record_id, region=box_outline(TREATED_BOX, 30))
    assert changed.status_code == 409


def test_access_follows_the_photos(nurse, clinician, researcher, outsider, plain_photo):
    url = f"/api/v1/photos/{plain_photo['id']}/colour"
    created = _measure(clinician, plain_photo["id"])
    assert created.status_code == 201
    item = f"/api/v1/colour-measures/{created.json['id']}"
    assert nurse.get(url).status_code == 200
    assert nurse.get(item).status_code == 200
    # Researchers see de-identified exports only; other clinics see nothing.
    for actor, status in ((researcher, 403), (outsider, 404)):
        assert actor.get(url).status_code == status
        assert _measure(actor, plain_photo["id"]).status_code == status
        assert actor.get(item).status_code == status
        assert actor.get(f"{item}/history").status_code == status


def test_measures_of_a_deleted_photo_are_out_of_reach(nurse, plain_photo):
    photo_url = f"/api/v1/photos/{plain_photo['id']}"
    nurse.delete(photo_url, etag=nurse.get(photo_url).headers["ETag"])
    assert _measure(nurse, plain_photo["id"]).status_code == 404


def test_ita_is_null_for_a_region_that_is_not_skin_coloured():
    assert ita_degrees(60.0, -5.0) is None
    assert math.isclose(ita_degrees(60.0, 10.0), 45.0)


def test_the_trajectory_shows_the_erythema_series(nurse, wound, plain_photo):
    url = f"/api/v1/wounds/{wound}/trajectory"
    before = nurse.get(url)
    assert before.json["erythema"] == []
    m = _measure(nurse, plain_photo["id"]).json
    after = nurse.get(url)
    assert after.headers.get("ETag") != before.headers.get("ETag")
    (point,) = after.json["erythema"]
    assert point["measure_id"] == m["id"] and point["photo_id"] == plain_photo["id"]
    assert point["delta_a"] == pytest.approx(m["delta_a"])
    assert point["a"] == pytest.approx(m["region"]["a"])
    assert point["erythema_index"] == pytest.approx(m["region"]["erythema_index"])
    assert point["calibration"] == "uncalibrated"
    # A deleted photo takes its measures off the trajectory.
    photo_url = f"/api/v1/photos/{plain_photo['id']}"
    nurse.delete(photo_url, etag=nurse.get(photo_url).headers["ETag"])
    assert nurse.get(url).json["erythema"] == []


def test_the_wound_page_lists_the_measures(app, nurse, wound, plain_photo):
    from tests.web.conftest import sign_in

    page = f"/web/wounds/{wound}"
    assert "Erythema from photos" not in sign_in(app, nurse.email).get(page).text
    m = _measure(nurse, plain_photo["id"]).json
    html = sign_in(app, nurse.email).get(page).text
    assert "Erythema from photos" in html
    assert f"{m['delta_a']:.1f}" in html and "uncalibrated (same photo only)" in html
