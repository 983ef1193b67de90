// DOM helpers and the forms built from fields.js. Text always goes in as
// textContent, never as markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// A client id (UUID v4). crypto.randomUUID exists only in secure contexts; a
// phone trying the app over plain http on the local network has only
// getRandomValues.
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function setPath(target, path, value) {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== "object" || node[part] === null) node[part] = {};
    node = node[part];
  }
  node[parts.at(-1)] = value;
}

export function getPath(source, path) {
  return path.split(".").reduce((node, part) => (node == null ? undefined : node[part]), source);
}

const pad = (n) => String(n).padStart(2, "0");

export function localNow() {
  const d = new Date();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function today() {
  return localNow().slice(0, 10);
}

function control(field, id) {
  const common = { id, name: field.name, required: field.required || null };
  switch (field.type) {
    case "select":
      return h("select", common, h("option", { value: "", text: "Choose" }),
        field.options.map(([value, text]) => h("option", { value, text })));
    case "textarea":
      return h("textarea", { ...common, rows: 3 });
    case "checkbox":
    case "finding":
      return h("input", { ...common, type: "checkbox" });
    case "datetime":
      return h("input", { ...common, type: "datetime-local", value: localNow() });
    case "date":
      return h("input", { ...common, type: "date", max: today() });
    case "number":
      return h("input", {
        ...common, type: "number", inputmode: "decimal", min: field.min, max: field.max, step: field.step,
      });
    default:
      return h("input", { ...common, type: "text", autocomplete: "off" });
  }
}

// Inputs for ``fields`` inside ``form``; ids are prefixed so two forms can share names.
export function renderFields(form, fields, prefix) {
  form.dataset.prefix = prefix;
  const box = h("div", { class: "fields" });
  fields.forEach((field, i) => {
    const id = `${prefix}-${i}`;
    const input = control(field, id);
    const check = field.type === "checkbox" || field.type === "finding";
    const row = h("div", { class: check ? "field check" : "field", dataset: { name: field.name } },
      check ? [input, h("label", { for: id, text: field.label })] : [h("label", { for: id, text: field.label }), input]);
    if (field.when) row.dataset.when = field.when.join("=");
    box.append(row);
  });
  form.prepend(box);
  const sync = () => {
    for (const row of box.querySelectorAll("[data-when]")) {
      const [name, value] = row.dataset.when.split("=");
      const on = form.elements[name] && form.elements[name].value === value;
      row.hidden = !on;
    }
  };
  form.addEventListener("change", sync);
  sync();
}

// The API body from the inputs: empty inputs are left out, numbers are numbers,
// datetimes carry their offset, and findings set their value when ticked.
export function collect(form, fields) {
  const body = {};
  const prefix = form.dataset.prefix;
  fields.forEach((field, i) => {
    const own = form.querySelector(`#${prefix}-${i}`);
    if (!own || own.closest(".field").hidden) return;
    if (field.type === "finding") {
      if (own.checked) setPath(body, field.name, field.value);
    } else if (field.type === "checkbox") {
      setPath(body, field.name, own.checked);
    } else if (own.value !== "") {
      let value = own.value;
      if (field.type === "number") value = Number(value);
      if (field.type === "datetime") value = new Date(value).toISOString();
      setPath(body, field.name, value);
    }
  });
  return body;
}

export function message(problem) {
  if (!problem) return "";
  const errors = problem.errors || {};
  const lines = Object.entries(errors).map(([field, texts]) => `${field}: ${[].concat(texts).join(" ")}`);
  return [problem.detail || problem.title || `Error ${problem.status}`, ...lines].join("\n");
}
