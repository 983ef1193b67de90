"""A queued record whose id the server already holds with other content (409):
the nurse sees the server's record and chooses; nothing is dropped unseen."""

from __future__ import annotations

import pytest

from tests.nurse.kit import expect, offline_at_a_new_wound, waiting

pytestmark = pytest.mark.browser

# The phone's outbox, read straight from its IndexedDB (one database per user).
OUTBOX = """
async (name) => {
  const opened = indexedDB.open(name, 1);
  const db = await new Promise((resolve, reject) => {
    opened.onsuccess = () => resolve(opened.result);
    opened.onerror = () => reject(opened.error);
  });
  const all = db.transaction("outbox").objectStore("outbox").getAll();
  const items = await new Promise((resolve) => { all.onsuccess = () => resolve(all.result); });
  db.close();
  return items.map((i) => ({ method: i.method, url: i.url, body: i.body }));
}
"""


def _queued_assessment(page, nurse) -> dict:
    items = page.evaluate(OUTBOX, f"wt-nurse-user-{nurse.user_id}")
    [item] = [i for i in items if i["method"] == "POST" and i["url"].endswith("/assessments")]
    return item


def test_an_id_already_used_shows_the_servers_record_and_keeps_it_on_request(
    app, live_server, phone, nurse
):
    context, page = offline_at_a_new_wound(phone, live_server, nurse.email, "IDREUSE-1")
    page.get_by_label("Length (cm)").fill("3")
    page.get_by_label("Width (cm)").fill("2")
    page.get_by_role("button", name="Save assessment").click()
    waiting(page, 1)
    queued = _queued_assessment(page, nurse)
    # Meanwhile the same id reaches the server with other content (a second
    # device restored from the same backup, say).
    theirs = {"id": queued["body"]["id"], "assessed_at": queued["body"]["assessed_at"]}
    stored = nurse.post(queued["url"], json={**theirs, "length_cm": 1.5, "width_cm": 1.0})
    assert stored.status_code == 201, stored.json

    context.set_offline(False)
    card = page.locator("#attention article")
    expect(card).to_contain_text("already used for a record with different content", timeout=20_000)
    expect(card).to_contain_text("1.5")  # the server's record, shown before choosing
    page.wait_for_timeout(2000)  # not sent again on its own
    waiting(page, 1)
    [only] = nurse.get(queued["url"]).json["items"]
    assert (only["id"], only["length_cm"]) == (queued["body"]["id"], 1.5)

    card.get_by_role("button", name="Keep the server's record").click()
    waiting(page, 0)
    expect(page.locator("#attention")).to_be_hidden()
    [only] = nurse.get(queued["url"]).json["items"]
    assert (only["length_cm"], only["width_cm"]) == (1.5, 1.0)
