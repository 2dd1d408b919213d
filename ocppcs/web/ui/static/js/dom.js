// Small DOM and formatting helpers shared by every page.

/** Create an element: h("div", {class: "x", onclick: f}, child, "text", [more]). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replace the children of el. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A status badge: its class is the status in lower case. */
export function badge(text, kind) {
  const name = String(kind || text || "unknown").toLowerCase();
  return h("span", { class: `badge s-${name}` }, text ?? "—");
}

/** HH:MM:SS of an ISO time, in local time. */
export function clock(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleTimeString([], { hour12: false });
}

/** A date and time, local, to the second. */
export function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  return d.toLocaleString([], { hour12: false, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** "5s ago", "3m ago", "2h ago", "4d ago". */
export function ago(iso, now = Date.now()) {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((now - new Date(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** Wh as "1.23 kWh" (or "850 Wh"). */
export function energy(wh) {
  if (wh === null || wh === undefined || isNaN(wh)) return "—";
  return Math.abs(wh) >= 1000 ? `${(wh / 1000).toFixed(2)} kWh` : `${Math.round(wh)} Wh`;
}

/** W as "7.4 kW". */
export function power(w) {
  if (w === null || w === undefined || isNaN(w)) return "—";
  return Math.abs(w) >= 1000 ? `${(w / 1000).toFixed(1)} kW` : `${Math.round(w)} W`;
}

/** Save text as a download. */
export function download(name, text, type = "text/csv") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** One CSV line (RFC 4180 quoting). */
export function csvLine(values) {
  return values.map((v) => {
    const s = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  }).join(",") + "\r\n";
}

/** A labelled form field: label + control. */
export function field(label, control, hint) {
  const id = control.id || (control.id = `f${Math.random().toString(36).slice(2, 9)}`);
  return h("div", { class: "field" }, h("label", { for: id }, label), control,
    hint ? h("small", { class: "muted" }, hint) : null);
}

/** A card section with a heading. */
export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

/** A message in the page-wide toast area. */
export function toast(text, kind = "info") {
  let area = document.getElementById("toasts");
  if (!area) {
    area = h("div", { id: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(area);
  }
  const item = h("div", { class: `toast ${kind}` }, text);
  area.append(item);
  setTimeout(() => item.remove(), 5000);
}

/** "2026-01-01T10:00" in local time, for a datetime-local input. */
export function localInput(iso) {
  const d = iso ? new Date(iso) : new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The ISO UTC time of a datetime-local value read in local time (or in UTC when utc). */
export function fromLocalInput(value, utc = false) {
  if (!value) return null;
  const d = new Date(utc ? `${value}Z` : value);
  return isNaN(d) ? null : d.toISOString();
}
