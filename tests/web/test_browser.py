"""End to end in a real browser: Playwright drives Debian's Chromium against
the app served on a free local port, with the demo data loaded.

This test walks the whole clinic journey once; the test_browser_*.py modules
beside it check one concern each at desktop (1280 px) and phone (390 px)
width. Set UPDATE_SCREENSHOTS=1 to refresh docs/screenshots/*.png from them.
"""

from __future__ import annotations

import re

import pytest

from tests.web.browser_kit import (
    CLINIC_ADMIN,
    CLINICIAN,
    OUTSIDER,
    OUTSIDER_PASSWORD,
    demo_setup,
    images_loaded,
    shoot,
    sign_in,
    sign_out,
)

pytestmark = pytest.mark.browser


def test_clinic_journey_in_chromium(app, factory, live_server, browser_page):
    from playwright.sync_api import expect

    page, console_errors = browser_page
    base = live_server
    ids = demo_setup(app, factory)

    # Sign in and land on the overview, attention first.
    sign_in(page, base, CLINICIAN)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Clinic overview")
    expect(page.locator("table.wounds tbody tr").first).to_be_visible()
    shoot(page, "overview")

    # Filter to stalled wounds with the GET form (no JavaScript involved).
    page.get_by_label("stalled", exact=True).check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"status=stalled"))
    badges = page.locator("table.wounds tbody .badge").all_inner_texts()
    assert badges and set(badges) == {"stalled"}

    # Keyboard: the skip link is the first stop and leads to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"

    # The seed-case patient, then the wound.
    page.goto(f"{base}/web/patients/{ids['patient']}")
    expect(page.get_by_text("6100 cGy in 13 fractions")).to_be_visible()
    expect(page.get_by_text("Cumulative dose by")).to_be_visible()
    shoot(page, "patient")
    page.locator(f"a[href='/web/wounds/{ids['wound']}']").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("popliteal fossa")
    expect(page.locator(".status-box .badge")).to_have_text("healed")
    expect(page.get_by_text("to bleeding").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    expect(page.locator("svg.chart-svg.wide")).to_be_visible()  # drawn in the page
    thumbs = images_loaded(page, ".photo-strip img")
    assert len(thumbs) == 2 and all(w > 0 for w in thumbs), thumbs
    shoot(page, "wound")

    # Full-size photo, and back.
    page.locator(".photo-strip a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Photo of the popliteal fossa")
    page.wait_for_load_state("networkidle")
    assert images_loaded(page, ".full-photo img")[0] > 320
    page.go_back()

    # The printable report, in print media on A4.
    page.get_by_role("link", name="Printable report").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Wound report")
    expect(page.get_by_role("button", name="Print")).to_be_visible()  # print.js ran
    page.emulate_media(media="print")
    assert page.locator("header.site-header").is_hidden()
    assert page.locator(".report-tools").is_hidden()
    expect(page.locator(".report-sheet")).to_be_visible()
    expect(page.locator(".report-id")).to_contain_text("MRN")
    pdf = page.pdf(prefer_css_page_size=True)
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box and abs(float(box[1]) - 595.3) < 2 and abs(float(box[2]) - 841.9) < 2
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi for the picture
    page.wait_for_load_state("networkidle")
    shoot(page, "report")
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 1280, "height": 900})

    # A tablet: the overview fits the width (tables scroll inside their box).
    page.set_viewport_size({"width": 768, "height": 1024})
    page.goto(f"{base}/web/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_out(page)

    # A clinic admin starts an export and watches it finish (exports.js polls).
    sign_in(page, base, CLINIC_ADMIN)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Exports").click()
    page.get_by_label("Format").select_option("csv")
    page.get_by_role("button", name="Start export").click()
    expect(page.locator("#export-status")).to_have_text("done", timeout=60_000)
    expect(page.get_by_role("link", name="Download zip")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download zip").click()
    assert download.value.suggested_filename.endswith("-csv.zip")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Exports").click()
    expect(page.locator("table .badge").first).to_have_text("done")
    shoot(page, "exports")
    sign_out(page)

    # A nurse of another clinic cannot open the wound: the styled 404 page.
    sign_in(page, base, OUTSIDER, OUTSIDER_PASSWORD)
    response = page.goto(f"{base}/web/wounds/{ids['wound']}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    assert "popliteal" not in page.content()

    # Signed out, the pages are closed again.
    sign_out(page)
    page.goto(f"{base}/web/")
    expect(page).to_have_url(re.compile(r"/web/sign-in"))
    # No script errors or CSP violations; the one failed load is the intended 404.
    unexpected = [e for e in console_errors if not e.endswith(f"/web/wounds/{ids['wound']}")]
    assert unexpected == [], console_errors
