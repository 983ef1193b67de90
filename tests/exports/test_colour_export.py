"""Colour measures in the research export: one de-identified row per measure."""

from __future__ import annotations

import pytest

from tests.exports.conftest import export
from tests.exports.test_exports_api import _csv
from tests.photos.colour_images import REFERENCE_BOX, TREATED_BOX, Scene, box_outline, photo_bytes
from tests.photos.test_photos_api import upload

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def test_a_colour_measure_is_exported_without_outlines_or_ids(
    researcher, nurse, clinic, cohort, grant
):
    photo = upload(nurse, cohort.seed_wound, photo_bytes(Scene(card=False)), "scene.png").json
    body = {"region": box_outline(TREATED_BOX), "reference": box_outline(REFERENCE_BOX)}
    measure = nurse.post(f"/api/v1/photos/{photo['id']}/colour", json=body).json
    grant(clinic, researcher.user_id)
    zf = export(researcher, clinic, "csv")
    (row,) = _csv(zf, "colour_measures.csv")
    (wound,) = [w for w in _csv(zf, "wounds.csv") if w["site_class"] == "lower_limb"]
    assert row["wound_id"] == wound["wound_id"] and row["patient_id"] == wound["patient_id"]
    assert row["colour_measure_id"] not in (measure["id"], "")
    assert float(row["delta_a"]) == pytest.approx(measure["delta_a"])
    assert float(row["region_a"]) == pytest.approx(measure["region"]["a"])
    assert float(row["reference_erythema_index"]) == pytest.approx(
        measure["reference"]["erythema_index"]
    )
    assert row["calibration"] == "uncalibrated" and row["card_delta_e2000_mean"] == ""
    assert row["reference_on_other_photo"] == "0"
    assert int(row["days_since_onset"]) == int(row["day"]) - int(wound["onset_day"])
    text = zf.read("colour_measures.csv").decode()
    assert photo["id"] not in text and str(TREATED_BOX[0] + 20) + ".0" not in text
    dictionary = {
        d["variable"] for d in _csv(zf, "data_dictionary.csv") if d["form"] == "colour_measures"
    }
    assert set(row) == dictionary

    # A deleted photo leaves the export.
    photo_url = f"/api/v1/photos/{photo['id']}"
    nurse.delete(photo_url, etag=nurse.get(photo_url).headers["ETag"])
    assert _csv(export(researcher, clinic, "csv"), "colour_measures.csv") == []
