"""The healing curve measured as Chromium draws it, at desktop and phone width
and on A4 paper: every label at least 12 px on screen and 8 pt in print, none
overlapping another or cut off, axis titles with units, the week-4 checkpoint
and threshold, procedures and closures marked, laterality in the title
(issue 20, item 3). The marks themselves are tested in test_chart_svg.py."""

from __future__ import annotations

import pytest

from tests.web.browser_kit import (
    A4_CONTENT_PX,
    CLINICIAN,
    WIDTHS,
    chart_text,
    demo_setup,
    outside,
    overlaps,
    pdf_pages,
    sign_in,
)

pytestmark = pytest.mark.browser

# The seed case: four debridement + PRP sessions, closed at the sixth visit.
SEED_PROCEDURES = 4


def _check_labels(chart: dict) -> None:
    texts = chart["texts"]
    assert overlaps(texts) == [], "labels overlap"
    assert outside(texts, chart["box"]) == [], "labels cut off at the chart's edge"
    assert chart["box"]["left"] >= 0 and chart["box"]["right"] <= chart["viewport"]
    words = {t["text"] for t in texts}
    assert "Area (cm²)" in words and "Weeks since the first assessment" in words
    assert {"0", "4"} <= words  # week ticks, the checkpoint's among them
    assert chart["title"] == "Healing curve: popliteal fossa, left"
    marks = chart["marks"]
    assert marks["checkpoint"] == 1 and marks["threshold"] == 1
    assert marks["triangles"] == SEED_PROCEDURES
    assert marks["closed_points"] == 1 and marks["points"] == 6


@pytest.mark.parametrize("width", WIDTHS)
def test_the_chart_is_legible_at_its_displayed_size(app, factory, live_server, new_page, width):
    from playwright.sync_api import expect

    page, console_errors = new_page(width, 900)
    ids = demo_setup(app, factory, photos=0)
    sign_in(page, live_server, CLINICIAN)
    page.goto(f"{live_server}/web/wounds/{ids['wound']}")
    expect(page.get_by_role("heading", name="Healing curve: popliteal fossa, left")).to_be_visible()

    chart = chart_text(page)
    assert chart["layout"] == ("wide" if width > 1000 else "narrow")
    smallest = min(t["px"] for t in chart["texts"])
    assert smallest >= 12, f"chart text {smallest:.1f} px"
    _check_labels(chart)

    legend = page.locator(".chart-legend li")
    for text in ("Debridement + PRP", "Closed at that assessment", "Week 4 checkpoint"):
        expect(legend.filter(has_text=text)).to_be_visible()
    expect(legend.filter(has_text="Week-4 target: 1.88 cm² or less")).to_be_visible()
    sizes = legend.evaluate_all("els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert min(sizes) >= 12
    if width > 1000:
        # The legend fills the card's right side instead of leaving it empty.
        figure = page.locator(".chart-figure").bounding_box()
        used = page.locator(".chart-legend").bounding_box()
        assert used["x"] > chart["box"]["right"]
        assert used["x"] + used["width"] >= figure["x"] + figure["width"] - 40
    assert console_errors == []


def test_the_chart_prints_at_8_pt_or_more(app, factory, live_server, new_page):
    page, _ = new_page(A4_CONTENT_PX, 1000)
    ids = demo_setup(app, factory, photos=0)
    sign_in(page, live_server, CLINICIAN)
    page.goto(f"{live_server}/web/wounds/{ids['wound']}")
    page.emulate_media(media="print")
    chart = chart_text(page)
    assert chart["layout"] == "wide"
    smallest = min(t["px"] for t in chart["texts"]) * 0.75  # CSS px to pt
    assert smallest >= 8, f"chart text {smallest:.1f} pt in print"
    _check_labels(chart)

    # And in the PDF Chromium prints: the chart's words at 8 pt or more.
    printed = [r for p in pdf_pages(page.pdf(prefer_css_page_size=True)) for r in p["runs"]]
    axis = [r for r in printed if r["text"].startswith("Weeks since the")]
    assert axis and all(r["pt"] >= 8 for r in axis), axis
