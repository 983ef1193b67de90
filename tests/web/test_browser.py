"""End to end in a real browser: Playwright drives Debian's Chromium against
the app served on a free local port, with the demo data loaded.

One test walks the whole clinic journey, because every test starts with an
empty database and the demo data takes seconds to load. Set
UPDATE_SCREENSHOTS=1 to refresh docs/screenshots/*.png from this run.
"""

from __future__ import annotations

import io
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is missing: install Debian's chromium (make browser) to run the"
        " browser tests",
        allow_module_level=True,
    )

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
DEMO_PASSWORD = "demo-password-2026"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def live_server(app) -> Iterator[str]:
    """The test app on 127.0.0.1 and a free port, in a background thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def browser_page() -> Iterator[tuple[Page, list[str]]]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        problems: list[str] = []
        page.on(
            "console",
            lambda m: (
                problems.append(f"{m.text} {m.location.get('url')}") if m.type == "error" else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        try:
            yield page, problems
        finally:
            context.close()
            browser.close()


def shoot(page: Page, name: str) -> None:
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def jpeg(color: tuple[int, int, int]) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (800, 600), (236, 200, 180))
    ImageDraw.Draw(img).ellipse((250, 180, 550, 420), fill=color)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def demo_setup(app: Any, factory: Any) -> dict[str, Any]:
    """The demo data, two photos of the seed-case wound (uploaded through the
    API, as the app would), and a nurse of another clinic."""
    from app.demo import SEED_PATIENT_ID, SEED_WOUND_ID, seed_demo

    seed_demo(app)
    api = app.test_client()
    r = api.post(
        "/api/v1/auth/token", json={"email": "nurse@demo.example", "password": DEMO_PASSWORD}
    )
    auth = {"Authorization": f"Bearer {r.json['access_token']}"}
    for color in ((150, 40, 40), (190, 110, 100)):
        r = api.post(
            f"/api/v1/wounds/{SEED_WOUND_ID}/photos",
            data={"file": (io.BytesIO(jpeg(color)), "wound.jpg")},
            content_type="multipart/form-data",
            headers=auth,
        )
        assert r.status_code == 201, r.json
    other = factory.clinic("Harbour Wound Clinic")
    outsider = factory.user("nurse", other, email="outsider@harbour.example")
    assert outsider
    return {"patient": SEED_PATIENT_ID, "wound": SEED_WOUND_ID}


def sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/web/sign-in"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def images_loaded(page: Page, selector: str) -> list[int]:
    return page.eval_on_selector_all(
        selector, "els => els.map(e => e.complete ? e.naturalWidth : 0)"
    )


def test_clinic_journey_in_chromium(app, factory, live_server, browser_page):
    page, console_errors = browser_page
    base = live_server
    ids = demo_setup(app, factory)

    # Sign in and land on the overview, attention first.
    sign_in(page, base, "clinician@demo.example", DEMO_PASSWORD)
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
    chart = images_loaded(page, "img[src*='chart.svg']")
    thumbs = images_loaded(page, ".photo-strip img")
    assert chart and chart[0] > 0, "the healing curve did not load"
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
    sign_in(page, base, "clinicadmin@demo.example", DEMO_PASSWORD)
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
    sign_in(page, base, "outsider@harbour.example", PASSWORD)
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
