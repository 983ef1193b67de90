"""The whole nurse flow on a phone, online and offline (issue 22): sign in,
register a patient, record a wound, take a marker photo, trace it with a
finger, record an assessment and a procedure, see the grades, PUSH, status
and healing curve. Records are counted through the API afterwards."""

from __future__ import annotations

import re

import pytest

from tests.nurse.kit import (
    add_photo,
    expect,
    marker_photo,
    new_wound,
    record_assessment,
    record_procedure,
    register_patient,
    sign_in,
    trace_shape,
    waiting,
)
from tests.web.browser_kit import axe_violations, shoot

pytestmark = pytest.mark.browser

SHELL_BUDGET = 150 * 1024


def landed(nurse, mrn: str) -> dict:
    """What reached the server for the patient ``mrn``, through the API."""
    patients = nurse.get(f"/api/v1/patients?mrn={mrn}").json["items"]
    out = {"patients": len(patients)}
    if not patients:
        return out
    wounds = nurse.get(f"/api/v1/patients/{patients[0]['id']}/wounds").json["items"]
    out["wounds"] = len(wounds)
    wound = wounds[0]["id"]
    for kind in ("assessments", "photos", "procedures"):
        out[kind] = nurse.get(f"/api/v1/wounds/{wound}/{kind}").json["items"]
    return out


def assert_landed_once(nurse, mrn: str) -> None:
    got = landed(nurse, mrn)
    assert got["patients"] == 1 and got["wounds"] == 1
    assert len(got["assessments"]) == 1 and len(got["procedures"]) == 1
    assert len(got["photos"]) == 1
    photo, assessment = got["photos"][0], got["assessments"][0]
    # the photo documents the assessment: it has its time and gives it its area
    assert photo["assessment_id"] == assessment["id"]
    assert photo["taken_at_source"] == "assessment"
    assert photo["calibration"]["source"] == "marker"
    assert 8 < photo["tracing"]["area_cm2"] < 12  # a 10 cm² shape, traced by finger
    assert assessment["area_method"] == "traced"
    assert assessment["area_cm2"] == pytest.approx(photo["tracing"]["area_cm2"])
    assert got["procedures"][0]["kind"] == "debridement"
    reported = {k: assessment[k] for k in ("pain_score", "itch_nrs", "burning_nrs")}
    assert reported == {"pain_score": 3, "itch_nrs": 4, "burning_nrs": 2}
    assert assessment["pro_skin_reaction"] == "moderate"


def shell_bytes(page) -> int:
    """Bytes transferred for the app's own files on this page load."""
    return page.evaluate(
        """() => performance.getEntriesByType('navigation').concat(
               performance.getEntriesByType('resource'))
             .filter(e => new URL(e.name).pathname.startsWith('/app/'))
             .reduce((sum, e) => sum + e.transferSize, 0)"""
    )


def test_the_whole_flow_online(app, live_server, phone, nurse, tmp_path):
    _context, page, problems = phone()
    page.goto(live_server + "/app/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert axe_violations(page) == []
    transferred = shell_bytes(page)
    assert 0 < transferred < SHELL_BUDGET, transferred
    shoot(page, "nurse-sign-in", full_page=False)

    sign_in(page, live_server, nurse.email)
    register_patient(page, "NURSE-1")
    new_wound(page)
    add_photo(page, marker_photo(tmp_path))
    # the scene's marker is 60 px per cm; the detector finds it within 1 %
    found = re.compile(r"Marker found: (59\.[4-9]|60\.[0-6]) pixels per cm \(2 cm marker\)")
    expect(page.locator("#photo-status")).to_have_text(found, timeout=20_000)
    trace_shape(page)
    page.get_by_role("button", name="Save tracing").click()
    expect(page.locator("#trace-status")).to_contain_text("Traced area:", timeout=20_000)
    shoot(page, "nurse-tracing", full_page=False)
    record_assessment(page)
    results = page.locator("#results")
    expect(results).to_contain_text("CTCAE radiation dermatitis grade", timeout=20_000)
    record_procedure(page)
    waiting(page, 0)
    # once everything is in, the results and the curve come from the server
    expect(results).to_contain_text("(traced)", timeout=20_000)
    expect(page.locator("#curve")).to_be_visible(timeout=20_000)
    text = results.inner_text()
    assert "CTCAE radiation dermatitis grade\n2" in text  # bright redness, moist peeling in a fold
    assert "PUSH score\n" in text and "needs" not in text
    assert "Healing" in text
    assert axe_violations(page) == []
    # (in one step: a refresh from the server may replace the heading meanwhile)
    page.evaluate(
        "document.querySelector('#results h3').scrollIntoView(); window.scrollBy(0, -120)"
    )
    shoot(page, "nurse-wound", full_page=False)
    assert_landed_once(nurse, "NURSE-1")
    assert problems == [], sorted(set(problems))


def test_the_same_flow_offline_then_online(app, live_server, phone, nurse, tmp_path):
    context, page, problems = phone()
    sign_in(page, live_server, nurse.email)
    page.evaluate("navigator.serviceWorker.ready")
    context.set_offline(True)
    register_patient(page, "NURSE-2")
    new_wound(page)
    add_photo(page, marker_photo(tmp_path), input_id="take-photo")
    expect(page.locator("#photo-status")).to_contain_text("saved on this phone")
    trace_shape(page)
    page.get_by_role("button", name="Save tracing").click()
    record_assessment(page)
    expect(page.locator("#results")).to_contain_text("saved on this phone")
    record_procedure(page)
    # patient, wound, photo, tracing, assessment, the photo's link to it, procedure
    waiting(page, 7)

    page.reload()
    waiting(page, 7)
    expect(page.get_by_text("Offline: records wait on this phone")).to_be_visible()
    expect(page.get_by_role("button", name="Fictitious, Testa")).to_contain_text("not sent yet")
    assert landed(nurse, "NURSE-2") == {"patients": 0}

    context.set_offline(False)
    waiting(page, 0, timeout=60_000)
    assert_landed_once(nurse, "NURSE-2")
    # a second reload sends nothing again
    page.reload()
    waiting(page, 0)
    assert_landed_once(nurse, "NURSE-2")
    assert [p for p in problems if "ERR_INTERNET_DISCONNECTED" not in p] == []
