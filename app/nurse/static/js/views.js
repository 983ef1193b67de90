// The screens: patients (find, register), a patient's wounds (pick, record),
// and a wound (photo, tracing, assessment, results, procedure, healing curve).
//
// Everything the nurse saves is written to this user's IndexedDB first (the
// "records" store, marked local) and queued in the outbox with a client id;
// the screens show the phone's copy, which the server's answer replaces once
// the record is sent. Lists are refreshed from the API whenever online.

import * as api from "./api.js";
import { StorageFull } from "./db.js";
import {
  ASSESSMENT_FIELDS, EXTRA_ASSESSMENT_FIELDS, PATIENT_FIELDS, PROCEDURE_FIELDS, WOUND_FIELDS,
} from "./fields.js";
import { collect, h, localNow, renderFields, uuid } from "./forms.js";
import { Tracer } from "./trace.js";

const $ = (id) => document.getElementById(id);
const ASSESSMENT = [...ASSESSMENT_FIELDS, ...EXTRA_ASSESSMENT_FIELDS];
let current = null; // the Views of the signed-in user; the DOM handlers call it

const etagOf = (data) => (data && data.version ? `"v${data.version}"` : null);
const ref = (type, id, parent) => ({ key: `${type}:${id}`, type, id, parent });
const fmt = (n, digits = 1) => (typeof n === "number" ? n.toFixed(digits) : "?");

function bindOnce() {
  renderFields($("f-patient"), PATIENT_FIELDS, "p");
  renderFields($("f-wound"), WOUND_FIELDS, "w");
  renderFields($("f-assessment"), ASSESSMENT, "a");
  renderFields($("f-procedure"), PROCEDURE_FIELDS, "r");
  const on = (id, type, method) => $(id).addEventListener(type, (e) => current && current[method](e));
  on("q", "input", "renderPatients");
  on("f-patient", "submit", "registerPatient");
  on("f-wound", "submit", "createWound");
  on("take-photo", "change", "photoChosen");
  on("pick-photo", "change", "photoChosen");
  on("trace-send", "click", "sendTracing");
  on("f-marker", "submit", "measureAgain");
  on("f-assessment", "submit", "saveAssessment");
  on("f-procedure", "submit", "saveProcedure");
  $("trace-undo").addEventListener("click", () => current && current.tracer.undo());
  $("trace-clear").addEventListener("click", () => current && current.tracer.clear());
  for (const button of document.querySelectorAll("[data-back]")) {
    button.addEventListener("click", () => current && current.back(button.dataset.back));
  }
}

export class Views {
  constructor(app, show) {
    if (!current) bindOnce();
    current = this;
    this.app = app;
    this.show = show;
    this.patient = null;
    this.wound = null;
    this.visit = {};
    this.stale = false;
    this.tracer = new Tracer($("trace"), () => this.renderWound());
  }

  get store() {
    return this.app.store;
  }

  get clinic() {
    return this.app.session.clinic;
  }

  // ------------------------------------------------------------- records

  async records(type, parent) {
    const all = await this.store.all("records");
    return all.filter((r) => r.type === type && (parent === undefined || r.parent === parent));
  }

  async keep(type, parent, items) {
    for (const data of items) {
      const key = `${type}:${data.id}`;
      const old = await this.store.get("records", key);
      if (old && old.local) continue; // the phone's copy is newer until the outbox sends it
      await this.store.put("records", { ...ref(type, data.id, parent), ...old, data, etag: etagOf(data), local: false });
    }
  }

  // Save on the phone, then queue. A full disk leaves the form as it was.
  async save(record, data, item, statusId) {
    const row = { ...record, data, etag: null, local: true };
    try {
      await this.store.put("records", row);
      await this.app.outbox.add({ kind: "json", record, ...item });
    } catch (error) {
      if (!(error instanceof StorageFull)) throw error;
      await this.store.delete("records", record.key).catch(() => {});
      $(statusId).textContent = "Not saved: this phone is out of storage space. The form keeps what you typed.";
      return false;
    }
    return true;
  }

  async fetchJson(path) {
    if (!navigator.onLine) return null;
    try {
      const r = await api.call("GET", path);
      return r.ok ? r.data : null;
    } catch {
      return null; // offline, or signed out: the phone's copy stands
    }
  }

  back(view) {
    if (view === "v-patients") return this.patients();
    return this.openPatient(this.patient);
  }

  refresh(waiting) {
    if (waiting === 0 && this.stale && this.wound && navigator.onLine) {
      this.stale = false;
      this.fetchWound();
    }
    if (!$("v-patients").hidden) this.renderPatients();
    if (!$("v-patient").hidden) this.renderWounds();
    if (!$("v-wound").hidden) this.renderWound();
  }

  // ------------------------------------------------------------ patients

  async patients() {
    $("clinic-name").textContent = this.clinic.name;
    this.show("v-patients");
    await this.renderPatients();
    const page = await this.fetchJson(`/api/v1/patients?clinic_id=${this.clinic.id}&limit=500`);
    if (page) {
      await this.keep("patient", this.clinic.id, page.items);
      await this.renderPatients();
    }
  }

  async renderPatients() {
    const q = $("q").value.trim().toLowerCase();
    const rows = (await this.records("patient", this.clinic.id))
      .filter(({ data: p }) => !q || `${p.mrn} ${p.given_name} ${p.family_name}`.toLowerCase().includes(q))
      .sort((a, b) => a.data.family_name.localeCompare(b.data.family_name));
    $("patient-list").replaceChildren(...rows.map((r) => h("li", {},
      h("button", { type: "button", onclick: () => this.openPatient(r) },
        `${r.data.family_name}, ${r.data.given_name}`, h("span", { class: "sub", text: ` MRN ${r.data.mrn}` }),
        r.local ? h("span", { class: "tag", text: "not sent yet" }) : null))));
    if (!rows.length) $("patient-list").append(h("li", { class: "note", text: q ? "No patient matches." : "No patients yet." }));
  }

  async registerPatient(event) {
    event.preventDefault();
    const body = { ...collect(event.target, PATIENT_FIELDS), id: uuid(), clinic_id: this.clinic.id };
    const record = ref("patient", body.id, this.clinic.id);
    const item = { method: "POST", url: "/api/v1/patients", body, label: `Patient ${body.mrn}` };
    if (!(await this.save(record, body, item, "clinic-name"))) return;
    event.target.reset();
    $("d-patient").open = false;
    await this.openPatient(await this.store.get("records", record.key));
  }

  // -------------------------------------------------------------- wounds

  async openPatient(record) {
    this.patient = record;
    const p = record.data;
    $("patient-title").textContent = `${p.family_name}, ${p.given_name} (MRN ${p.mrn})`;
    this.show("v-patient");
    await this.renderWounds();
    if (record.local) return; // not on the server yet
    const page = await this.fetchJson(`/api/v1/patients/${p.id}/wounds?limit=500`);
    if (page) {
      await this.keep("wound", p.id, page.items);
      await this.renderWounds();
    }
  }

  async renderWounds() {
    if (!this.patient) return;
    const rows = await this.records("wound", this.patient.id);
    $("wound-list").replaceChildren(...rows.map((r) => h("li", {},
      h("button", { type: "button", onclick: () => this.openWound(r) }, woundName(r.data),
        h("span", { class: "sub", text: ` ${r.data.status || "open"}, since ${r.data.onset_date}` }),
        r.local ? h("span", { class: "tag", text: "not sent yet" }) : null))));
    if (!rows.length) $("wound-list").append(h("li", { class: "note", text: "No wounds recorded." }));
  }

  async createWound(event) {
    event.preventDefault();
    const body = { ...collect(event.target, WOUND_FIELDS), id: uuid() };
    const record = ref("wound", body.id, this.patient.id);
    const url = `/api/v1/patients/${this.patient.id}/wounds`;
    if (!(await this.save(record, body, { method: "POST", url, body, label: "Wound" }, "patient-title"))) return;
    event.target.reset();
    $("d-wound").open = false;
    await this.openWound(await this.store.get("records", record.key));
  }

  // --------------------------------------------------------------- wound

  async openWound(record) {
    this.wound = record;
    this.visit = {};
    $("trace-box").hidden = true;
    $("curve").hidden = true;
    for (const id of ["photo-status", "trace-status", "procedure-status"]) $(id).textContent = "";
    $("f-assessment").elements.assessed_at.value = localNow();
    this.show("v-wound");
    await this.renderWound();
    await this.fetchWound();
  }

  async fetchWound() {
    const id = this.wound.id;
    const fresh = await this.store.get("records", this.wound.key);
    if (!fresh || fresh.local) return; // not on the server yet
    const [wound, assessments, trajectory, png] = await Promise.all([
      this.fetchJson(`/api/v1/wounds/${id}`),
      this.fetchJson(`/api/v1/wounds/${id}/assessments?limit=500`),
      this.fetchJson(`/api/v1/wounds/${id}/trajectory`),
      this.fetchJson(`/api/v1/wounds/${id}/trajectory.png?width=720&height=480`),
    ]);
    if (wound) await this.keep("wound", this.wound.parent, [wound]);
    if (assessments) await this.keep("assessment", id, assessments.items);
    if (trajectory && png instanceof Blob) {
      await this.store.put("records", { ...ref("curve", id, id), data: trajectory, png, at: Date.now() });
    }
    if (this.wound && this.wound.id === id) await this.renderWound();
  }

  async renderWound() {
    if (!this.wound) return;
    const wound = (await this.store.get("records", this.wound.key)) || this.wound;
    $("wound-title").textContent = woundName(wound.data);
    $("wound-status").textContent = wound.local
      ? "Recorded on this phone; not sent yet."
      : `Status: ${wound.data.status}${wound.data.in_skin_fold ? ", in a skin fold" : ""}.`;
    await this.renderPhoto();
    await this.renderResults();
    await this.renderCurve();
  }

  async renderPhoto() {
    const id = this.visit.photoId;
    if (!id) return;
    const photo = await this.store.get("records", `photo:${id}`);
    const d = photo && !photo.local ? photo.data : null;
    if (!d) {
      $("photo-status").textContent = "Photo saved on this phone. The marker is looked for when it is sent.";
    } else if (d.marker_detection && d.marker_detection.found) {
      $("photo-status").textContent =
        `Marker found: ${fmt(d.calibration.px_per_cm)} pixels per cm (${d.marker_detection.marker_size_cm} cm marker).`;
    } else {
      $("photo-status").textContent = `No marker found. ${(d.marker_detection && d.marker_detection.reason) || ""}`;
    }
    let trace = this.tracer.strokes.length ? "Not saved yet." : "";
    if (this.visit.traced) trace = "Tracing saved on this phone; the area is measured when it is sent.";
    if (this.visit.traced && d && d.tracing) trace = `Traced area: ${fmt(d.tracing.area_cm2, 2)} cm².`;
    $("trace-status").textContent = trace;
  }

  async renderResults() {
    const rows = (await this.records("assessment", this.wound.id))
      .sort((a, b) => String(b.data.assessed_at).localeCompare(String(a.data.assessed_at)));
    const latest = rows[0];
    if (!latest) return $("results").replaceChildren();
    const a = latest.data;
    if (latest.local) {
      return $("results").replaceChildren(h("p", {
        text: "Assessment saved on this phone. Grades, PUSH and the area appear once it is sent.",
      }));
    }
    const grade = (g) => (g && g.value !== null && g.value !== undefined ? String(g.value) : "not graded");
    const lines = [
      ["CTCAE radiation dermatitis grade", grade(a.ctcae_grade)],
      ["RTOG acute skin grade", grade(a.rtog_grade)],
      ["PUSH score", a.push ? String(a.push.total) : "needs length, width, exudate and tissue"],
      ["Area", a.area_cm2 === null || a.area_cm2 === undefined ? "not measured" : `${fmt(a.area_cm2, 2)} cm² (${a.area_method})`],
    ];
    const curve = await this.store.get("records", `curve:${this.wound.id}`);
    if (curve) lines.push(["Healing", curve.data.status.replaceAll("_", " ")]);
    $("results").replaceChildren(h("h3", { text: "Latest assessment" }),
      h("dl", {}, lines.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])));
  }

  // The server's chart, drawn on a canvas: the pages' CSP allows no inline
  // styles (which an SVG chart has) and no blob: images.
  async renderCurve() {
    const curve = await this.store.get("records", `curve:${this.wound.id}`);
    const canvas = $("curve");
    if (!curve) {
      canvas.hidden = true;
      $("trajectory-status").textContent = navigator.onLine
        ? "The healing curve appears once the wound has assessments on the server."
        : "The healing curve is drawn by the server: it appears when online.";
      return;
    }
    const status = curve.data.status.replaceAll("_", " ");
    $("trajectory-status").textContent = `Healing: ${status}. ${curve.data.rule || ""}`;
    canvas.setAttribute("aria-label", `Healing curve: wound area over time. Healing: ${status}.`);
    if (canvas.dataset.at === String(curve.at)) return;
    const bitmap = await createImageBitmap(curve.png);
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    canvas.getContext("2d").drawImage(bitmap, 0, 0);
    canvas.dataset.at = String(curve.at);
    canvas.hidden = false;
  }

  async photoChosen(event) {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    const max = this.app.maxBytes;
    if (file.size > max) {
      $("photo-status").textContent =
        `This photo is ${(file.size / 1048576).toFixed(1)} MB; the server takes at most ${(max / 1048576).toFixed(0)} MB. Take it again at a lower resolution.`;
      return;
    }
    const id = uuid();
    const record = ref("photo", id, this.wound.id);
    try {
      await this.store.put("records", { ...record, data: { id, wound_id: this.wound.id }, local: true });
      await this.app.outbox.add({ kind: "photo", blob: file, meta: { wound_id: this.wound.id, id }, label: "Photo", record });
    } catch (error) {
      if (!(error instanceof StorageFull)) throw error;
      $("photo-status").textContent = "Not saved: this phone is out of storage space.";
      return;
    }
    this.visit = { photoId: id };
    this.stale = true;
    await this.tracer.show(file);
    $("trace-box").hidden = false;
    await this.renderWound();
  }

  async queue(item, statusId) {
    try {
      await this.app.outbox.add({ kind: "json", ...item });
      this.stale = true;
      return true;
    } catch (error) {
      if (!(error instanceof StorageFull)) throw error;
      $(statusId).textContent = "Not saved: this phone is out of storage space.";
      return false;
    }
  }

  async sendTracing() {
    const points = this.tracer.points();
    if (points.length < 3) {
      $("trace-status").textContent = "Draw around the wound edge first.";
      return;
    }
    const id = this.visit.photoId;
    const item = { method: "PUT", url: `/api/v1/photos/${id}/tracing`, body: { points }, label: "Tracing", record: ref("photo", id, this.wound.id) };
    if (await this.queue(item, "trace-status")) this.visit.traced = true;
    await this.renderWound();
  }

  async measureAgain(event) {
    event.preventDefault();
    const id = this.visit.photoId;
    const body = { marker_size_cm: Number(event.target.elements.marker_size_cm.value) };
    const item = {
      method: "POST", url: `/api/v1/photos/${id}/calibration`, body, label: "Marker size",
      if_match_from: `photo:${id}`, record: ref("photo", id, this.wound.id),
    };
    if (await this.queue(item, "trace-status")) $("photo-status").textContent = "The photo is measured again with that marker size when it is sent.";
  }

  async saveAssessment(event) {
    event.preventDefault();
    const body = { ...collect(event.target, ASSESSMENT), id: uuid() };
    const record = ref("assessment", body.id, this.wound.id);
    const item = { method: "POST", url: `/api/v1/wounds/${this.wound.id}/assessments`, body, label: "Assessment" };
    if (!(await this.save(record, body, item, "results"))) return;
    const photo = this.visit.photoId;
    if (photo && !this.visit.linked) {
      // The photo documents this assessment: its tracing gives the area, and
      // the assessment's time becomes the photo's (it has none of its own).
      this.visit.linked = await this.queue({
        method: "PATCH", url: `/api/v1/photos/${photo}`, body: { assessment_id: body.id }, label: "Photo link",
        if_match_from: `photo:${photo}`, record: ref("photo", photo, this.wound.id),
      }, "results");
    }
    this.stale = true;
    event.target.reset();
    event.target.elements.assessed_at.value = localNow();
    await this.renderWound();
  }

  async saveProcedure(event) {
    event.preventDefault();
    const body = { ...collect(event.target, PROCEDURE_FIELDS), id: uuid() };
    const record = ref("procedure", body.id, this.wound.id);
    const item = { method: "POST", url: `/api/v1/wounds/${this.wound.id}/procedures`, body, label: "Procedure" };
    if (!(await this.save(record, body, item, "procedure-status"))) return;
    this.stale = true;
    event.target.reset();
    $("d-procedure").open = false;
    $("procedure-status").textContent = `Procedure (${body.kind}) saved.`;
  }
}

function woundName(w) {
  const side = w.laterality && w.laterality !== "none" ? `${w.laterality} ` : "";
  return `${side}${w.body_site} (${String(w.etiology || "").replaceAll("_", " ")})`;
}
