"""Every page at phone width (390 px) and at desktop width: nothing runs off
the side (tables become cards on phones, each value beside its column's name)
and the full-size photo fits the window (issue 20, item 5)."""

from __future__ import annotations

import pytest

from tests.web.browser_kit import (
    CLINIC_ADMIN,
    CLINICIAN,
    WIDTHS,
    demo_setup,
    shoot,
    sign_in,
    sign_out,
    too_wide,
)

pytestmark = pytest.mark.browser


def clinician_pages(ids: dict) -> dict[str, str]:
    return {
        "overview": "/web/",
        "patients": "/web/patients",
        "search": "/web/patients?q=demo",
        "wounds": "/web/wounds",
        "healed": "/web/wounds?record=healed",
        "patient": f"/web/patients/{ids['patient']}",
        "wound": f"/web/wounds/{ids['wound']}",
        "report": f"/web/wounds/{ids['wound']}/report",
        "photo": f"/web/photos/{ids['photos'][0]}",
        "missing": "/web/wounds/00000000-0000-4000-8000-000000000000",
    }


ADMIN_PAGES = {"audit": "/web/audit", "exports": "/web/exports"}


def _check_fits(page, name: str, width: int) -> None:
    from playwright.sync_api import expect

    wide = too_wide(page)
    assert wide["page"] <= 0, f"{name} scrolls sideways by {wide['page']} px: {wide['wide']}"
    assert wide["scrollers"] == [], f"{name}: tables that scroll {wide['scrollers']}"
    expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
    if width < 500:
        # Cards: every cell of every data table shows its column's name.
        cells = page.locator("table.cards td")
        for i in range(min(cells.count(), 40)):
            cell = cells.nth(i)
            label = cell.evaluate("td => getComputedStyle(td, '::before').content")
            assert label.strip('"') == cell.get_attribute("data-label"), name
            box = cell.bounding_box()
            assert box is None or box["x"] + box["width"] <= width + 1, name


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_width(app, factory, live_server, new_page, width):
    page, console_errors = new_page(width, 844 if width < 500 else 900)
    ids = demo_setup(app, factory)
    sign_in(page, live_server, CLINICIAN)
    for name, url in clinician_pages(ids).items():
        page.goto(live_server + url)
        _check_fits(page, name, width)
        if width < 500 and name in ("overview", "wound"):
            if name == "wound":  # the healing curve on the first screen
                page.locator(".chart").scroll_into_view_if_needed()
            shoot(page, f"{name}-phone", full_page=False)
    sign_out(page)
    sign_in(page, live_server, CLINIC_ADMIN)
    for name, url in ADMIN_PAGES.items():
        page.goto(live_server + url)
        _check_fits(page, name, width)
    assert [e for e in console_errors if "00000000-0000" not in e] == []


@pytest.mark.parametrize("size", [(390, 844), (1280, 900), (844, 390)])
def test_the_full_size_photo_fits_the_window(app, factory, live_server, new_page, size):
    """A 1600 x 1200 photo, in portrait and landscape phone windows and on a desktop."""
    page, _ = new_page(*size)
    ids = demo_setup(app, factory, photos=1)
    sign_in(page, live_server, CLINICIAN)
    page.goto(f"{live_server}/web/photos/{ids['photos'][0]}")
    img = page.locator(".full-photo img")
    img.evaluate("i => i.decode()")
    box = img.bounding_box()
    natural = img.evaluate("i => [i.naturalWidth, i.naturalHeight]")
    assert natural[0] >= 1000, natural  # the large size, not a thumbnail
    assert box["width"] <= size[0] and box["height"] <= size[1], (box, size)
    ratio = box["width"] / box["height"]
    assert abs(ratio - natural[0] / natural[1]) < 0.02  # not squashed
    # Scrolled to, the whole photo is on screen at once.
    img.scroll_into_view_if_needed()
    assert img.evaluate(
        "i => { const r = i.getBoundingClientRect();"
        " return r.top >= -1 && r.bottom <= innerHeight + 1 && r.right <= innerWidth + 1; }"
    )
