// The live log: every frame in and out (GET /api/v1/Log, then /ws/log), with
// filters, pause and CSV export. logView() is also the station page's log.
import { h, fill, csvLine, download } from "../dom.js";
import { state, subscribe } from "../state.js";

const SHOW = 300;

function time(ts) {
  const d = new Date(ts);
  return isNaN(d) ? ts : d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

function entry(f) {
  const payload = JSON.stringify(f.payload ?? f.raw ?? null);
  const detail = h("pre", { class: "json", hidden: true }, JSON.stringify(f.payload ?? f.raw ?? null, null, 2));
  const toggle = h("button", { type: "button", class: "small", "aria-expanded": "false",
    onclick: () => { detail.hidden = !detail.hidden; toggle.setAttribute("aria-expanded", !detail.hidden); } }, "JSON");
  return h("li", { class: `frame ${f.direction}`, dataset: { action: f.action || "", identity: f.identity } },
    h("span", { class: "ts mono" }, time(f.ts)),
    h("a", { class: "who", href: `#/station/${encodeURIComponent(f.identity)}` }, f.identity),
    h("span", { class: "dir", title: f.direction === "in" ? "from the station" : "to the station" }, f.direction === "in" ? "CP→CS" : "CS→CP"),
    h("span", { class: `type t-${(f.messageType || "").toLowerCase()}` }, f.messageType),
    h("span", { class: "action" }, f.action || "—"),
    h("code", { class: "preview" }, payload.length > 140 ? payload.slice(0, 140) + "…" : payload),
    toggle, detail);
}

/** A filtered live view of state.frames. */
export function logView({ identity = null, compact = false } = {}) {
  const f = { identity: identity || "", action: "", direction: "", text: "" };
  let paused = false, held = 0;
  const list = h("ol", { class: "log", "aria-label": "Frames, newest first" });
  const count = h("span", { class: "muted", "aria-live": "polite" });
  const pauseBtn = h("button", { type: "button", "aria-pressed": "false", onclick: () => {
    paused = !paused;
    pauseBtn.setAttribute("aria-pressed", paused);
    pauseBtn.textContent = paused ? "Resume" : "Pause";
    if (!paused) draw();
  } }, "Pause");
  const input = (key, label, attrs = {}) => h("label", { class: "inline" }, label,
    h("input", { type: "search", value: f[key], ...attrs, oninput: (e) => { f[key] = e.target.value.trim(); draw(); } }));
  const dir = h("select", { onchange: (e) => { f.direction = e.target.value; draw(); } },
    h("option", { value: "" }, "both"), h("option", { value: "in" }, "CP→CS (in)"), h("option", { value: "out" }, "CS→CP (out)"));
  const matches = (x) => (!f.identity || x.identity === f.identity || (!identity && x.identity.toLowerCase().includes(f.identity.toLowerCase())))
    && (!f.action || (x.action || "").toLowerCase().includes(f.action.toLowerCase()))
    && (!f.direction || x.direction === f.direction)
    && (!f.text || JSON.stringify(x).toLowerCase().includes(f.text.toLowerCase()));
  function draw() {
    held = 0;
    const shown = state.frames.filter(matches);
    fill(list, shown.length ? shown.slice(0, SHOW).map(entry) : h("li", { class: "empty" }, "Waiting for OCPP messages…"));
    count.textContent = `${shown.length} frames${shown.length > SHOW ? ` (newest ${SHOW} shown)` : ""}`;
  }
  function exportCsv() {
    let text = csvLine(["Timestamp", "Identity", "Direction", "MessageType", "UniqueId", "Action", "Payload"]);
    for (const x of state.frames.filter(matches)) {
      text += csvLine([x.ts, x.identity, x.direction, x.messageType, x.uniqueId, x.action, x.payload ?? x.raw]);
    }
    download(`ocpp-log-${new Date().toISOString().replace(/[:.]/g, "-")}.csv`, text);
  }
  const el = h("div", { class: `log-view${compact ? " compact" : ""}` },
    h("div", { class: "toolbar" },
      identity ? null : input("identity", "Station "),
      input("action", "Action "),
      h("label", { class: "inline" }, "Direction ", dir),
      input("text", "Text "),
      pauseBtn,
      h("button", { type: "button", onclick: exportCsv }, "Export CSV"),
      count),
    list);
  draw();
  const unsubscribe = subscribe((kind, frame) => {
    if (kind !== "frame") return;
    if (paused) { held += 1; count.textContent = `paused: ${held} new frames held`; return; }
    if (frame && !matches(frame)) return;
    if (frame && list.firstChild && !list.firstChild.classList.contains("empty")) {
      list.prepend(entry(frame));
      while (list.children.length > SHOW) list.lastChild.remove();
      count.textContent = `${state.frames.filter(matches).length} frames`;
    } else draw();
  });
  // Unsubscribe once the view leaves the page.
  const watch = new MutationObserver(() => { if (!el.isConnected) { unsubscribe(); watch.disconnect(); } });
  setTimeout(() => watch.observe(document.getElementById("main"), { childList: true }), 0);
  return el;
}

export function render(main) {
  fill(main, h("h1", {}, "Live OCPP log"), h("section", { class: "card" }, logView()));
}
