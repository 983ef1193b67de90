"""Clinic-page fixtures: signing in through the form, a small clinic, and for
the browser tests a live server and Debian's Chromium driven by Playwright.

The clinic has one patient with a radiotherapy course and three open wounds
whose areas make them on track, stalled and deteriorating; one assessment has a
clinician's grade override and the stalled wound had a debridement. Built
through the API and the models as tests/summaries does, so it is quick (the
full demo data, seed_demo, is left to the browser test).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from tests.factories import PASSWORD
from tests.summaries import helpers as h

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(app: Any, email: str, password: str = PASSWORD, client: Any = None) -> Any:
    """A test client signed in through the sign-in form."""
    client = client or app.test_client()
    page = client.get("/web/sign-in")
    r = client.post(
        "/web/sign-in",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
    )
    assert r.status_code == 303, r.text[:500]
    return client


def email_of(app: Any, user_id: uuid.UUID) -> str:
    from app.auth.models import User
    from app.extensions import db

    with app.app_context():
        return str(db.session.get(User, user_id).email)


@dataclass
class Clinic:
    patient_id: uuid.UUID
    course_id: uuid.UUID
    on_track: uuid.UUID
    stalled: uuid.UUID
    deteriorating: uuid.UUID
    overridden_assessment: str


def _weekly(actor: Any, wound_id: uuid.UUID, start: date, sides: list[float]) -> list[dict]:
    out = []
    for week, side in enumerate(sides):
        when = h.at(start + timedelta(days=7 * week))
        out.append(h.assess(actor, wound_id, when, length_cm=side, width_cm=side))
    return out


@pytest.fixture
def small_clinic(app, clinic, nurse, clinician) -> Clinic:
    today = datetime.now(UTC).date()
    # The last weekly assessment is yesterday: at 09:00 today it would be in the
    # future for a run before 09:00 UTC.
    start = today - timedelta(days=36)
    pid = h.patient(app, clinic, given_name="Vera", family_name="Example")
    cid = h.course(
        app,
        clinic,
        pid,
        start=start - timedelta(days=20),
        end=start - timedelta(days=4),
        phases=[("imrt", 400.0, 10), ("sbrt", 700.0, 3)],
    )
    wounds = {}
    for name, sides, site in (
        ("on_track", [3.0, 2.4, 1.8, 1.2, 0.8, 0.5], "left axilla"),
        ("stalled", [3.0, 3.0, 2.95, 2.95, 2.95, 2.95], "popliteal fossa"),
        ("deteriorating", [2.0, 2.0, 2.4, 2.8, 3.2, 3.6], "inframammary fold"),
    ):
        wid = h.wound(
            app, clinic, pid, body_site=site, onset_date=start, radiotherapy_course_id=cid
        )
        rows = _weekly(nurse, wid, start, sides)
        wounds[name] = (wid, rows)
    h.procedure(
        app,
        clinic,
        wounds["stalled"][0],
        h.at(start + timedelta(days=8), 11),
        kind="debridement",
        debridement_method="sharp_conservative",
        debridement_to_bleeding=True,
    )
    target = wounds["deteriorating"][1][-1]["id"]
    r = clinician.post(
        f"/api/v1/assessments/{target}/grade-override",
        json={"scale": "ctcae", "value": 3, "reason": "necrosis at the margin on review"},
    )
    assert r.status_code in (200, 201), r.json
    return Clinic(
        pid,
        cid,
        wounds["on_track"][0],
        wounds["stalled"][0],
        wounds["deteriorating"][0],
        target,
    )


class PageAudit(HTMLParser):
    """Collects what the accessibility and CSP checks look at."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.label_for: set[str] = set()
        self.controls: list[tuple[str, dict[str, str | None]]] = []
        self._in_script = False
        self._open_labels = 0
        self.images = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name in a:
            if name.startswith("on"):
                self.problems.append(f"<{tag}> has an inline handler {name}")
        if "style" in a:
            self.problems.append(f"<{tag}> has an inline style")
        if tag == "script":
            self._in_script = True
            if not a.get("src"):
                self.problems.append("<script> without src")
        if tag == "img":
            self.images += 1
            if not (a.get("alt") or "").strip():
                self.problems.append(f"<img src={a.get('src')}> without alt text")
        if tag == "label":
            self._open_labels += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        if tag in ("input", "select", "textarea"):
            kind = (a.get("type") or "").lower()
            if kind not in ("hidden", "submit", "button", "reset", "image"):
                self.controls.append((tag, a | {"_wrapped": "1" if self._open_labels else None}))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        if tag == "label":
            self._open_labels = max(0, self._open_labels - 1)

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("inline script content")

    def finish(self) -> list[str]:
        for tag, a in self.controls:
            labelled = (
                a.get("_wrapped")
                or (a.get("id") and a["id"] in self.label_for)
                or a.get("aria-label")
                or a.get("aria-labelledby")
            )
            if not labelled:
                self.problems.append(f"<{tag} name={a.get('name')}> has no label")
        return self.problems


def page_problems(html: str) -> list[str]:
    """Inline script/handlers/styles, unlabelled inputs, images without alt."""
    parser = PageAudit()
    parser.feed(html)
    parser.close()
    problems = parser.finish()
    if "<html lang=" not in html:
        problems.append("no <html lang>")
    if "<main" not in html or "<h1" not in html:
        problems.append("no <main> or <h1>")
    return problems


# ------------------------------------------------------------------ browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, launched once per test module (each test gets its own
    context: cookies and storage never leak between tests)."""
    if not CHROMIUM.exists():
        pytest.skip(
            "/usr/bin/chromium is missing: install Debian's chromium (make browser) to run the"
            " browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(chromium) -> Iterator[Callable[..., tuple[Any, list[str]]]]:
    """``new_page(width, height=900)``: a fresh page and the list its console
    errors and script exceptions (CSP violations among them) are written to."""
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 900) -> tuple[Any, list[str]]:
        context = chromium.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        problems: list[str] = []
        page.on(
            "console",
            lambda m: (
                problems.append(f"{m.text} {m.location.get('url')}") if m.type == "error" else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        return page, problems

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def browser_page(new_page) -> tuple[Any, list[str]]:
    """A desktop-sized page (1280 x 900) and its console errors."""
    return new_page(1280, 900)
