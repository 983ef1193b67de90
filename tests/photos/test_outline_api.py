"""POST /photos/{id}/outline and the method and seed a tracing records."""

from __future__ import annotations

import dataclasses
import io
import uuid

import numpy as np
import pytest
from PIL import Image

from tests.photos.outline_images import Spec, iou, render
from tests.photos.test_calibration import shoelace
from tests.photos.test_imaging import CORPUS
from tests.photos.test_photos_api import assert_problem, make_wound, upload

# the generator draws its marker at width // 12 px, read here as 2 cm
SPEC = Spec("api", (2400, 1800), "light", "blob", 160, 0.6, 10, 81)


@pytest.fixture
def wound(app, clinic):
    return make_wound(app, clinic)


@pytest.fixture(scope="module")
def generated():
    return render(SPEC)


def _jpeg(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=95, subsampling=0)
    return buf.getvalue()


def _photo(nurse, wound, generated, **fields) -> dict:
    r = upload(nurse, wound, _jpeg(generated.image), **fields)
    assert r.status_code == 201, r.json
    return r.json


def _outline(actor, photo_id, body):
    return actor.post(f"/api/v1/photos/{photo_id}/outline", json=body)


def test_outline_of_a_calibrated_photo_with_its_area(app, nurse, wound, generated):
    photo = _photo(nurse, wound, generated, marker_size_cm=2.0)
    assert photo["marker_detection"]["found"] is True
    r = _outline(nurse, photo["id"], {"seed": list(generated.tap)})
    assert r.status_code == 200, r.json
    assert r.json["method"] == "grabcut"
    assert iou(generated.truth, r.json["points"]) >= 0.9
    px_per_cm = photo["calibration"]["px_per_cm"]
    truth_cm2 = np.count_nonzero(generated.truth) / px_per_cm**2
    assert r.json["area_cm2"] == pytest.approx(truth_cm2, rel=0.08)
    assert r.json["area_cm2"] == pytest.approx(
        shoelace(np.asarray(r.json["points"])) / px_per_cm**2, rel=0.02
    )
    # nothing is stored by a proposal
    after = nurse.get(f"/api/v1/photos/{photo['id']}").json
    assert after["version"] == photo["version"] and after["tracing"] is None


def test_outline_of_an_uncalibrated_photo_has_no_area(app, nurse, wound):
    # Without a marker in view nothing calibrates the photo (an upload looks
    # for the printed marker at its default size even when none is given).
    unmarked = render(dataclasses.replace(SPEC, marker=False))
    photo = _photo(nurse, wound, unmarked)
    assert photo["calibration"] is None
    r = _outline(nurse, photo["id"], {"seed": list(unmarked.tap)})
    assert r.status_code == 200, r.json
    assert "area_cm2" not in r.json
    assert iou(unmarked.truth, r.json["points"]) >= 0.9


def test_accepted_outline_is_traced_with_method_and_seed(app, nurse, wound, generated):
    photo = _photo(nurse, wound, generated, marker_size_cm=2.0)
    url = f"/api/v1/photos/{photo['id']}"
    proposal = _outline(nurse, photo["id"], {"seed": list(generated.tap)}).json
    body = {"points": proposal["points"], "method": "grabcut", "seed": list(generated.tap)}
    t = nurse.put(f"{url}/tracing", json=body)
    assert t.status_code == 200, t.json
    assert t.json["tracing"]["method"] == "grabcut"
    assert t.json["tracing"]["seed"] == list(generated.tap)
    assert t.json["area_cm2"] == pytest.approx(proposal["area_cm2"])
    # corrected by hand: a manual tracing, the default, with no seed
    square = [[10, 10], [310, 10], [310, 310], [10, 310]]
    manual = nurse.put(f"{url}/tracing", json={"points": square})
    assert manual.json["tracing"]["method"] == "manual"
    assert manual.json["tracing"]["seed"] is None
    history = nurse.get(f"{url}/history").json["items"]
    kept = [(v["data"]["tracing_method"], v["data"]["tracing_seed"]) for v in history[-2:]]
    assert kept == [("grabcut", list(generated.tap)), ("manual", None)]


def test_tracing_method_and_seed_are_checked(app, nurse, wound):
    photo = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes()).json
    url = f"/api/v1/photos/{photo['id']}"
    assert nurse.put(f"{url}/calibration", json={"px_per_cm": 20}).status_code == 200
    square = [[10, 10], [110, 10], [110, 110], [10, 110]]
    bad = nurse.put(f"{url}/tracing", json={"points": square, "method": "magic"})
    assert_problem(bad, 422)
    assert "method" in bad.json["errors"]
    far = nurse.put(f"{url}/tracing", json={"points": square, "seed": [5000, 10]})
    assert_problem(far, 422)
    assert "outside" in far.json["errors"]["seed"][0]
    for seed in ([1], [1, 2, 3], ["a", 2]):
        r = nurse.put(f"{url}/tracing", json={"points": square, "seed": seed})
        assert_problem(r, 422)
        assert any(key.startswith("seed") for key in r.json["errors"]), r.json
    assert nurse.get(url).json["tracing"] is None  # nothing written by a refusal


def test_outline_input_is_checked(app, nurse, wound):
    photo = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes()).json
    w = photo["width"]
    cases = [
        ({}, "seed"),
        ({"seed": [10]}, "seed"),
        ({"seed": [10, "x"]}, "seed"),
        ({"seed": [w + 1, 10]}, "seed"),
        ({"seed": [-1, 10]}, "seed"),
        ({"seed": [10, 10], "box": [0, 0, 20]}, "box"),
        ({"seed": [10, 10], "box": [20, 20, 0, 0]}, "box"),
        ({"seed": [10, 10], "box": [0, 0, w + 50, 40]}, "box"),
        ({"seed": [10, 10], "box": [30, 30, 60, 60]}, "box"),
        ({"seed": [10, 10], "box": [8, 8, 12, 12]}, "box"),
        ({"seed": [10, 10], "extra": 1}, "extra"),
    ]
    for body, field in cases:
        r = _outline(nurse, photo["id"], body)
        assert_problem(r, 422)
        assert any(key.startswith(field) for key in r.json["errors"]), (body, r.json)


def test_no_edge_round_the_tap_is_a_422_on_seed(app, nurse, wound):
    rng = np.random.default_rng(5)
    skin = np.clip(rng.normal((220, 180, 160), 3, (600, 800, 3)), 0, 255).astype(np.uint8)
    photo = upload(nurse, wound, _jpeg(skin)).json
    r = _outline(nurse, photo["id"], {"seed": [400, 300]})
    assert_problem(r, 422)
    assert "No wound edge" in r.json["errors"]["seed"][0]


def test_outline_access_and_deleted_photos(app, nurse, researcher, outsider, wound, generated):
    photo = _photo(nurse, wound, generated)
    body = {"seed": list(generated.tap)}
    assert_problem(researcher.post(f"/api/v1/photos/{photo['id']}/outline", json=body), 403)
    assert_problem(outsider.post(f"/api/v1/photos/{photo['id']}/outline", json=body), 404)
    url = f"/api/v1/photos/{photo['id']}"
    gone = nurse.delete(url, headers={"If-Match": nurse.get(url).headers["ETag"]})
    assert gone.status_code in (200, 204)
    assert_problem(_outline(nurse, photo["id"], body), 404)


def test_missing_file_is_404(app, nurse, wound, generated):
    photo = _photo(nurse, wound, generated)
    from app.extensions import db
    from app.photos.models import Photo

    with app.app_context():
        key = db.session.get(Photo, uuid.UUID(photo["id"])).storage_keys["original"]
    app.extensions["storage"].delete(key)
    r = _outline(nurse, photo["id"], {"seed": list(generated.tap)})
    assert_problem(r, 404)


def test_a_12_megapixel_photo_and_a_half_size_decode(app, nurse, wound):
    big = render(Spec("12mp", (4000, 3000), "medium", "ellipse", 260, 0.6, 10, 91))
    photo = upload(nurse, wound, _jpeg(big.image)).json
    r = _outline(nurse, photo["id"], {"seed": list(big.tap)})
    assert r.status_code == 200, r.json
    full = iou(big.truth, r.json["points"])
    assert full >= 0.9
    # decoded at half size (a photo over OUTLINE_MAX_PIXELS): same outline, full-size pixels
    saved = app.config["OUTLINE_MAX_PIXELS"]
    app.config["OUTLINE_MAX_PIXELS"] = 4_000_000
    try:
        half = _outline(nurse, photo["id"], {"seed": list(big.tap)})
    finally:
        app.config["OUTLINE_MAX_PIXELS"] = saved
    assert half.status_code == 200, half.json
    assert iou(big.truth, half.json["points"]) >= 0.9  # in full-size pixels


def test_busy_server_answers_503(app, nurse, wound, generated):
    from app.photos import proposals

    photo = _photo(nurse, wound, generated)
    saved = app.config["OUTLINE_WAIT_SECONDS"]
    app.config["OUTLINE_WAIT_SECONDS"] = 0
    with app.app_context():
        slot = proposals._slot()
    slot.acquire()
    try:
        r = _outline(nurse, photo["id"], {"seed": list(generated.tap)})
    finally:
        slot.release()
        app.config["OUTLINE_WAIT_SECONDS"] = saved
    assert_problem(r, 503)
    assert r.headers["Retry-After"]


def test_outlines_are_rate_limited_per_user(app, nurse, clinician, wound):
    from app.extensions import limiter

    photo = upload(nurse, wound, (CORPUS / "hopper.jpg").read_bytes()).json
    saved = app.config["OUTLINE_RATE_LIMIT"]
    app.config["OUTLINE_RATE_LIMIT"] = "2 per minute"
    limiter.reset()
    try:
        bad = {"seed": [-1, 0]}  # refused quickly, but counted
        assert [_outline(nurse, photo["id"], bad).status_code for _ in range(3)] == [422, 422, 429]
        assert _outline(clinician, photo["id"], bad).status_code == 422  # another user's budget
    finally:
        app.config["OUTLINE_RATE_LIMIT"] = saved
        limiter.reset()
