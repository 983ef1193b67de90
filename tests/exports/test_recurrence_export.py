"""Healings undone by a reopening, in the research export: the first healing,
how often a wound reopened and when it last did, as days from day zero."""

from __future__ import annotations

import uuid
from datetime import date

from tests.exports.conftest import export
from tests.exports.test_exports_api import _csv


def test_a_reopened_and_healed_again_wound_keeps_its_first_healing(
    researcher, nurse, clinic, cohort, grant
):
    wound_url = f"/api/v1/wounds/{cohort.seed_wound}"
    # Healed on day 51 (24 Dec 2025); an open measurement on 20 January, late
    # in the evening five hours behind UTC (day 78 there, day 79 in UTC),
    # reopens it; it heals again on 10 February (day 99).
    r = nurse.post(
        f"{wound_url}/assessments",
        json={
            "id": str(uuid.uuid4()),
            "assessed_at": "2026-01-20T23:30:00-05:00",
            "length_cm": 1.0,
            "width_cm": 0.8,
        },
    )
    assert r.status_code == 201, r.json
    wound = nurse.get(wound_url)
    assert wound.json["status"] == "open" and len(wound.json["closures"]) == 1
    healed = nurse.patch(
        wound_url,
        json={"status": "healed", "healed_on": "2026-02-10"},
        etag=wound.headers["ETag"],
    )
    assert healed.status_code == 200, healed.json

    grant(clinic, researcher.user_id)
    zf = export(researcher, clinic, "csv")
    wounds = {w["site_class"]: w for w in _csv(zf, "wounds.csv")}
    seed, old = wounds["lower_limb"], wounds["chest_wall"]
    assert (seed["onset_day"], seed["healed_day"], seed["days_to_closure"]) == ("16", "99", "83")
    assert (seed["first_healed_day"], seed["times_reopened"], seed["last_reopened_day"]) == (
        "51",
        "1",
        "79",
    )
    # never healed: nothing to report, and no reopening
    assert (old["first_healed_day"], old["times_reopened"], old["last_reopened_day"]) == (
        "",
        "0",
        "",
    )
    documented = {d["variable"] for d in _csv(zf, "data_dictionary.csv") if d["form"] == "wounds"}
    assert {"first_healed_day", "times_reopened", "last_reopened_day"} <= documented


def test_healings_reads_the_closures_in_order():
    from app.exports.rows import healings

    assert healings(None, None) == (None, 0, None)
    assert healings([], date(2026, 3, 1)) == (date(2026, 3, 1), 0, None)
    closures = [
        {"healed_on": "2026-01-05", "reopened_at": "2026-01-20T09:00:00+00:00"},
        {"healed_on": "2026-02-01", "reopened_at": "2026-02-14T23:30:00-05:00"},
    ]
    # the first healing, whatever the current one; the last reopening's UTC day
    assert healings(closures, date(2026, 3, 1)) == (date(2026, 1, 5), 2, date(2026, 2, 15))
    assert healings(closures, None) == (date(2026, 1, 5), 2, date(2026, 2, 15))
