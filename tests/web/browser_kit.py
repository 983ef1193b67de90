"""What the browser tests share: the demo data with photos, signing in through
the form, the vendored axe-core run in a page, and measurements of rendered
text (sizes, overlaps, clipping) and of layout at phone width.

The fixtures (live_server, chromium, new_page) are in tests/web/conftest.py.
"""

from __future__ import annotations

import io
import math
import os
import re
from pathlib import Path
from typing import Any

from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
AXE = Path(__file__).with_name("vendor") / "axe-core" / "axe.min.js"
DEMO_PASSWORD = "demo-password-2026"
CLINICIAN = "clinician@demo.example"
CLINIC_ADMIN = "clinicadmin@demo.example"
OUTSIDER = "outsider@harbour.example"
OUTSIDER_PASSWORD = PASSWORD
WIDTHS = (1280, 390)
# A4 less the report's 12 mm side margins (print.css), in CSS px at 96 dpi.
A4_CONTENT_PX = round((210 - 2 * 12) / 25.4 * 96)


def shoot(page: Any, name: str, full_page: bool = True) -> None:
    """Refresh docs/screenshots/<name>.png when UPDATE_SCREENSHOTS=1 (the whole
    page, or with ``full_page=False`` the window: a phone's first screen)."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def jpeg(color: tuple[int, int, int], size: tuple[int, int] = (800, 600)) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (236, 200, 180))
    w, h = size
    ImageDraw.Draw(img).ellipse((w * 0.3, h * 0.3, w * 0.7, h * 0.7), fill=color)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def demo_setup(app: Any, factory: Any, photos: int = 2) -> dict[str, Any]:
    """The demo data, ``photos`` photos of the seed-case wound (uploaded through
    the API, as the app would), and a nurse of another clinic."""
    from app.demo import SEED_PATIENT_ID, SEED_WOUND_ID, seed_demo

    seed_demo(app)
    api = app.test_client()
    r = api.post("/api/v1/auth/token", json={"email": CLINICIAN, "password": DEMO_PASSWORD})
    auth = {"Authorization": f"Bearer {r.json['access_token']}"}
    photo_ids = []
    for color in ((150, 40, 40), (190, 110, 100))[:photos]:
        r = api.post(
            f"/api/v1/wounds/{SEED_WOUND_ID}/photos",
            data={"file": (io.BytesIO(jpeg(color, (1600, 1200))), "wound.jpg")},
            content_type="multipart/form-data",
            headers=auth,
        )
        assert r.status_code == 201, r.json
        photo_ids.append(r.json["id"])
    other = factory.clinic("Harbour Wound Clinic")
    factory.user("nurse", other, email=OUTSIDER)
    me = api.get("/api/v1/me", headers=auth).json
    return {
        "patient": SEED_PATIENT_ID,
        "wound": SEED_WOUND_ID,
        "photos": photo_ids,
        "clinic": me["clinic_ids"][0],
        "auth": auth,
    }


def set_clinic_zone(app: Any, clinic_id: str, zone: str) -> None:
    """The demo clinic's time zone, set by its clinic_admin through the API."""
    api = app.test_client()
    r = api.post("/api/v1/auth/token", json={"email": CLINIC_ADMIN, "password": DEMO_PASSWORD})
    auth = {"Authorization": f"Bearer {r.json['access_token']}"}
    url = f"/api/v1/clinics/{clinic_id}"
    etag = api.get(url, headers=auth).headers["ETag"]
    r = api.patch(url, json={"timezone": zone}, headers=auth | {"If-Match": etag})
    assert r.status_code == 200, r.json


def sign_in(page: Any, base: str, email: str, password: str = DEMO_PASSWORD) -> None:
    from playwright.sync_api import expect

    page.goto(base + "/")
    expect(page).to_have_url(re.compile(r"/web/sign-in"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Any) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def images_loaded(page: Any, selector: str) -> list[int]:
    return page.eval_on_selector_all(  # type: ignore[no-any-return]
        selector, "els => els.map(e => e.complete ? e.naturalWidth : 0)"
    )


# ------------------------------------------------------------------- axe-core

_AXE_SOURCE: str | None = None


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """axe-core's violations of ``impacts`` on the page as it is now. The script
    goes in through the DevTools protocol, which the page's CSP does not govern."""
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        _AXE_SOURCE = AXE.read_text(encoding="utf-8")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_AXE_SOURCE)
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
    )
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes']}"
        for v in found
        if v["impact"] in impacts
    ]


# ------------------------------------------------------------- measurements

_CHART_TEXT = """() => {
  const svg = [...document.querySelectorAll('svg.chart-svg')]
    .find(s => getComputedStyle(s).display !== 'none');
  if (!svg) { return null; }
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll('text')].map(t => {
    const r = t.getBoundingClientRect();
    const m = t.getScreenCTM();
    const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    return {text: t.textContent, px, left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  });
  const count = s => svg.querySelectorAll(s).length;
  return {layout: svg.classList[1], title: svg.querySelector('title').textContent,
          box: {left: box.left, right: box.right, top: box.top, bottom: box.bottom,
                width: box.width, height: box.height},
          viewport: window.innerWidth, texts,
          marks: {checkpoint: count('line.checkpoint'), threshold: count('line.threshold'),
                  events: count('.event'), triangles: count('polygon.event[points]'),
                  closed_points: [...svg.querySelectorAll('circle.point')]
                      .filter(c => c.getAttribute('fill') === '#1e7a3c').length,
                  points: count('circle.point')}};
}"""


def chart_text(page: Any) -> dict[str, Any]:
    """The visible chart layout's text: rendered size (px) and box of each
    label, the chart's box, and counts of its marks."""
    found = page.evaluate(_CHART_TEXT)
    assert found is not None, "no chart layout is shown"
    return found  # type: ignore[no-any-return]


def overlaps(boxes: list[dict[str, Any]], slack: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of boxes that intersect by more than ``slack`` px both ways."""
    out = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            dx = min(a["right"], b["right"]) - max(a["left"], b["left"])
            dy = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
            if dx > slack and dy > slack:
                out.append((a["text"], b["text"]))
    return out


def outside(boxes: list[dict[str, Any]], frame: dict[str, Any], slack: float = 0.5) -> list[str]:
    """The boxes not wholly inside ``frame`` (clipped)."""
    return [
        b["text"]
        for b in boxes
        if b["left"] < frame["left"] - slack
        or b["right"] > frame["right"] + slack
        or b["top"] < frame["top"] - slack
        or b["bottom"] > frame["bottom"] + slack
    ]


_WIDE_THINGS = """() => {
  const vw = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.right > vw + 1 && getComputedStyle(e).position !== 'absolute';
  }).slice(0, 5)
    .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));
  const scrollers = [...document.querySelectorAll('.table-wrap')]
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.querySelector('table').className);
  return {page: document.documentElement.scrollWidth - vw, wide, scrollers};
}"""


def too_wide(page: Any) -> dict[str, Any]:
    """How far the page scrolls sideways, what sticks out, and which table
    boxes scroll (none should: phones get cards)."""
    return page.evaluate(_WIDE_THINGS)  # type: ignore[no-any-return]


def pdf_pages(pdf: bytes) -> list[dict[str, Any]]:
    """Per PDF page: its text runs with their printed size (pt) and baseline
    height, read with pypdf through each run's text and transformation matrices."""
    from pypdf import PdfReader

    pages = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        runs: list[dict[str, Any]] = []
        page.extract_text(visitor_text=_run_collector(runs))
        pages.append({"height": float(page.mediabox.height), "runs": runs})
    return pages


def _run_collector(runs: list[dict[str, Any]]) -> Any:
    def visit(text: str, cm: list[float], tm: list[float], _font: Any, size: float) -> None:
        if text.strip():
            scale = math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3])
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            runs.append({"text": text.strip(), "pt": size * scale, "y": y})

    return visit
