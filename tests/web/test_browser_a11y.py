"""Accessibility in Chromium at desktop and phone width (issue 20, item 8):
axe-core (vendored, tests/web/vendor/axe-core) finds no serious or critical
violation on any page, and every page works by keyboard: Tab reaches its main
controls, each with a visible focus ring, and the skip link leads to the content."""

from __future__ import annotations

import re

import pytest

from tests.web.browser_kit import (
    CLINIC_ADMIN,
    CLINICIAN,
    DEMO_PASSWORD,
    WIDTHS,
    axe_violations,
    demo_setup,
    sign_in,
    sign_out,
)

pytestmark = pytest.mark.browser

# What Tab must reach on each page (accessible names), beyond the skip link and
# the header's search, which every signed-in page has.
CLINICIAN_PAGES = {
    "overview": ("/web/", ["Clinic overview", "Patients", "stalled", "Apply filters"]),
    "patients": ("/web/patients", ["Seedcase, Demo"]),
    "search": ("/web/patients?q=seedcase", ["Seedcase, Demo", "Every patient"]),
    "wounds": ("/web/wounds", ["healed", "Apply filters", "Clear"]),
    "bad filter": ("/web/wounds?status=cured", ["Apply filters"]),
    "patient": ("/web/patients/{patient}", ["popliteal fossa (left)"]),
    "wound": ("/web/wounds/{wound}", ["Printable report", "Seedcase, Demo"]),
    "report": ("/web/wounds/{wound}/report", ["Back to the wound", "Print"]),
    "photo": ("/web/photos/{photo}", ["Back to the wound"]),
    "not found": ("/web/no-such-page", ["Back to the clinic overview"]),
}
ADMIN_PAGES = {
    "audit": ("/web/audit", ["Action", "Record type", "Filter"]),
    "exports": ("/web/exports", ["Clinic", "Format", "Start export"]),
    "export": ("/web/exports/{export}", ["Exports"]),
}

_FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) { return null; }
  const s = getComputedStyle(e);
  const label = e.labels && e.labels.length ? e.labels[0].textContent : '';
  const name = (e.getAttribute('aria-label') || label || e.textContent || e.value || '')
    .replace(/\\s+/g, ' ').trim();
  const r = e.getBoundingClientRect();
  return {name, tag: e.tagName, ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
          || s.boxShadow !== 'none', shown: r.width > 0 && r.height > 0};
}"""


def _tab_through(page, limit: int = 90) -> list[dict]:
    """Focus stops from the top of the page, Tab by Tab, until focus leaves it."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    page.evaluate("() => window.scrollTo(0, 0)")
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(_FOCUSED)
        if stop is None:
            break
        stops.append(stop)
    return stops


def _check_keyboard(page, name: str, wanted: list[str]) -> None:
    stops = _tab_through(page)
    names = [s["name"] for s in stops]
    assert names and names[0] == "Skip to content", (name, names[:3])
    signed_in = page.get_by_role("button", name="Sign out").count() > 0
    expected = wanted + (["Find a patient by name or MRN", "Search"] if signed_in else [])
    for target in expected:
        assert any(n == target or n.startswith(target) for n in names), (name, target, names)
    unseen = [s["name"] for s in stops if s["shown"] and not s["ring"]]
    assert unseen == [], f"{name}: no visible focus on {unseen}"


def _check_page(page, base: str, name: str, url: str, wanted: list[str]) -> list[str]:
    page.goto(base + url)
    _check_keyboard(page, name, wanted)
    return [f"{name}: {v}" for v in axe_violations(page)]


def _export_id(app, ids: dict) -> str:
    api = app.test_client()
    r = api.post("/api/v1/auth/token", json={"email": CLINIC_ADMIN, "password": DEMO_PASSWORD})
    auth = {"Authorization": f"Bearer {r.json['access_token']}"}
    body = {"clinic_id": ids["clinic"], "format": "csv"}
    r = api.post("/api/v1/exports", json=body, headers=auth)
    assert r.status_code == 202, r.json
    return str(r.json["id"])


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_passes_axe_and_works_by_keyboard(app, factory, live_server, new_page, width):
    from playwright.sync_api import expect

    page, console_errors = new_page(width, 900)
    ids = demo_setup(app, factory, photos=1)
    values = {"patient": ids["patient"], "wound": ids["wound"], "photo": ids["photos"][0]}
    values["export"] = _export_id(app, ids)
    problems = []

    page.goto(live_server + "/web/sign-in")
    _check_keyboard(page, "sign-in", ["Email", "Password", "Sign in"])
    problems += [f"sign-in: {v}" for v in axe_violations(page)]

    sign_in(page, live_server, CLINICIAN)
    for name, (url, wanted) in CLINICIAN_PAGES.items():
        problems += _check_page(page, live_server, name, url.format(**values), wanted)

    # The skip link leads into the content: the next Tab is the page's own first control.
    page.goto(f"{live_server}/web/wounds/{ids['wound']}")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    sign_out(page)
    sign_in(page, live_server, CLINIC_ADMIN)
    for name, (url, wanted) in ADMIN_PAGES.items():
        problems += _check_page(page, live_server, name, url.format(**values), wanted)
    assert problems == [], "\n".join(problems)
    assert [e for e in console_errors if "status=cured" not in e and "no-such" not in e] == []


def test_the_patient_search_and_a_filter_work_by_keyboard_alone(
    app, factory, live_server, new_page
):
    from playwright.sync_api import expect

    page, _ = new_page(390, 844)
    ids = demo_setup(app, factory, photos=0)
    sign_in(page, live_server, CLINICIAN)
    page.goto(live_server + "/web/")
    for _ in range(20):  # Tab to the search box, type, Enter
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "site-q":
            break
    page.keyboard.type("seedcase")
    page.keyboard.press("Enter")
    expect(page.locator("table.patients tbody tr")).to_have_count(1)
    page.keyboard.press("Tab")  # skip link
    for _ in range(20):  # on to the result, then Enter opens it
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Seedcase, Demo":
            break
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server}/web/patients/{ids['patient']}")

    page.goto(live_server + "/web/wounds")
    for _ in range(40):  # the "healed" record box: Space ticks it, Enter sends the form
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "w-record-healed":
            break
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/web/wounds\?clinic_id=[^&]+&record=healed&"))
    expect(page.locator(f"a[href='/web/wounds/{ids['wound']}']")).to_be_visible()


def test_the_axe_check_finds_what_it_should(new_page):
    """The vendored axe-core runs and reports: an image without alt text and an
    unnamed button are critical violations, a page without them has none."""
    page, _ = new_page(390, 844)
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>x</h1>'
        '<img src="data:,"><button></button></main></body></html>'
    )
    found = axe_violations(page)
    assert any("image-alt" in v for v in found) and any("button-name" in v for v in found)
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main><h1>x</h1>'
        '<img src="data:," alt="a dot"><button>Go</button></main></body></html>'
    )
    assert axe_violations(page) == []
