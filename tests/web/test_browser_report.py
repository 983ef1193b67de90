"""The seed case's printable report, printed to PDF by Chromium: at most two A4
pages, none but the last less than half full, every word at 8 pt or more
(issue 20, item 4); and the report's screen view at desktop and phone width."""

from __future__ import annotations

import pytest

from tests.web.browser_kit import (
    CLINICIAN,
    WIDTHS,
    demo_setup,
    pdf_pages,
    sign_in,
    too_wide,
)

pytestmark = pytest.mark.browser

A4_PT = (595.3, 841.9)
MARGIN_PT = 15 / 25.4 * 72  # print.css: @page margin 15 mm top and bottom


def _filled(page: dict) -> float:
    """How much of the page's text area holds text, from the top margin to the
    lowest baseline (the fraction a reader sees used)."""
    top, bottom = page["height"] - MARGIN_PT, MARGIN_PT
    lowest = min(r["y"] for r in page["runs"])
    return (top - lowest) / (top - bottom)


@pytest.mark.parametrize("photos", [0, 2])
def test_the_seed_case_report_fits_two_well_filled_a4_pages(
    app, factory, live_server, new_page, photos
):
    """As the demo loads it, and with two photos added (the thumbnails add a row)."""
    from playwright.sync_api import expect

    page, console_errors = new_page(1280, 900)
    ids = demo_setup(app, factory, photos=photos)
    sign_in(page, live_server, CLINICIAN)
    page.goto(f"{live_server}/web/wounds/{ids['wound']}/report")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Wound report")
    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True)
    pages = pdf_pages(pdf)

    assert 1 <= len(pages) <= 2, f"{len(pages)} pages"
    for p in pages:
        assert p["runs"], "an empty page"
    for number, p in enumerate(pages[:-1], start=1):
        assert _filled(p) >= 0.5, f"page {number} is {_filled(p):.0%} full"
    words = [r for p in pages for r in p["runs"]]
    assert min(r["pt"] for r in words) >= 8, min(words, key=lambda r: r["pt"])
    text = " ".join(r["text"] for r in words)
    for expected in ("MRN", "DEMO-SEED-0001", "Measurements and grades", "Procedures", "Printed"):
        assert expected in text, expected
    assert console_errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_report_reads_on_screen_at_any_width(app, factory, live_server, new_page, width):
    from playwright.sync_api import expect

    page, console_errors = new_page(width, 900)
    ids = demo_setup(app, factory)
    sign_in(page, live_server, CLINICIAN)
    page.goto(f"{live_server}/web/wounds/{ids['wound']}/report")
    expect(page.get_by_role("button", name="Print")).to_be_visible()  # print.js ran
    assert too_wide(page)["page"] <= 0
    expect(page.locator(".report-id")).to_contain_text("DEMO-SEED-0001")
    expect(page.locator("svg.chart-svg").locator("visible=true")).to_have_count(1)
    assert console_errors == []
