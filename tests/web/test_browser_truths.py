"""In Chromium at desktop and phone width: times in the clinic's own zone
(issue 20, item 6) and the small truths of item 7 (never assessed, a course
completed, day 0 as the data dictionary says, format names in words)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.exports.dictionary import DAY_ZERO_NOTE
from tests.summaries import helpers as h
from tests.web.browser_kit import (
    CLINIC_ADMIN,
    CLINICIAN,
    WIDTHS,
    demo_setup,
    set_clinic_zone,
    sign_in,
    sign_out,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_show_the_clinics_time_and_say_what_is_true(
    app, factory, live_server, new_page, width
):
    from playwright.sync_api import expect

    page, console_errors = new_page(width, 900)
    ids = demo_setup(app, factory, photos=0)
    # Asia/Kolkata keeps +05:30 all year: the seed visits at 10:00 UTC read 15:30 IST.
    set_clinic_zone(app, ids["clinic"], "Asia/Kolkata")
    never = h.wound(
        app,
        uuid.UUID(ids["clinic"]),
        ids["patient"],
        body_site="heel",
        onset_date=datetime.now(UTC).date() - timedelta(days=1789),
    )
    sign_in(page, live_server, CLINICIAN)

    page.goto(f"{live_server}/web/wounds/{ids['wound']}")
    first = page.locator("table.measurements tbody tr").first.locator("td").first
    expect(first).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d 15:30 IST"))
    expect(page.locator("footer")).to_contain_text("times in Asia/Kolkata")
    assert "UTC" not in page.locator("main").inner_text()

    # Never assessed: said so, not a count of days since onset.
    page.goto(f"{live_server}/web/wounds?site=heel")
    row = page.locator("table.wound-list tbody tr").filter(has_text="heel")
    expect(row).to_contain_text("never assessed")
    assert "1789" not in row.inner_text()
    expect(row.get_by_role("link", name="heel")).to_have_attribute("href", f"/web/wounds/{never}")

    # The seed course: its 13th of 13 fractions is logged, so it is completed.
    page.goto(f"{live_server}/web/patients/{ids['patient']}")
    course = page.locator("article.course")
    expect(course.locator(".badge")).to_have_text("completed")
    assert "ongoing" not in course.inner_text()

    sign_out(page)
    sign_in(page, live_server, CLINIC_ADMIN)
    page.goto(f"{live_server}/web/exports")
    expect(page.get_by_text(DAY_ZERO_NOTE)).to_be_visible()
    options = page.get_by_label("Format").locator("option").all_inner_texts()
    assert "FHIR R4 NDJSON" in options and not any("_" in o for o in options)
    assert console_errors == []
