"""When things go wrong (issue 22): a conflict (412) and a refused record
(422) are shown to the nurse with a choice, the token ends while offline,
two users share a phone, the camera is refused, the storage is full, a photo
is over the server's limit. Each ends with the records counted through the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import PASSWORD
from tests.nurse.kit import (
    add_photo,
    expect,
    marker_photo,
    new_wound,
    offline_at_a_new_wound,
    register_patient,
    sign_in,
    waiting,
)
from tests.web.conftest import email_of

pytestmark = pytest.mark.browser


def patients(nurse, mrn: str) -> list[dict]:
    return nurse.get(f"/api/v1/patients?mrn={mrn}").json["items"]


def _end_tokens(app, user_id, kinds: tuple[str, ...]) -> None:
    """The server ends the user's tokens of ``kinds`` (as time or a revocation would)."""
    from app.auth.models import AuthToken
    from app.extensions import db

    with app.app_context():
        db.session.execute(
            sa.update(AuthToken)
            .where(AuthToken.user_id == user_id, AuthToken.kind.in_(kinds))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        db.session.commit()


def test_a_stale_amendment_is_shown_with_the_current_record(
    app, live_server, phone, nurse, tmp_path
):
    context, page, _ = phone()
    sign_in(page, live_server, nurse.email)
    register_patient(page, "CONFLICT-1")
    new_wound(page)
    add_photo(page, marker_photo(tmp_path))
    expect(page.locator("#photo-status")).to_contain_text("Marker found", timeout=20_000)
    waiting(page, 0)

    context.set_offline(True)
    page.get_by_label(re.compile("Marker size")).fill("4")
    page.get_by_role("button", name="Measure again").click()
    waiting(page, 1)
    # meanwhile, a colleague corrects the photo's capture time
    wound = nurse.get(f"/api/v1/patients/{patients(nurse, 'CONFLICT-1')[0]['id']}/wounds").json
    [stored] = nurse.get(f"/api/v1/wounds/{wound['items'][0]['id']}/photos").json["items"]
    url = f"/api/v1/photos/{stored['id']}"
    changed = nurse.patch(
        url, json={"taken_at": "2026-12-01T09:00:00+00:00"}, etag=f'"v{stored["version"]}"'
    )
    assert changed.status_code == 200

    context.set_offline(False)
    card = page.locator("#attention article")
    expect(card).to_contain_text("Marker size: Precondition Failed", timeout=20_000)
    expect(card).to_contain_text("2026-12-01T09:00:00+00:00")  # the record as it is now
    waiting(page, 1)  # shown, not dropped
    card.get_by_role("button", name="Apply mine to the current version").click()
    waiting(page, 0)
    after = nurse.get(url).json
    # the 120 px marker read as 4 cm instead of 2
    assert after["calibration"]["px_per_cm"] == pytest.approx(30.0, rel=0.02)
    assert after["taken_at"].startswith("2026-12-01T09:00:00")  # the colleague's change stands


def test_a_refused_record_waits_for_the_nurse_to_correct_it(app, live_server, phone, nurse):
    context, page = offline_at_a_new_wound(phone, live_server, nurse.email, "INVALID-1")
    page.get_by_label("Length (cm)").fill("3")
    page.get_by_label("Width (cm)").fill("2")
    page.get_by_label("Red, bumpy (granulation) %").fill("70")
    page.get_by_label("Yellow (slough) %").fill("50")
    page.get_by_role("button", name="Save assessment").click()
    waiting(page, 1)
    context.set_offline(False)
    card = page.locator("#attention article")
    expect(card).to_contain_text("tissue: percentages must sum to at most 100", timeout=20_000)
    wound = nurse.get(f"/api/v1/patients/{patients(nurse, 'INVALID-1')[0]['id']}/wounds").json
    assessments = f"/api/v1/wounds/{wound['items'][0]['id']}/assessments"
    page.wait_for_timeout(3000)  # no retry while it waits for her
    waiting(page, 1)
    assert nurse.get(assessments).json["items"] == []

    card.get_by_label("tissue.slough_pct").fill("30")
    card.get_by_role("button", name="Correct and send again").click()
    waiting(page, 0)
    [saved] = nurse.get(assessments).json["items"]
    assert saved["tissue"]["slough_pct"] == 30 and saved["tissue"]["granulation_pct"] == 70
    expect(page.locator("#attention")).to_be_hidden()


def test_the_token_ends_while_offline(app, live_server, phone, nurse, clinician):
    # counted by a colleague: the nurse's own API tokens end with the app's
    context, page, _ = phone()
    sign_in(page, live_server, nurse.email)
    context.set_offline(True)
    register_patient(page, "EXPIRED-1")
    _end_tokens(app, nurse.user_id, ("access",))
    context.set_offline(False)
    waiting(page, 0)  # refreshed, then sent
    assert len(patients(clinician, "EXPIRED-1")) == 1

    page.get_by_role("button", name="Back to patients").click()
    context.set_offline(True)
    register_patient(page, "EXPIRED-2")
    _end_tokens(app, nurse.user_id, ("access", "refresh"))
    context.set_offline(False)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Your sign-in has ended")).to_be_visible()
    waiting(page, 1)  # the outbox is still there
    assert patients(clinician, "EXPIRED-2") == []
    page.get_by_label("Email").fill(nurse.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    waiting(page, 0)
    assert len(patients(clinician, "EXPIRED-2")) == 1


def test_a_shared_phone_keeps_each_nurses_records_apart(
    app, live_server, phone, nurse, factory, clinic
):
    other = email_of(app, factory.user("nurse", clinic))
    context, page, _ = phone()
    sign_in(page, live_server, nurse.email)
    context.set_offline(True)
    register_patient(page, "SHARED-1")
    waiting(page, 1)
    page.get_by_role("button", name="Sign out").click()
    warning = page.get_by_role("alertdialog")
    expect(warning).to_contain_text("1 record has not reached the server")
    warning.get_by_role("button", name="Sign out anyway").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    context.set_offline(False)
    sign_in(page, live_server, other)
    waiting(page, 0)
    expect(page.get_by_text("No patients yet.")).to_be_visible()  # nothing of the first nurse's
    page.wait_for_timeout(2000)
    assert patients(nurse, "SHARED-1") == []  # and nothing sent in her name
    page.get_by_role("button", name="Sign out").click()  # nothing waiting: no warning
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    sign_in(page, live_server, nurse.email)
    waiting(page, 0)
    assert len(patients(nurse, "SHARED-1")) == 1
    assert _cached_patients(page) >= 1
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert _cached_patients(page) == 0  # signing out clears the cached patient data


def _cached_patients(page) -> int:
    return page.evaluate(
        """async () => {
          const names = (await indexedDB.databases()).map(d => d.name)
            .filter(n => n.startsWith('wt-nurse-user-'));
          let n = 0;
          for (const name of names) {
            const db = await new Promise(r => {
              const q = indexedDB.open(name);
              q.onsuccess = () => r(q.result);
            });
            const rows = await new Promise(r => {
              const q = db.transaction('records').objectStore('records').getAll();
              q.onsuccess = () => r(q.result);
            });
            n += rows.filter(x => x.type === 'patient').length;
            db.close();
          }
          return n;
        }"""
    )


REFUSE_CAMERA = """
  navigator.mediaDevices.getUserMedia = () =>
    Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
"""


def test_camera_refused_the_file_picker_still_works(app, live_server, phone, nurse, tmp_path):
    _context, page, _ = phone(permissions=[])
    page.add_init_script(REFUSE_CAMERA)
    sign_in(page, live_server, nurse.email)
    register_patient(page, "CAMERA-1")
    new_wound(page)
    take = page.locator("#take-photo")
    assert take.get_attribute("capture") == "environment"
    assert page.locator("#pick-photo").get_attribute("capture") is None
    add_photo(page, marker_photo(tmp_path), input_id="pick-photo")
    expect(page.locator("#photo-status")).to_contain_text("Marker found", timeout=20_000)
    waiting(page, 0)


FULL_DISK = """
  for (const method of ['put', 'add']) {
    const real = IDBObjectStore.prototype[method];
    IDBObjectStore.prototype[method] = function (...args) {
      if (window.__diskFull) {
        throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      }
      return real.apply(this, args);
    };
  }
"""


def test_a_full_disk_is_said_and_nothing_is_lost(app, live_server, phone, nurse):
    context, page, _ = phone()
    page.add_init_script(FULL_DISK)
    sign_in(page, live_server, nurse.email)
    context.set_offline(True)
    page.evaluate("window.__diskFull = true")
    page.get_by_text("Register a new patient").click()
    page.get_by_label("MRN (record number)").fill("FULL-1")
    page.get_by_label("Given name").fill("Testa")
    page.get_by_label("Family name").fill("Fictitious")
    page.get_by_label("Date of birth").fill("1950-02-03")
    page.get_by_label("Sex").select_option("female")
    page.get_by_role("button", name="Register patient").click()
    expect(page.locator("#storage-warning")).to_be_visible()
    expect(page.get_by_label("MRN (record number)")).to_have_value("FULL-1")  # still in the form
    waiting(page, 0)

    page.evaluate("window.__diskFull = false")
    page.get_by_role("button", name="Register patient").click()
    waiting(page, 1)
    context.set_offline(False)
    waiting(page, 0)
    assert len(patients(nurse, "FULL-1")) == 1


def test_a_photo_over_the_server_limit_is_not_queued(app, live_server, phone, nurse, tmp_path):
    limit = app.config["PHOTO_MAX_BYTES"]
    app.config["PHOTO_MAX_BYTES"] = 64 * 1024
    try:
        _context, page, _ = phone()
        sign_in(page, live_server, nurse.email)
        register_patient(page, "BIG-1")
        new_wound(page)
        waiting(page, 0)
        page.locator("#pick-photo").set_input_files(str(marker_photo(tmp_path)))
        expect(page.locator("#photo-status")).to_contain_text("the server takes at most")
        waiting(page, 0)
    finally:
        app.config["PHOTO_MAX_BYTES"] = limit


AGE_SESSION = """async () => {
  const db = await new Promise(r => {
    const q = indexedDB.open('wt-nurse');
    q.onsuccess = () => r(q.result);
  });
  const store = () => db.transaction('session', 'readwrite').objectStore('session');
  const row = await new Promise(r => {
    const q = store().get('current');
    q.onsuccess = () => r(q.result);
  });
  row.last_active = Date.now() - 31 * 60 * 1000;
  await new Promise(r => { const q = store().put(row, 'current'); q.onsuccess = r; });
  db.close();
}"""

SESSION = """async () => {
  const db = await new Promise(r => {
    const q = indexedDB.open('wt-nurse');
    q.onsuccess = () => r(q.result);
  });
  const q = db.transaction('session').objectStore('session').get('current');
  const row = await new Promise(r => { q.onsuccess = () => r(q.result); });
  db.close();
  return row || null;
}"""

COUNT_PERSIST = """
  window.__persistAsked = 0;
  if (navigator.storage) {
    navigator.storage.persist = () => { window.__persistAsked += 1; return Promise.resolve(true); };
  }
"""


def test_idle_for_half_an_hour_signs_out(app, live_server, phone, nurse):
    _context, page, _ = phone()
    page.add_init_script(COUNT_PERSIST)
    sign_in(page, live_server, nurse.email)
    assert page.evaluate("window.__persistAsked") == 1  # persistent storage, asked at sign-in
    assert page.evaluate(SESSION)["refresh_token"]
    page.evaluate(AGE_SESSION)
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate(SESSION) is None  # the refresh token is forgotten
