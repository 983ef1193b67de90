"""What the nurse app tests share: signing in, the nurse's steps through the
screens, tracing with touch events, and counting records through the API."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PIL import Image
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.photos.test_photos_api import SHAPE_PX, scene

SCENE_SIZE = (3000, 2000)


def marker_photo(folder: Path, name: str = "wound.jpg") -> Path:
    """A 3000 x 2000 px photo with the printed 2 cm marker (60 px per cm) and a
    4 x 2.5 cm wound-coloured shape (SHAPE_PX): see tests/photos."""
    path = folder / name
    Image.fromarray(scene()).save(path, "JPEG", quality=90)
    return path


def waiting(page: Any, n: int, timeout: float = 20_000) -> None:
    expect(page.locator("#sync-count")).to_have_text(f"{n} waiting to sync", timeout=timeout)


def sign_in(page: Any, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(base + "/app/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()


def register_patient(page: Any, mrn: str, family: str = "Fictitious", given: str = "Testa") -> None:
    page.get_by_text("Register a new patient").click()
    page.get_by_label("MRN (record number)").fill(mrn)
    page.get_by_label("Given name").fill(given)
    page.get_by_label("Family name").fill(family)
    page.get_by_label("Date of birth").fill("1950-02-03")
    page.get_by_label("Sex").select_option("female")
    page.get_by_role("button", name="Register patient").click()
    expect(page.get_by_role("heading", name=re.compile(f"MRN {mrn}"))).to_be_visible()


def offline_at_a_new_wound(phone: Any, base: str, email: str, mrn: str) -> tuple[Any, Any]:
    """(context, page) of a fresh phone signed in as ``email``, on a new wound
    of a new patient ``mrn``, everything sent, then offline."""
    context, page, _ = phone()
    sign_in(page, base, email)
    register_patient(page, mrn)
    new_wound(page)
    waiting(page, 0)
    context.set_offline(True)
    return context, page


def new_wound(page: Any) -> None:
    page.get_by_text("Record a new wound").click()
    page.get_by_label("Body site").select_option("axilla")
    page.get_by_label("Side").select_option("left")
    page.get_by_label("In a skin fold").check()
    page.get_by_label("Cause").select_option("radiation_dermatitis")
    page.get_by_label("First noticed on").fill("2026-11-20")
    page.get_by_role("button", name="Save wound").click()
    expect(page.get_by_role("heading", name=re.compile("left axilla"))).to_be_visible()


def add_photo(page: Any, path: Path, input_id: str = "pick-photo") -> None:
    page.locator(f"#{input_id}").set_input_files(str(path))
    expect(page.locator("#trace")).to_be_visible()


def trace_shape(page: Any) -> None:
    """Draw SHAPE_PX's outline on the photo with a finger (touch events, which
    Chromium turns into pointer events of type touch)."""
    box = page.locator("#trace").bounding_box()
    k = box["width"] / SCENE_SIZE[0]
    corners = [(box["x"] + x * k, box["y"] + y * k) for x, y in SHAPE_PX.tolist()]
    cdp = page.context.new_cdp_session(page)
    touch = lambda kind, pts: cdp.send(  # noqa: E731
        "Input.dispatchTouchEvent",
        {"type": kind, "touchPoints": [{"x": x, "y": y} for x, y in pts]},
    )
    touch("touchStart", [corners[0]])
    path = [*corners[1:], corners[0]]
    prev = corners[0]
    for corner in path:
        for step in range(1, 9):
            t = step / 8
            touch(
                "touchMove",
                [(prev[0] + (corner[0] - prev[0]) * t, prev[1] + (corner[1] - prev[1]) * t)],
            )
        prev = corner
    touch("touchEnd", [])
    cdp.detach()


def record_assessment(page: Any) -> None:
    page.get_by_label("Length (cm)").fill("4")
    page.get_by_label("Width (cm)").fill("2.5")
    page.get_by_label("Depth (cm)").fill("0.2")
    page.get_by_label("Red, bumpy (granulation) %").fill("60")
    page.get_by_label("Yellow (slough) %").fill("30")
    page.get_by_label("Exudate amount").select_option("moderate")
    page.get_by_label("Bright redness").check()
    page.get_by_label("Moist peeling (wet, weeping skin)").check()
    # what the patient reports
    page.get_by_label("Pain (0 to 10)").fill("3")
    page.get_by_label("Itch (0 to 10)").fill("4")
    page.get_by_label("Burning (0 to 10)").fill("2")
    page.get_by_label("Skin reaction at its worst in the last 7 days").select_option("moderate")
    page.get_by_role("button", name="Save assessment").click()


def record_procedure(page: Any) -> None:
    page.get_by_text("Record a procedure").click()
    page.get_by_label("Procedure", exact=True).select_option("debridement")
    page.get_by_label("Debridement method").select_option("sharp_conservative")
    page.get_by_role("button", name="Save procedure").click()
    expect(page.locator("#procedure-status")).to_contain_text("saved")


def count(app: Any, model: Any, **where: Any) -> int:
    import sqlalchemy as sa

    from app.extensions import db

    with app.app_context():
        stmt = sa.select(sa.func.count()).select_from(model)
        for name, value in where.items():
            stmt = stmt.where(getattr(model, name) == value)
        return int(db.session.scalar(stmt) or 0)
