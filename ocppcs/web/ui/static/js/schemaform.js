// Forms generated from the official OCPP 1.6 JSON schemas (draft-04), with
// validation in the browser before anything is sent.
import { h, fill, localInput } from "./dom.js";

const LOCAL_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
let counter = 0;
const uid = () => `sf${++counter}`;

/** The ISO-8601 UTC text of a datetime-local value in the given zone ("local" or "UTC"). */
export function toIso(value, zone) {
  if (!value) return null;
  const d = new Date(zone === "UTC" ? `${value}Z` : value);
  return isNaN(d) ? null : d.toISOString().replace(".000Z", "Z");
}

function errorSlot() {
  return h("span", { class: "error", role: "alert" });
}

function show(slot, control, message) {
  slot.textContent = message || "";
  if (control) {
    if (message) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  }
}

/**
 * Build the editor of one value. Returns {el, read()} where read() gives
 * {present, value, errors: [[path, message]]} and marks bad fields.
 */
function build(schema, name, path, required) {
  const label = `${name}${required ? " *" : ""}`;
  if (schema.type === "object") return buildObject(schema, name, path, required, label);
  if (schema.type === "array") return buildArray(schema, name, path, required, label);
  const id = uid();
  const slot = errorSlot();
  let control, zone;
  if (schema.enum) {
    control = h("select", { id, name: path },
      h("option", { value: "" }, required ? "— choose —" : "— not set —"),
      schema.enum.map((v) => h("option", { value: v }, v)));
  } else if (schema.type === "boolean") {
    control = h("select", { id, name: path }, h("option", { value: "" }, "— not set —"),
      h("option", { value: "true" }, "true"), h("option", { value: "false" }, "false"));
  } else if (schema.format === "date-time") {
    control = h("input", { id, name: path, type: "datetime-local", step: "1" });
    zone = h("select", { "aria-label": `${name}: time zone`, class: "zone" },
      h("option", { value: "local" }, LOCAL_ZONE), h("option", { value: "UTC" }, "UTC"));
  } else if (schema.type === "integer" || schema.type === "number") {
    control = h("input", { id, name: path, type: "number", step: schema.type === "integer" ? "1" : "any", inputmode: "decimal" });
  } else {
    control = h("input", { id, name: path, type: "text", autocomplete: "off" });
  }
  const hints = [];
  if (schema.maxLength) hints.push(`at most ${schema.maxLength} characters`);
  if (schema.format === "date-time") hints.push("date and time, in the zone chosen");
  if (schema.multipleOf) hints.push(`a multiple of ${schema.multipleOf}`);
  const el = h("div", { class: "field" }, h("label", { for: id }, label),
    zone ? h("span", { class: "with-zone" }, control, zone) : control,
    hints.length ? h("small", { class: "muted" }, hints.join("; ")) : null, slot);
  function read() {
    const raw = control.value.trim();
    const fail = (message) => { show(slot, control, message); return { present: true, value: undefined, errors: [[path, message]] }; };
    show(slot, control, "");
    if (raw === "") {
      if (control.validity && control.validity.badInput) return fail("not a valid value");
      return required ? fail("required") : { present: false, errors: [] };
    }
    if (schema.enum) return { present: true, value: raw, errors: [] };
    if (schema.type === "boolean") return { present: true, value: raw === "true", errors: [] };
    if (schema.format === "date-time") {
      const iso = toIso(raw, zone.value);
      return iso ? { present: true, value: iso, errors: [] } : fail("not a valid date and time");
    }
    if (schema.type === "integer" || schema.type === "number") {
      const n = Number(raw);
      if (!Number.isFinite(n)) return fail("must be a number");
      if (schema.type === "integer" && !Number.isInteger(n)) return fail("must be a whole number");
      if (schema.minimum !== undefined && n < schema.minimum) return fail(`must be at least ${schema.minimum}`);
      if (schema.maximum !== undefined && n > schema.maximum) return fail(`must be at most ${schema.maximum}`);
      if (schema.multipleOf) {
        const q = n / schema.multipleOf;
        if (Math.abs(q - Math.round(q)) > 1e-6) return fail(`must be a multiple of ${schema.multipleOf}`);
      }
      return { present: true, value: n, errors: [] };
    }
    if (schema.maxLength && raw.length > schema.maxLength) return fail(`at most ${schema.maxLength} characters (${raw.length} given)`);
    return { present: true, value: raw, errors: [] };
  }
  return { el, read, control };
}

function buildObject(schema, name, path, required, label) {
  const props = schema.properties || {};
  const need = new Set(schema.required || []);
  const children = Object.entries(props).map(([key, sub]) => build(sub, key, path ? `${path}.${key}` : key, need.has(key)));
  const body = h("div", { class: "fields" }, children.map((c) => c.el));
  if (!path) return { el: body, read: () => collect(children, Object.keys(props)), root: true };
  let include = null;
  const legend = h("legend", {}, label);
  if (!required) {
    include = h("input", { type: "checkbox", "aria-label": `include ${name}` });
    legend.prepend(h("label", { class: "inline" }, include, "include"), " ");
    body.hidden = true;
    include.addEventListener("change", () => { body.hidden = !include.checked; });
  }
  const el = h("fieldset", { class: "nested" }, legend, body);
  function read() {
    if (include && !include.checked) return { present: false, errors: [] };
    return collect(children, Object.keys(props));
  }
  return { el, read };
}

function collect(children, keys) {
  const value = {};
  const errors = [];
  children.forEach((c, i) => {
    const r = c.read();
    errors.push(...r.errors);
    if (r.present && r.value !== undefined) value[keys[i]] = r.value;
  });
  return { present: true, value, errors };
}

function buildArray(schema, name, path, required, label) {
  const items = schema.items || {};
  if (items.type !== "object") {
    // Simple values: one per line.
    const id = uid();
    const slot = errorSlot();
    const control = h("textarea", { id, name: path, rows: 3 });
    const el = h("div", { class: "field" }, h("label", { for: id }, label), control,
      h("small", { class: "muted" }, `one per line${items.maxLength ? `, each at most ${items.maxLength} characters` : ""}`), slot);
    const read = () => {
      show(slot, control, "");
      const lines = control.value.split("\n").map((s) => s.trim()).filter(Boolean);
      if (!lines.length) return required ? (show(slot, control, "required"), { present: true, errors: [[path, "required"]] }) : { present: false, errors: [] };
      const long = items.maxLength && lines.find((l) => l.length > items.maxLength);
      if (long) { const m = `“${long}” is longer than ${items.maxLength} characters`; show(slot, control, m); return { present: true, errors: [[path, m]] }; }
      const value = items.type === "integer" || items.type === "number" ? lines.map(Number) : lines;
      return { present: true, value, errors: [] };
    };
    return { el, read, control };
  }
  const list = h("div", { class: "array-items" });
  const rows = [];
  const slot = errorSlot();
  let n = 0;
  function add() {
    const item = build({ ...items, type: "object" }, `${name}[${n}]`, `${path}[${n}]`, true);
    n += 1;
    const remove = h("button", { type: "button", class: "small", onclick: () => { rows.splice(rows.indexOf(entry), 1); wrapper.remove(); } }, "Remove");
    const wrapper = h("fieldset", { class: "nested item" }, h("legend", {}, `${name} item `, remove), item.el.querySelector(".fields") || item.el);
    const entry = { read: item.read };
    rows.push(entry);
    list.append(wrapper);
  }
  const el = h("fieldset", { class: "nested array" }, h("legend", {}, label), list,
    h("button", { type: "button", class: "small", onclick: add }, `+ Add ${name} item`), slot);
  if (required) add();
  function read() {
    slot.textContent = "";
    if (!rows.length) {
      if (required) { slot.textContent = "add at least one item"; return { present: true, errors: [[path, "add at least one item"]] }; }
      return { present: false, errors: [] };
    }
    const value = [], errors = [];
    for (const r of rows) { const x = r.read(); errors.push(...x.errors); value.push(x.value); }
    return { present: true, value, errors };
  }
  return { el, read };
}

/**
 * A form for schema: onSubmit(payload) is called only when every field is valid;
 * otherwise the errors are shown beside the fields and in a summary.
 */
export function schemaForm(schema, onSubmit, { submitLabel = "Send" } = {}) {
  const root = build(schema, "", "", true);
  const summary = h("div", { class: "form-errors", role: "alert", "aria-live": "assertive" });
  const button = h("button", { type: "submit", class: "primary" }, submitLabel);
  const empty = !Object.keys(schema.properties || {}).length;
  const form = h("form", { class: "schema-form", novalidate: true },
    empty ? h("p", { class: "muted" }, "This command has no parameters.") : root.el, summary, h("div", { class: "actions" }, button));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const result = root.read();
    fill(summary);
    if (result.errors.length) {
      fill(summary, h("strong", {}, "Not sent: fix these first"),
        h("ul", {}, result.errors.map(([p, m]) => h("li", {}, `${p || "payload"}: ${m}`))));
      const bad = form.querySelector("[aria-invalid=true]");
      if (bad) bad.focus();
      return;
    }
    onSubmit(result.value, button);
  });
  return form;
}

export { localInput };
