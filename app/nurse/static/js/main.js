// The nurse app's shell: the session (sign-in, clinic, sign-out, idle
// timeout), the sync counter, the items that need the nurse, and the
// connection and storage warnings. The screens are in views.js.

import * as api from "./api.js";
import * as db from "./db.js";
import { h, message, getPath, setPath } from "./forms.js";
import { Outbox } from "./outbox.js";
import { Views } from "./views.js";

const IDLE_MS = 30 * 60 * 1000; // the API's own idle limit for access tokens
const $ = (id) => document.getElementById(id);

const app = {
  shared: null, // the "wt-nurse" database: the session row
  session: null,
  store: null, // this user's database: outbox and cached records
  outbox: null,
  views: null,
  maxBytes: 25 * 1024 * 1024,
};

export function show(view) {
  for (const section of $("main").children) section.hidden = section.id !== view;
  const heading = $(view).querySelector("h1");
  if (heading) heading.focus();
  window.scrollTo(0, 0);
}

async function boot() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => {});
  }
  window.addEventListener("online", online);
  window.addEventListener("offline", renderNet);
  window.addEventListener("wt-storage-full", () => ($("storage-warning").hidden = false));
  for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, touch, { passive: true });
  setInterval(checkIdle, 60 * 1000);
  $("f-signin").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", askSignOut);
  $("sow-stay").addEventListener("click", () => ($("sign-out-warning").hidden = true));
  $("sow-go").addEventListener("click", () => signOut());
  renderNet();
  app.shared = await db.open("wt-nurse");
  const limits = await app.shared.get("session", "limits");
  if (limits) app.maxBytes = limits.maxBytes;
  const row = await app.shared.get("session", "current");
  if (row && Date.now() - row.last_active > IDLE_MS) {
    await endSession(row);
    return show("v-signin");
  }
  if (!row || !row.refresh_token) return show("v-signin");
  await startSession(row, null);
}

function renderNet() {
  $("net").textContent = navigator.onLine ? "" : "Offline: records wait on this phone";
}

async function online() {
  renderNet();
  if (app.outbox) await app.outbox.online();
}

async function startSession(row, accessToken) {
  app.session = row;
  api.useSession(app.shared, row, accessToken);
  if (!app.store || app.store.userId !== row.user.id) {
    if (app.store) app.store.close();
    app.store = await db.open(db.userDbName(row.user.id));
    app.store.userId = row.user.id;
    if (app.outbox) app.outbox.stop();
    app.outbox = new Outbox(app.store, { onChange: renderSync, onSignInNeeded: signInAgain });
    app.views = new Views(app, show);
  }
  $("sign-out").hidden = false;
  renderSync();
  loadLimits();
  if (row.clinic) await app.views.patients();
  else await chooseClinic();
  app.outbox.kick();
}

async function loadLimits() {
  try {
    const r = await fetch("/api/v1/uploads", { method: "OPTIONS" });
    const max = Number(r.headers.get("Tus-Max-Size"));
    if (max > 0) {
      app.maxBytes = max;
      await app.shared.put("session", { maxBytes: max }, "limits");
    }
  } catch {
    // offline: the last known limit stands
  }
}

async function signIn(event) {
  event.preventDefault();
  const form = event.target;
  $("signin-error").textContent = "";
  let r;
  try {
    r = await api.signIn(form.email.value.trim(), form.password.value);
  } catch {
    $("signin-error").textContent = "No connection. Signing in needs one; try again when online.";
    return;
  }
  if (!r.ok) {
    $("signin-error").textContent =
      r.status === 401 ? "The email or the password is wrong." : message(r.data);
    return;
  }
  const me = await fetch("/api/v1/me", {
    headers: { Authorization: `Bearer ${r.data.access_token}` },
  }).then((res) => res.json());
  const same = app.session && app.session.user.id === me.id;
  const row = {
    user: me,
    refresh_token: r.data.refresh_token,
    clinic: same ? app.session.clinic : null,
    last_active: Date.now(),
  };
  await app.shared.put("session", row, "current");
  form.reset();
  $("signin-note").hidden = true;
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  await startSession(row, r.data.access_token);
}

// The refresh token no longer works: sign in again; the outbox waits.
function signInAgain() {
  api.forgetAccess();
  if (app.session) app.session.refresh_token = null;
  $("signin-note").textContent =
    "Your sign-in has ended. Sign in again to send the records waiting on this phone.";
  $("signin-note").hidden = false;
  show("v-signin");
}

async function chooseClinic() {
  const r = await api.call("GET", "/api/v1/clinics");
  const clinics = r.data.items;
  if (clinics.length === 1) return pickClinic(clinics[0]);
  $("clinic-list").replaceChildren(
    ...clinics.map((c) => h("li", {}, h("button", { type: "button", onclick: () => pickClinic(c), text: c.name }))),
  );
  show("v-clinic");
}

async function pickClinic(clinic) {
  app.session.clinic = { id: clinic.id, name: clinic.name };
  await app.shared.put("session", app.session, "current");
  await app.views.patients();
}

async function touch() {
  if (!app.session || Date.now() - app.session.last_active < 60 * 1000) return;
  app.session.last_active = Date.now();
  await app.shared.put("session", app.session, "current");
}

async function checkIdle() {
  if (app.session && Date.now() - app.session.last_active > IDLE_MS) await signOut();
}

async function askSignOut() {
  const waiting = app.outbox ? (await app.outbox.items()).length : 0;
  if (!waiting) return signOut();
  $("sow-text").textContent =
    `${waiting} record${waiting === 1 ? " has" : "s have"} not reached the server. They stay on this ` +
    "phone for your account only, and are sent the next time you sign in. Another user of this phone " +
    "cannot see or send them.";
  $("sign-out-warning").hidden = false;
  $("sow-stay").focus();
}

// Sign-out (or idle timeout): the refresh token and the cached patient data
// go; the outbox stays in this user's database for her next sign-in.
async function signOut() {
  $("sign-out-warning").hidden = true;
  const row = app.session || (await app.shared.get("session", "current"));
  if (row) await endSession(row);
  if (app.outbox) app.outbox.stop();
  if (app.store) app.store.close();
  Object.assign(app, { session: null, store: null, outbox: null, views: null });
  api.useSession(null, null);
  $("sign-out").hidden = true;
  $("attention").hidden = true;
  $("sync-count").textContent = "";
  show("v-signin");
}

async function endSession(row) {
  await app.shared.delete("session", "current");
  if (row.refresh_token) await api.revoke(row.refresh_token);
  const store = await db.open(db.userDbName(row.user.id));
  await store.clear("records");
  store.close();
}

// ------------------------------------------------------------ sync state

async function renderSync() {
  if (!app.outbox) return;
  const items = await app.outbox.items();
  $("sync-count").textContent = `${items.length} waiting to sync`;
  const stuck = items.filter((i) => i.status === "attention");
  $("attention").hidden = !stuck.length;
  $("attention-list").replaceChildren(...stuck.map(attentionCard));
  if (app.views) app.views.refresh(items.length);
}

function recordList(record) {
  const rows = Object.entries(record || {}).filter(([, v]) => v !== null && typeof v !== "object");
  return h("dl", { class: "record" }, rows.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: String(v) })]));
}

function attentionCard(item) {
  const p = item.problem || {};
  const card = h("article", { class: "card" }, h("h3", { text: `${item.label}: ${p.title || `error ${p.status}`}` }));
  const act = (text, choice, extra, cls) =>
    h("button", { type: "button", class: cls, text, onclick: () => app.outbox.resolve(item.seq, choice, extra) });
  if (p.status === 412) {
    card.append(h("p", { text: "Someone changed this record after this phone last saw it. The record as it is now:" }),
      recordList(p.current), act("Apply mine to the current version", "retry", { ifMatch: p.etag }),
      act("Keep the current version", "discard", {}, "quiet"));
  } else if (p.status === 409) {
    card.append(h("p", { text: p.detail || "The server already has a different record under this id:" }),
      recordList(p.stored), act("Keep the server's record", "discard", {}, "quiet"), act("Send mine again", "retry"));
  } else if (p.status === 422 && p.errors && item.body) {
    card.append(correctionForm(item, p));
  } else {
    card.append(h("p", { text: message(p) }), act("Send again", "retry"), discardButton(item));
  }
  return card;
}

// A 422: each refused field, its message, and inputs to correct it (one per
// member when the field is a group, such as the tissue percentages).
function correctionForm(item, problem) {
  const form = h("form", { class: "correction" }, h("p", { text: problem.detail || "The server refused some values:" }));
  const paths = [];
  for (const [name, texts] of Object.entries(problem.errors)) {
    form.append(h("p", { class: "error", text: `${name}: ${[].concat(texts).join(" ")}` }));
    const value = getPath(item.body, name);
    const members = value && typeof value === "object" ? Object.keys(value).map((k) => `${name}.${k}`) : [name];
    for (const path of members) {
      const id = `fix-${item.seq}-${paths.length}`;
      paths.push(path);
      form.append(h("div", { class: "field" }, h("label", { for: id, text: path }),
        h("input", { id, name: path, value: getPath(item.body, path) ?? "" })));
    }
  }
  form.append(h("button", { type: "submit", text: "Correct and send again" }), discardButton(item));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = structuredClone(item.body);
    for (const path of paths) {
      const raw = form.elements[path].value;
      const number = typeof getPath(item.body, path) === "number";
      setPath(body, path, number && raw !== "" ? Number(raw) : raw);
    }
    app.outbox.resolve(item.seq, "retry", { body });
  });
  return form;
}

function discardButton(item) {
  const button = h("button", { type: "button", class: "danger", text: "Discard this record" });
  button.addEventListener("click", () => {
    if (button.dataset.armed) return app.outbox.resolve(item.seq, "discard");
    button.dataset.armed = "1";
    button.textContent = "Press again to discard it for good";
  });
  return button;
}

boot();
