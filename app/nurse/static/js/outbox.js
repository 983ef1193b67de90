// The outbox: every create and amendment waits here (IndexedDB, per user)
// until the server has answered it. Items go out strictly in the order they
// were made, so a parent (patient, wound, assessment) always reaches the
// server before its children:
// - runs of JSON requests go in one POST /api/v1/sync batch, each request
//   depending on the one before it (a failure stops the rest, which answer 424
//   and stay queued);
// - a photo goes through the resumable upload protocol (/api/v1/uploads),
//   resuming at the server's offset after a drop.
// Creates carry client ids, so a replay after a lost answer is harmless.
// An answer that will not change by retrying (409, 412, 422, ...) stops the
// queue at that item and waits for the nurse: nothing is retried forever and
// nothing is dropped unless she chooses to.

import { Offline, SignInNeeded, call } from "./api.js";

const BATCH_MAX = 50;
const CHUNK = 1024 * 1024;
const TUS = { "Tus-Resumable": "1.0.0" };
const RETRY_STATUSES = new Set([408, 423, 425, 429, 500, 502, 503, 504, 507]);

export function backoffMs(attempts) {
  const base = Math.min(5 * 60 * 1000, 2000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

function b64(text) {
  return btoa(String.fromCharCode(...new TextEncoder().encode(String(text))));
}

export class Outbox {
  constructor(store, { onChange, onSignInNeeded }) {
    this.store = store;
    this.onChange = onChange;
    this.onSignInNeeded = onSignInNeeded;
    this.running = false;
    this.again = false;
    this.timer = null;
    this.stopped = false;
  }

  async items() {
    const all = await this.store.all("outbox");
    return all.sort((a, b) => a.seq - b.seq);
  }

  async add(item) {
    const row = { status: "waiting", attempts: 0, next_at: 0, problem: null, ...item };
    row.seq = await this.store.put("outbox", row);
    this.onChange();
    this.kick();
    return row;
  }

  kick() {
    if (!this.stopped) setTimeout(() => this.flush(), 0);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  // Back online: what was waiting for a connection goes now, not at its backoff time.
  async online() {
    for (const item of await this.items()) {
      if (item.status === "waiting" && item.next_at) {
        item.next_at = 0;
        await this.store.put("outbox", item);
      }
    }
    this.kick();
  }

  async flush() {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        await this.drain();
      } while (this.again && !this.stopped);
    } finally {
      this.running = false;
      this.onChange();
    }
  }

  async drain() {
    while (!this.stopped && navigator.onLine) {
      const items = await this.items();
      if (!items.length) return;
      const first = items[0];
      if (first.status === "attention") return;
      const wait = first.next_at - Date.now();
      if (wait > 0) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.flush(), wait);
        return;
      }
      let sent;
      try {
        sent = first.kind === "photo" ? await this.sendPhoto(first) : await this.sendBatch(items);
      } catch (error) {
        if (error instanceof SignInNeeded) {
          this.onSignInNeeded();
          return;
        }
        if (!(error instanceof Offline)) throw error;
        await this.later(first);
        return;
      }
      this.onChange();
      if (!sent) return;
    }
  }

  async later(item) {
    item.attempts += 1;
    item.next_at = Date.now() + backoffMs(item.attempts);
    await this.store.put("outbox", item);
  }

  async attention(item, status, problem) {
    item.status = "attention";
    item.problem = { status, ...(problem || {}) };
    await this.store.put("outbox", item);
  }

  async done(item, body, etag) {
    if (item.record && body && typeof body === "object") {
      const old = (await this.store.get("records", item.record.key)) || {};
      await this.store.put("records", {
        ...old,
        ...item.record,
        data: body,
        etag: etag || old.etag || null,
        local: false,
      });
    }
    await this.store.delete("outbox", item.seq);
  }

  async ifMatch(item) {
    if (item.if_match) return item.if_match;
    if (!item.if_match_from) return null;
    const record = await this.store.get("records", item.if_match_from);
    return record && record.etag ? record.etag : null;
  }

  // A run of JSON items, one batch. An item whose If-Match comes from a record
  // starts a batch of its own, so that it reads the ETag left by what went before.
  async sendBatch(items) {
    const run = [];
    for (const item of items) {
      if (item.kind !== "json" || item.status !== "waiting" || run.length >= BATCH_MAX) break;
      if (run.length && item.if_match_from) break;
      run.push(item);
    }
    const requests = [];
    for (const [i, item] of run.entries()) {
      const request = { id: String(item.seq), method: item.method, url: item.url, body: item.body };
      const etag = await this.ifMatch(item);
      if (etag) request.headers = { "If-Match": etag };
      if (i > 0) request.depends_on = [String(run[i - 1].seq)];
      requests.push(request);
    }
    const r = await call("POST", "/api/v1/sync", { body: { requests } });
    if (!r.ok) {
      if (RETRY_STATUSES.has(r.status)) await this.later(run[0]);
      else await this.attention(run[0], r.status, r.data);
      return false;
    }
    for (const [i, answer] of r.data.responses.entries()) {
      const item = run[i];
      if (answer.status < 300) {
        await this.done(item, answer.body, answer.headers && answer.headers.ETag);
        continue;
      }
      if (answer.status === 424) return false;
      if (answer.retry) await this.later(item);
      else await this.attention(item, answer.status, answer.body);
      return false;
    }
    return true;
  }

  async sendPhoto(item) {
    if (!item.upload_url) {
      const metadata = Object.entries(item.meta)
        .filter(([, v]) => v !== null && v !== undefined && v !== "")
        .map(([k, v]) => `${k} ${b64(v)}`)
        .join(",");
      const r = await call("POST", "/api/v1/uploads", {
        headers: { ...TUS, "Upload-Length": String(item.blob.size), "Upload-Metadata": metadata },
      });
      if (r.status !== 201) return this.photoFailed(item, r);
      item.upload_url = r.headers.get("Location");
      await this.store.put("outbox", item);
    }
    const head = await call("HEAD", item.upload_url, { headers: TUS });
    if (head.status === 404 || head.status === 410) {
      item.upload_url = null; // expired or removed: start again from byte 0
      await this.later(item);
      return false;
    }
    let location = head.headers.get("Photo-Location");
    let offset = Number(head.headers.get("Upload-Offset") || 0);
    while (!location) {
      const r = await call("PATCH", item.upload_url, {
        headers: {
          ...TUS,
          "Upload-Offset": String(offset),
          "Content-Type": "application/offset+octet-stream",
        },
        raw: item.blob.slice(offset, offset + CHUNK),
      });
      if (r.status === 409 && r.headers.get("Upload-Offset")) {
        offset = Number(r.headers.get("Upload-Offset"));
        continue;
      }
      if (r.status !== 204) return this.photoFailed(item, r);
      offset = Number(r.headers.get("Upload-Offset"));
      location = r.headers.get("Photo-Location");
    }
    const photo = await call("GET", location);
    if (!photo.ok) return this.photoFailed(item, photo);
    await this.done(item, photo.data, photo.headers.get("ETag"));
    return true;
  }

  async photoFailed(item, r) {
    if (RETRY_STATUSES.has(r.status)) await this.later(item);
    else await this.attention(item, r.status, r.data);
    return false;
  }

  // The nurse's answer to an item that needs her: "retry" (after correcting
  // its body, or over a newer version with that version's ETag) or "discard"
  // (keep what the server has; its record replaces the phone's copy).
  async resolve(seq, choice, { body, ifMatch } = {}) {
    const item = await this.store.get("outbox", seq);
    if (!item) return;
    if (choice === "discard") {
      const server = item.problem && (item.problem.current || item.problem.stored);
      if (item.record && server) {
        const old = (await this.store.get("records", item.record.key)) || {};
        await this.store.put("records", { ...old, ...item.record, data: server, local: false });
      } else if (item.record && item.kind !== "photo" && item.method === "POST") {
        await this.store.delete("records", item.record.key);
      }
      await this.store.delete("outbox", seq);
    } else {
      if (body !== undefined) item.body = body;
      if (ifMatch) item.if_match = ifMatch;
      Object.assign(item, { status: "waiting", problem: null, attempts: 0, next_at: 0 });
      await this.store.put("outbox", item);
    }
    this.onChange();
    this.kick();
  }
}
